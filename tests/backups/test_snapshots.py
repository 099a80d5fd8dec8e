"""Snapshot ids from real restic output (Debian's restic, installed by setup-debian)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from leitstand.backups.snapshots import snapshot_id

RESTIC = shutil.which("restic")
needs_restic = pytest.mark.skipif(RESTIC is None, reason="restic is not installed")


def restic(repo: Path, *args: str) -> str:
    assert RESTIC is not None
    done = subprocess.run(
        [RESTIC, "-r", str(repo), "--password-file", str(repo.parent / "pw"), *args],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return done.stdout + done.stderr


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    (tmp_path / "pw").write_text("not-a-secret\n")
    data = tmp_path / "data"
    data.mkdir()
    (data / "index.html").write_text("<h1>hello</h1>\n")
    repo = tmp_path / "repo"
    restic(repo, "init")
    return repo


def snapshots(repo: Path) -> list[str]:
    return [s["short_id"] for s in json.loads(restic(repo, "snapshots", "--json"))]


@needs_restic
def test_the_id_restic_prints_is_the_snapshot_it_lists(repo: Path) -> None:
    output = restic(repo, "backup", str(repo.parent / "data"))
    assert snapshot_id(output) == snapshots(repo)[0]


@needs_restic
def test_the_json_summary_names_the_snapshot_too(repo: Path) -> None:
    restic(repo, "backup", str(repo.parent / "data"))
    (repo.parent / "data" / "new.txt").write_text("changed\n")
    output = restic(repo, "backup", "--json", str(repo.parent / "data"))
    listed = snapshots(repo)
    found = snapshot_id(output)
    assert found is not None
    assert found[:8] == listed[-1]
    assert found[:8] != listed[0]


@pytest.mark.parametrize(
    "output",
    [
        "",
        "Fatal: unable to open config file: <config/> does not exist\n",
        "snapshot saved\n",
        "snapshot XYZ12345 saved\n",  # not hex
        '{"message_type":"status","percent_done":0.5}\n{not json\n',
        '{"message_type":"summary","snapshot_id":"../../etc"}\n',
        "rsync: done\n",
    ],
)
def test_output_naming_no_snapshot_gives_none(output: str) -> None:
    assert snapshot_id(output) is None
