"""Parameter readers: each bad value is refused with a message naming the field."""

from __future__ import annotations

from typing import Any

import pytest
from tests.monitoring.checks.conftest import Pki

from leitstand.monitoring.checks import ParamsError, fields


def test_only_accepts_known_keys() -> None:
    raw = {"host": "a"}
    assert fields.only(raw, ["host", "port"]) is raw


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ([], "parameters must be a JSON object"),
        ("host=a", "parameters must be a JSON object"),
        ({"hots": "a"}, "unknown parameter 'hots'; expected some of: host, port"),
    ],
)
def test_only_refuses(raw: Any, message: str) -> None:
    with pytest.raises(ParamsError) as info:
        fields.only(raw, ["port", "host"])
    assert str(info.value) == message


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ({"host": "db.example"}, "db.example"),
        ({"host": " 192.0.2.1 "}, "192.0.2.1"),
        ({"host": "2001:db8::1"}, "2001:db8::1"),
    ],
)
def test_host(raw: dict[str, Any], expected: str) -> None:
    assert fields.host(raw) == expected


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({}, "host: required"),
        ({"host": None}, "host: required"),
        ({"host": ""}, "host: must be a non-empty string"),
        ({"host": 7}, "host: must be a non-empty string"),
        ({"host": "db example"}, "host: 'db example' is not a host name or IP address"),
        (
            {"host": "http://db.example/"},
            "host: 'http://db.example/' is not a host name or IP address",
        ),
    ],
)
def test_host_refuses(raw: dict[str, Any], message: str) -> None:
    with pytest.raises(ParamsError) as info:
        fields.host(raw)
    assert str(info.value) == message


@pytest.mark.parametrize(
    ("raw", "default", "expected"),
    [
        ({}, 25, 25),
        ({"port": 587}, 25, 587),
        ({"port": 1}, None, 1),
        ({"port": 65535}, None, 65535),
    ],
)
def test_port(raw: dict[str, Any], default: int | None, expected: int) -> None:
    assert fields.port(raw, default) == expected


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({}, "port: required"),
        ({"port": 0}, "port: must be between 1 and 65535, got 0"),
        ({"port": 65536}, "port: must be between 1 and 65535, got 65536"),
        ({"port": "22"}, "port: must be an integer"),
        ({"port": 22.0}, "port: must be an integer"),
        ({"port": True}, "port: must be an integer"),
    ],
)
def test_port_refuses(raw: dict[str, Any], message: str) -> None:
    with pytest.raises(ParamsError) as info:
        fields.port(raw, None)
    assert str(info.value) == message


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ({}, (None, None)),
        ({"latency_warning_s": 1}, (1.0, None)),
        ({"latency_critical_s": 2.5}, (None, 2.5)),
        ({"latency_warning_s": 2, "latency_critical_s": 2}, (2.0, 2.0)),
    ],
)
def test_latency_thresholds(
    raw: dict[str, Any], expected: tuple[float | None, float | None]
) -> None:
    assert fields.latency_thresholds(raw) == expected


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"latency_warning_s": 0}, "latency_warning_s: must be greater than 0, got 0"),
        ({"latency_critical_s": -1}, "latency_critical_s: must be greater than 0, got -1"),
        ({"latency_warning_s": "1s"}, "latency_warning_s: must be a number of seconds"),
        ({"latency_warning_s": False}, "latency_warning_s: must be a number of seconds"),
        (
            {"latency_warning_s": 3, "latency_critical_s": 2},
            "latency_warning_s: must not be greater than latency_critical_s",
        ),
    ],
)
def test_latency_thresholds_refuse(raw: dict[str, Any], message: str) -> None:
    with pytest.raises(ParamsError) as info:
        fields.latency_thresholds(raw)
    assert str(info.value) == message


@pytest.mark.parametrize(
    ("raw", "expected"), [({}, True), ({"x": False}, False), ({"x": None}, True)]
)
def test_boolean(raw: dict[str, Any], expected: bool) -> None:
    assert fields.boolean(raw, "x", default=True) is expected


@pytest.mark.parametrize("value", ["yes", 1, 0, "false"])
def test_boolean_refuses(value: object) -> None:
    with pytest.raises(ParamsError, match=r"^x: must be true or false$"):
        fields.boolean({"x": value}, "x", default=True)


def test_ca_certificate(pki: Pki) -> None:
    assert fields.ca_certificate({}) is None
    assert fields.ca_certificate({"ca_certificate": pki.ca_pem}) == pki.ca_pem


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("my-ca", "ca_certificate: must be a PEM certificate (-----BEGIN CERTIFICATE-----)"),
        (
            "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n",
            "ca_certificate: not a valid PEM certificate",
        ),
        (42, "ca_certificate: must be a non-empty string"),
    ],
)
def test_ca_certificate_refuses(value: object, message: str) -> None:
    with pytest.raises(ParamsError) as info:
        fields.ca_certificate({"ca_certificate": value})
    assert str(info.value) == message


@pytest.mark.parametrize(
    ("raw", "expected"),
    [({}, None), ({"sni": None}, None), ({"sni": " www.example.com "}, "www.example.com")],
)
def test_optional_host(raw: dict[str, Any], expected: str | None) -> None:
    assert fields.optional_host(raw, "sni") == expected


@pytest.mark.parametrize("value", ["a b", "a\tb", "a\x00b", "user@host"])
def test_optional_host_refuses(value: str) -> None:
    with pytest.raises(ParamsError, match=r"^sni: .* is not a host name or IP address$"):
        fields.optional_host({"sni": value}, "sni")
