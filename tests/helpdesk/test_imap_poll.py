"""Polling a real Dovecot: every mail is stored, then and only then removed.

The Dovecot here is the helpdesk's own (plain IMAP and implicit TLS on
loopback, a passwd-file user); the monitoring tests' Dovecot is session-wide
and tied to their certificate authority.
"""

from __future__ import annotations

import contextlib
import imaplib
import os
import pwd
import shutil
import socket
import ssl
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import trustme
from django.db import OperationalError
from tests.helpdesk.conftest import SUPPORT, MailWorld

from leitstand.helpdesk import inbound, jobs
from leitstand.helpdesk.imap import ImapAccount, poll_imap
from leitstand.helpdesk.models import InboundMail, Ticket

USER, PASSWORD = "support", "imap-secret"
CORPUS = Path(__file__).resolve().parent / "corpus" / "gen"


@dataclass(frozen=True)
class Server:
    imap: int
    imaps: int
    context: ssl.SSLContext


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _answers(port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
        return True
    return False


@pytest.fixture(scope="module")
def dovecot(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    executable = shutil.which("dovecot") or "/usr/sbin/dovecot"
    if not Path(executable).exists():
        pytest.fail("Dovecot not found: install the Debian package dovecot-imapd")
    work = tmp_path_factory.mktemp("helpdesk-dovecot")
    ca = trustme.CA()
    cert, key = work / "cert.pem", work / "key.pem"
    leaf = ca.issue_cert("127.0.0.1")
    leaf.cert_chain_pems[0].write_to_path(str(cert))
    leaf.private_key_pem.write_to_path(str(key))
    context = ssl.create_default_context()
    ca.configure_trust(context)
    if os.geteuid() == 0:  # Dovecot runs no mail process as root
        internal, login, mail_user = "dovecot", "dovenull", "nobody"
    else:
        internal = login = mail_user = pwd.getpwuid(os.geteuid()).pw_name
    # The auth and mail processes run as other users, who cannot enter
    # pytest's private temporary directory.
    shared = Path(tempfile.mkdtemp(prefix="leitstand-helpdesk-dovecot-"))
    shared.chmod(0o755)
    users = shared / "users"
    users.write_text(f"{USER}:{{PLAIN}}{PASSWORD}::::::\n")
    users.chmod(0o644)
    owner = pwd.getpwnam(mail_user)
    (shared / "mail").mkdir()
    os.chown(shared / "mail", owner.pw_uid, owner.pw_gid)
    imap, imaps = _free_port(), _free_port()
    config = work / "dovecot.conf"
    config.write_text(
        f"""
base_dir = {work}/run
state_dir = {work}/state
instance_name = leitstand-helpdesk-{imap}
log_path = {work}/dovecot.log
protocols = imap
listen = 127.0.0.1
default_internal_user = {internal}
default_login_user = {login}
ssl = yes
ssl_cert = <{cert}
ssl_key = <{key}
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_failure_delay = 0
passdb {{
  driver = passwd-file
  args = scheme=PLAIN {users}
}}
userdb {{
  driver = static
  args = uid={owner.pw_uid} gid={owner.pw_gid} home={shared}/mail/%u
}}
mail_location = maildir:~/Maildir
namespace inbox {{
  inbox = yes
  mailbox Processed {{
    auto = create
  }}
}}
service imap-login {{
  inet_listener imap {{
    port = {imap}
  }}
  inet_listener imaps {{
    port = {imaps}
    ssl = yes
  }}
}}
"""
    )
    log = (work / "dovecot.out").open("wb")
    process = subprocess.Popen(
        [executable, "-F", "-c", str(config)], stdout=log, stderr=subprocess.STDOUT
    )
    try:
        deadline = time.monotonic() + 10
        while not (_answers(imap) and _answers(imaps)):
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"dovecot did not start: {(work / 'dovecot.out').read_text()}")
            time.sleep(0.05)
        yield Server(imap, imaps, context)
    finally:
        process.terminate()
        process.wait(10)
        log.close()
        shutil.rmtree(shared, ignore_errors=True)


def account(server: Server, **kw: object) -> ImapAccount:
    values: dict[str, object] = {
        "host": "127.0.0.1",
        "port": server.imap,
        "user": USER,
        "password": PASSWORD,
        "security": "plain",
    }
    return ImapAccount(**(values | kw))  # type: ignore[arg-type]


@contextlib.contextmanager
def client(server: Server) -> Iterator[imaplib.IMAP4]:
    conn = imaplib.IMAP4("127.0.0.1", server.imap, timeout=10)
    conn.login(USER, PASSWORD)
    try:
        yield conn
    finally:
        conn.logout()


def deliver(server: Server, *names: str) -> None:
    with client(server) as conn:
        for name in names:
            conn.append("INBOX", "", None, (CORPUS / f"{name}.eml").read_bytes())


def count(server: Server, folder: str = "INBOX") -> int:
    with client(server) as conn:
        typ, data = conn.select(folder, readonly=True)
        assert typ == "OK"
        return int(data[0] or 0)


@pytest.fixture
def empty(dovecot: Server) -> Server:
    with client(dovecot) as conn:
        for folder in ("INBOX", "Processed"):
            _typ, data = conn.select(folder)
            if int(data[0] or 0):
                conn.store("1:*", "+FLAGS.SILENT", r"(\Deleted)")
                conn.expunge()
    return dovecot


@pytest.mark.django_db(transaction=True)
def test_every_mail_is_stored_and_then_removed(world: MailWorld, empty: Server) -> None:
    deliver(empty, "ticket--verified-sender", "follow_up--in-reply-to", "quarantined--stranger")
    assert poll_imap(account(empty), mailbox=SUPPORT) == 3
    assert count(empty) == 0
    assert sorted(InboundMail.objects.values_list("outcome", flat=True)) == [
        "follow_up",
        "quarantined",
        "ticket",
    ]
    assert InboundMail.objects.filter(source=f"imap://{USER}@127.0.0.1/INBOX").count() == 3
    assert poll_imap(account(empty), mailbox=SUPPORT) == 0


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("security", ["ssl", "starttls"])
def test_over_tls_into_a_processed_folder(world: MailWorld, empty: Server, security: str) -> None:
    deliver(empty, "ticket--charset-iso-2022-jp-base64")
    port = empty.imaps if security == "ssl" else empty.imap
    tls = account(empty, port=port, security=security, processed_folder="Processed")
    assert poll_imap(tls, ssl_context=empty.context, mailbox=SUPPORT) == 1
    assert (count(empty), count(empty, "Processed")) == (0, 1)
    assert Ticket.objects.get(channel="email", number__endswith="2").subject.startswith("サーバー")


@pytest.mark.django_db(transaction=True)
def test_nothing_leaves_the_mailbox_when_it_could_not_be_stored(
    world: MailWorld, empty: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    deliver(empty, "ticket--verified-sender", "ticket--crlf")

    def down(*args: object, **kwargs: object) -> None:
        raise OperationalError("database is down")

    monkeypatch.setattr(inbound, "store", down)
    with pytest.raises(OperationalError):
        poll_imap(account(empty), mailbox=SUPPORT)
    assert count(empty) == 2
    monkeypatch.undo()
    assert poll_imap(account(empty), mailbox=SUPPORT) == 2
    assert count(empty) == 0


@pytest.mark.django_db(transaction=True)
def test_a_crash_after_the_commit_stores_nothing_twice(
    world: MailWorld, empty: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    deliver(empty, "ticket--verified-sender")
    original = imaplib.IMAP4.uid

    def crash_on_store(self: imaplib.IMAP4, command: str, *args: str) -> tuple[str, list[object]]:
        if command == "STORE":
            raise ConnectionResetError("gone")
        return original(self, command, *args)  # type: ignore[return-value]

    monkeypatch.setattr(imaplib.IMAP4, "uid", crash_on_store)
    with pytest.raises(ConnectionResetError):
        poll_imap(account(empty), mailbox=SUPPORT)
    monkeypatch.undo()
    assert count(empty) == 1  # committed, but still in the mailbox
    assert poll_imap(account(empty), mailbox=SUPPORT) == 1
    assert (count(empty), InboundMail.objects.count(), Ticket.objects.count()) == (0, 1, 2)


@pytest.mark.django_db(transaction=True)
def test_the_periodic_step_polls_the_configured_mailbox(
    world: MailWorld,
    empty: Server,
    settings,  # type: ignore[no-untyped-def]
) -> None:
    settings.HELPDESK_IMAP = None
    assert jobs.imap_intake() == 0
    settings.HELPDESK_IMAP = {
        "host": "127.0.0.1",
        "port": empty.imap,
        "user": USER,
        "password": PASSWORD,
        "security": "plain",
    }
    deliver(empty, "ticket--verified-sender")
    assert jobs.imap_intake() == 1
    assert count(empty) == 0
