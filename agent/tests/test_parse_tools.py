"""Pure parsers of smartctl, systemctl and postqueue output: tables of real output."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from leitstand_agent.collect import (
    count_accounts,
    parse_count,
    parse_failed_units,
    parse_postqueue,
    parse_smartctl,
)

SMART_SATA_OK = {
    "json_format_version": [1, 0],
    "smartctl": {"version": [7, 3], "exit_status": 0},
    "device": {"name": "/dev/sda", "info_name": "/dev/sda [SAT]", "type": "sat", "protocol": "ATA"},
    "model_name": "Samsung SSD 870 EVO 1TB",
    "serial_number": "S6P",
    "smart_status": {"passed": True},
}
SMART_NVME_FAILED = {
    "smartctl": {"exit_status": 8},
    "device": {"name": "/dev/nvme0", "type": "nvme", "protocol": "NVMe"},
    "model_name": "INTEL SSDPE2KX010T8",
    "smart_status": {"passed": False, "nvme": {"value": 4}},
}
SMART_VIRTUAL = {
    "smartctl": {
        "exit_status": 2,
        "messages": [{"string": "/dev/vda: Unable to detect device type", "severity": "error"}],
    },
    "device": {"name": "/dev/vda"},
}


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        pytest.param(
            SMART_SATA_OK,
            {"device": "/dev/sda", "passed": True, "model": "Samsung SSD 870 EVO 1TB"},
            id="sata-ok",
        ),
        pytest.param(
            SMART_NVME_FAILED,
            {"device": "/dev/nvme0", "passed": False, "model": "INTEL SSDPE2KX010T8"},
            id="nvme-failed",
        ),
        pytest.param(
            {"device": {"name": "/dev/sdb"}, "smart_status": {"passed": True}},
            {"device": "/dev/sdb", "passed": True, "model": ""},
            id="no-model",
        ),
    ],
)
def test_parse_smartctl(data: dict[str, Any], expected: dict[str, Any]) -> None:
    assert parse_smartctl(json.dumps(data)) == expected


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(SMART_VIRTUAL, id="virtual-disk-open-failed"),
        pytest.param(
            {"device": {"name": "/dev/sdc"}, "smart_support": {"available": False}},
            id="no-smart-support",
        ),
    ],
)
def test_parse_smartctl_no_smart_device(data: dict[str, Any]) -> None:
    assert parse_smartctl(json.dumps(data)) is None


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param(
            json.dumps(
                {
                    "smartctl": {
                        "exit_status": 4,
                        "messages": [{"string": "SMART command failed"}],
                    },
                    "device": {"name": "/dev/sdb"},
                }
            ),
            "/dev/sdb: no SMART health status (SMART command failed)",
            id="command-failed",
        ),
        pytest.param("smartctl: command line error", "not JSON", id="not-json"),
        pytest.param("[]", "not a JSON object", id="not-object"),
        pytest.param(
            '{"smart_status": {"passed": "yes"}}', "no SMART health status", id="passed-not-bool"
        ),
    ],
)
def test_parse_smartctl_refuses(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        parse_smartctl(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("[]", [], id="none"),
        pytest.param(
            '[{"unit":"nginx.service","load":"loaded","active":"failed","sub":"failed","description":"nginx"},'
            '{"unit":"backup.timer","load":"loaded","active":"failed","sub":"failed","description":"x"}]',
            ["backup.timer", "nginx.service"],
            id="two-sorted",
        ),
    ],
)
def test_parse_failed_units(text: str, expected: list[str]) -> None:
    assert parse_failed_units(text) == expected


@pytest.mark.parametrize("text", ["", "Failed to connect to bus", "{}"])
def test_parse_failed_units_refuses(text: str) -> None:
    with pytest.raises(ValueError, match="systemctl output"):
        parse_failed_units(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("", 0, id="empty-queue"),
        pytest.param(
            '{"queue_name": "deferred", "queue_id": "4F2A81", "arrival_time": 1700000000, "message_size": 1234, "sender": "a@b", "recipients": [{"address": "c@d"}]}\n'
            '{"queue_name": "active", "queue_id": "5A1B22", "arrival_time": 1700000001, "message_size": 99, "sender": "", "recipients": []}\n',
            2,
            id="two-messages",
        ),
    ],
)
def test_parse_postqueue(text: str, expected: int) -> None:
    assert parse_postqueue(text) == expected


def test_parse_postqueue_refuses_garbage() -> None:
    with pytest.raises(ValueError, match="Expecting value"):
        parse_postqueue("postqueue: fatal: Queue report unavailable - mail system is down\n")


PASSWD = """\
root:x:0:0:root:/root:/bin/bash
daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin
www-data:x:33:33:www-data:/var/www:/usr/sbin/nologin
postgres:x:108:115:PostgreSQL administrator:/var/lib/postgresql:/bin/bash
anna:x:1000:1000:Anna,,,:/home/anna:/bin/bash
jonas:x:1001:1001::/home/jonas:/usr/bin/zsh
shop:x:1002:1002::/srv/shop:/usr/sbin/nologin
backup-only:x:1003:1003::/home/b:/bin/false
nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin
ghost:x:1004:1004::/home/ghost:
broken line without fields
sftp:x:2000:2000::/srv/sftp:/bin/sh
"""


@pytest.mark.parametrize(
    ("min_uid", "expected"),
    [
        (1000, 3),  # anna, jonas, sftp: daemons, nologin/false, no shell and nobody do not count
        (2000, 1),
        (0, 5),  # root and postgres have shells too
    ],
)
def test_count_accounts(min_uid: int, expected: int) -> None:
    assert count_accounts(PASSWD, min_uid) == expected


@pytest.mark.parametrize(("text", "expected"), [("23\n", 23), ("  0 ", 0), ("7", 7)])
def test_parse_count(text: str, expected: int) -> None:
    assert parse_count(text) == expected


@pytest.mark.parametrize("text", ["", "twelve", "-3", "1.5", "12 users", "1\n2\n"])
def test_parse_count_refuses(text: str) -> None:
    with pytest.raises(ValueError, match="expected one whole number"):
        parse_count(text)
