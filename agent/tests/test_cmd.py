"""Running external programs: no shell, a deadline, an output cap."""

from __future__ import annotations

import sys
import time

import pytest

from leitstand_agent import cmd


def test_output_and_status() -> None:
    result = cmd.run(
        [
            sys.executable,
            "-c",
            "import sys; print('out'); print('err', file=sys.stderr); sys.exit(3)",
        ]
    )
    assert (result.returncode, result.text, result.stderr, result.truncated) == (
        3,
        "out\n",
        b"err\n",
        False,
    )


def test_no_shell_expansion() -> None:
    result = cmd.run(["/bin/echo", "$HOME; rm -rf /"])
    assert result.text == "$HOME; rm -rf /\n"


def test_c_locale() -> None:
    result = cmd.run([sys.executable, "-c", "import os; print(os.environ['LC_ALL'])"])
    assert result.text == "C\n"


def test_output_cap_kills_and_marks_truncated() -> None:
    result = cmd.run(
        [sys.executable, "-c", "import sys\nwhile True: sys.stdout.write('x' * 65536)"],
        max_bytes=100_000,
    )
    assert result.truncated
    assert len(result.stdout) == 100_000


def test_timeout_kills() -> None:
    start = time.monotonic()
    with pytest.raises(cmd.CommandError, match=r"no answer within 0\.3 s"):
        cmd.run(["sleep", "30"], timeout=0.3)
    assert time.monotonic() - start < 5


def test_timeout_when_output_closed_but_process_runs() -> None:
    with pytest.raises(cmd.CommandError, match="did not exit within"):
        cmd.run(
            [sys.executable, "-c", "import os, time; os.close(1); os.close(2); time.sleep(30)"],
            timeout=0.5,
        )


def test_missing_program() -> None:
    with pytest.raises(cmd.CommandError, match="cannot start"):
        cmd.run(["/nonexistent/program"])


def test_which_finds_system_programs() -> None:
    assert cmd.which("sleep") is not None
    assert cmd.which("surely-not-installed-anywhere") is None
