"""Client TLS contexts are made once per setting and shared by every run."""

from __future__ import annotations

import ssl

from tests.monitoring.checks.conftest import Pki

from leitstand.monitoring.checks.base import client_ssl_context


def test_one_context_per_setting(pki: Pki) -> None:
    system = client_ssl_context(verify=True, ca_certificate=None)
    private = client_ssl_context(verify=True, ca_certificate=pki.ca_pem)
    unverified = client_ssl_context(verify=False, ca_certificate=None)
    assert client_ssl_context(verify=True, ca_certificate=None) is system
    assert client_ssl_context(verify=True, ca_certificate=pki.ca_pem) is private
    assert client_ssl_context(verify=False, ca_certificate=None) is unverified
    assert len({id(system), id(private), id(unverified)}) == 3


def test_what_each_context_verifies(pki: Pki) -> None:
    private = client_ssl_context(verify=True, ca_certificate=pki.ca_pem)
    assert (private.verify_mode, private.check_hostname) == (ssl.CERT_REQUIRED, True)
    # only the customer's CA, not the system's
    assert len(private.get_ca_certs()) == 1
    unverified = client_ssl_context(verify=False, ca_certificate=None)
    assert (unverified.verify_mode, unverified.check_hostname) == (ssl.CERT_NONE, False)
    system = client_ssl_context(verify=True, ca_certificate=None)
    assert (system.verify_mode, system.check_hostname) == (ssl.CERT_REQUIRED, True)
