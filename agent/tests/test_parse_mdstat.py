"""parse_mdstat: software RAID state from /proc/mdstat, one table row per case."""

from __future__ import annotations

from typing import Any

import pytest

from leitstand_agent.collect import parse_mdstat

HEALTHY = """\
Personalities : [raid1] [linear] [multipath] [raid0] [raid6] [raid5] [raid4] [raid10]
md0 : active raid1 sdb1[1] sda1[0]
      1047552 blocks super 1.2 [2/2] [UU]

md1 : active raid1 sdb2[1] sda2[0]
      976630464 blocks super 1.2 [2/2] [UU]
      bitmap: 2/8 pages [8KB], 65536KB chunk

unused devices: <none>
"""

DEGRADED = """\
Personalities : [raid1]
md0 : active raid1 sda1[0] sdb1[1](F)
      1047552 blocks super 1.2 [2/1] [U_]

unused devices: <none>
"""

RECOVERY = """\
Personalities : [raid1]
md1 : active raid1 sdc2[2] sda2[0]
      976630464 blocks super 1.2 [2/1] [U_]
      [=>...................]  recovery =  8.5% (83078784/976630464) finish=79.6min speed=187020K/sec
      bitmap: 8/8 pages [32KB], 65536KB chunk

unused devices: <none>
"""

RESYNC_RAID5 = """\
Personalities : [raid6] [raid5] [raid4]
md2 : active raid5 sdd1[3] sdc1[2] sdb1[1] sda1[0]
      2929893888 blocks super 1.2 level 5, 512k chunk, algorithm 2 [4/4] [UUUU]
      [==>..................]  resync = 12.1% (118229888/976631296) finish=70.2min speed=203656K/sec

unused devices: <none>
"""

PENDING_AUTO_READ_ONLY = """\
Personalities : [raid1]
md127 : active (auto-read-only) raid1 sdb[1] sda[0]
      1953382464 blocks super 1.2 [2/2] [UU]
        resync=PENDING

unused devices: <none>
"""

INACTIVE = """\
Personalities :
md127 : inactive sdb[0](S)
      976762584 blocks super external:imsm

unused devices: <none>
"""

RAID10_TWO_MISSING = """\
md3 : active raid10 sdd1[3] sda1[0]
      1953260544 blocks super 1.2 512K chunks 2 near-copies [4/2] [U__U]
"""


def row(
    device: str, level: str, state: str, disks: int, active: int, degraded: bool
) -> dict[str, Any]:
    return {
        "device": device,
        "level": level,
        "state": state,
        "disks": disks,
        "active": active,
        "degraded": degraded,
    }


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(
            HEALTHY,
            [
                row("md0", "raid1", "active", 2, 2, False),
                row("md1", "raid1", "active", 2, 2, False),
            ],
            id="healthy",
        ),
        pytest.param(
            DEGRADED, [row("md0", "raid1", "active", 2, 1, True)], id="degraded-failed-member"
        ),
        pytest.param(
            RECOVERY, [row("md1", "raid1", "recovery", 2, 1, True)], id="recovery-still-degraded"
        ),
        pytest.param(
            RESYNC_RAID5, [row("md2", "raid5", "resync", 4, 4, False)], id="resync-not-degraded"
        ),
        pytest.param(
            PENDING_AUTO_READ_ONLY,
            [row("md127", "raid1", "resync", 2, 2, False)],
            id="auto-read-only-pending",
        ),
        pytest.param(INACTIVE, [row("md127", "", "inactive", 1, 0, False)], id="inactive-spare"),
        pytest.param(
            RAID10_TWO_MISSING,
            [row("md3", "raid10", "active", 4, 2, True)],
            id="raid10-two-missing",
        ),
        pytest.param("Personalities :\nunused devices: <none>\n", [], id="no-arrays"),
        pytest.param("", [], id="empty"),
    ],
)
def test_parse_mdstat(text: str, expected: list[dict[str, Any]]) -> None:
    assert parse_mdstat(text) == expected
