"""``leitstand mail-in``: one mail on standard input, one line out, exit 0 once
stored and 75 (the MTA retries) when nothing could be stored."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command, get_commands
from django.db import OperationalError
from tests.conftest import REPO
from tests.helpdesk.conftest import MailWorld

from leitstand.helpdesk import inbound
from leitstand.helpdesk.models import InboundMail

pytestmark = pytest.mark.django_db
CORPUS = Path(__file__).resolve().parent / "corpus" / "gen"


class Stdin:
    """What ``sys.stdin`` looks like to the command: text with a byte buffer."""

    def __init__(self, data: bytes) -> None:
        self.buffer = io.BytesIO(data)


def mail_in(monkeypatch: pytest.MonkeyPatch, data: bytes) -> str:
    monkeypatch.setattr(sys, "stdin", Stdin(data))
    out = io.StringIO()
    call_command("mail-in", stdout=out)
    return out.getvalue()


def test_the_command_is_called_mail_in() -> None:
    assert get_commands()["mail-in"] == "leitstand.helpdesk"


@pytest.mark.parametrize(
    ("name", "line"),
    [
        ("ticket--verified-sender", "ticket LS-2026-000002\n"),
        ("follow_up--in-reply-to", "follow-up LS-2026-000001\n"),
        ("quarantined--stranger", "quarantined: unknown sender\n"),
        ("quarantined--binary-garbage", "quarantined: no header fields\n"),
    ],
)
def test_one_line_says_what_became_of_the_mail(
    world: MailWorld, monkeypatch: pytest.MonkeyPatch, name: str, line: str
) -> None:
    assert mail_in(monkeypatch, (CORPUS / f"{name}.eml").read_bytes()) == line
    assert InboundMail.objects.get().source == "mail-in"


def test_a_database_that_is_down_makes_the_mta_retry(
    world: MailWorld, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def down(*args: object, **kwargs: object) -> None:
        raise OperationalError("connection refused")

    monkeypatch.setattr(inbound, "store", down)
    with pytest.raises(SystemExit) as exit_:
        mail_in(monkeypatch, (CORPUS / "ticket--verified-sender.eml").read_bytes())
    assert exit_.value.code == 75
    assert "try again later" in capsys.readouterr().err


def pipe(data: bytes, **env: str) -> subprocess.CompletedProcess[bytes]:
    """``leitstand mail-in`` as the MTA runs it: a process reading a pipe."""
    return subprocess.run(
        [str(REPO / ".venv" / "bin" / "leitstand"), "mail-in"],
        input=data,
        capture_output=True,
        env={**os.environ, **env},
        timeout=60,
        check=False,
    )


def test_a_real_pipe_without_a_database_makes_the_mta_retry() -> None:
    """EX_TEMPFAIL from a real process (the stored cases run in-process above:
    migrating a database for a subprocess would cost this suite seconds)."""
    down = pipe(b"From: a@x.example\n\nhi\n", LEITSTAND_DATABASE_URL="postgresql://x@127.0.0.1:1/x")
    assert (down.returncode, down.stdout) == (75, b"")
    assert b"try again later" in down.stderr
