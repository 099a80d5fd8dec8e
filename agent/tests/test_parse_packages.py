"""Package inventory parsers: dpkg-query, apt-get -s upgrade, rpm -qa, dnf check-update."""

from __future__ import annotations

import pytest

from leitstand_agent.collect import (
    parse_apt_simulation,
    parse_dnf_check_update,
    parse_dpkg_query,
    parse_rpm_query,
)

DPKG = (
    "ii \tbash\t5.2.15-2+b2\n"
    "ii \topenssl\t3.0.15-1~deb12u1\n"
    "rc \told-kernel-image\t6.1.0-9\n"  # removed, configuration left: not installed
    "iU \thalf-configured\t1.0\n"  # unpacked, not configured: not cleanly installed
    "ii \tlibc6\t2.36-9+deb12u9\n"
    "ii \tlibc6\t2.36-9+deb12u9\n"  # multi-arch: amd64 and i386 print the same line
    "garbage line\n"
)

APT_SIM = """\
Reading package lists...
Building dependency tree...
Reading state information...
Calculating upgrade...
The following packages will be upgraded:
  libssl3 openssl
2 upgraded, 0 newly installed, 0 to remove and 0 not upgraded.
Inst libssl3 [3.0.15-1~deb12u1] (3.0.16-1~deb12u1 Debian-Security:12/stable-security [amd64])
Inst openssl [3.0.15-1~deb12u1] (3.0.16-1~deb12u1 Debian-Security:12/stable-security [amd64])
Inst linux-image-6.1.0-30-amd64 (6.1.124-1 Debian:12.9/stable [amd64])
Conf libssl3 (3.0.16-1~deb12u1 Debian-Security:12/stable-security [amd64])
Conf openssl (3.0.16-1~deb12u1 Debian-Security:12/stable-security [amd64])
"""

RPM = (
    "bash\t(none)\t5.1.8-9.el9\n"
    "openssl\t1\t3.0.7-27.el9\n"
    "gpg-pubkey\t(none)\t8483c65d-5ccc5b19\n"
    "\t\t\n"
)

DNF = """\

openssl.x86_64                      1:3.0.7-28.el9_4                    baseos
kernel.x86_64                       5.14.0-427.13.1.el9_4               baseos
python3-libs.x86_64                 3.9.18-3.el9_4.3                    baseos
Obsoleting Packages
grub2-tools.x86_64                  1:2.06-77.el9                       baseos
    grub2-tools.x86_64              1:2.06-70.el9                       @anaconda
"""


def test_parse_dpkg_query_keeps_installed_only() -> None:
    assert parse_dpkg_query(DPKG) == [
        ["bash", "5.2.15-2+b2"],
        ["libc6", "2.36-9+deb12u9"],
        ["openssl", "3.0.15-1~deb12u1"],
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(
            APT_SIM,
            [
                ["libssl3", "3.0.15-1~deb12u1", "3.0.16-1~deb12u1"],
                ["linux-image-6.1.0-30-amd64", "", "6.1.124-1"],
                ["openssl", "3.0.15-1~deb12u1", "3.0.16-1~deb12u1"],
            ],
            id="upgrades-and-a-new-package",
        ),
        pytest.param(
            "Reading package lists...\n0 upgraded, 0 newly installed, 0 to remove and 0 not upgraded.\n",
            [],
            id="up-to-date",
        ),
    ],
)
def test_parse_apt_simulation(text: str, expected: list[list[str]]) -> None:
    assert parse_apt_simulation(text) == expected


def test_parse_rpm_query_adds_epoch_when_set() -> None:
    assert parse_rpm_query(RPM) == [
        ["bash", "5.1.8-9.el9"],
        ["gpg-pubkey", "8483c65d-5ccc5b19"],
        ["openssl", "1:3.0.7-27.el9"],
    ]


def test_parse_dnf_check_update_stops_at_obsoletes() -> None:
    installed = [["openssl", "1:3.0.7-27.el9"], ["kernel", "5.14.0-362.el9"]]
    assert parse_dnf_check_update(DNF, installed) == [
        ["kernel", "5.14.0-362.el9", "5.14.0-427.13.1.el9_4"],
        ["openssl", "1:3.0.7-27.el9", "1:3.0.7-28.el9_4"],
        ["python3-libs", "", "3.9.18-3.el9_4.3"],
    ]


def test_parse_dnf_check_update_nothing_pending() -> None:
    assert parse_dnf_check_update("", []) == []
