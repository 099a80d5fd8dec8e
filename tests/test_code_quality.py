"""ruff and mypy (strict) are part of the suite, so main cannot go unlinted."""

from __future__ import annotations

import subprocess

from tests.conftest import REPO

BIN = REPO / ".venv" / "bin"


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=REPO, capture_output=True, text=True, check=False, timeout=600)


def test_ruff_lint() -> None:
    result = run(str(BIN / "ruff"), "check", "src", "tests", "agent")
    assert result.returncode == 0, result.stdout


def test_ruff_format() -> None:
    result = run(str(BIN / "ruff"), "format", "--check", "src", "tests", "agent")
    assert result.returncode == 0, result.stdout


def test_mypy_strict() -> None:
    result = run(str(BIN / "mypy"))
    assert result.returncode == 0, result.stdout
