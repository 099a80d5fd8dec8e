"""Real Debian servers on loopback for the check-type tests.

Each fixture starts the real daemon in the foreground on free high ports of
127.0.0.1, with a config file of its own in a temporary directory (and
certificates from the session's trustme CA), waits until it answers, and stops
it at the end of the session. The binaries come from the Debian packages that
``scripts/setup-debian`` installs; a missing one fails the test and names the
package instead of skipping, so a machine without them cannot pass silently.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    # conftest imports this module for its fixtures; only the types flow back.
    import trustme
    from tests.monitoring.checks.conftest import Pki

# Daemons live in sbin, which is not on every user's PATH.
_SEARCH_PATH = os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/sbin"])
_START_TIMEOUT_S = 10.0

MAIL_USER = "alice"
MAIL_PASSWORD = "correct horse"
ZONE = "example.test"
# vsftpd refuses this anonymous "password" (banned_email_file).
FTP_WRONG_PASSWORD = "wrong@example.invalid"


def binary(name: str, package: str) -> str:
    """The path of ``name``; fail (not skip) naming the Debian package."""
    path = shutil.which(name, path=_SEARCH_PATH)
    if path is None:
        pytest.fail(
            f"{name} not found: install the Debian package {package} "
            "(scripts/setup-debian does, as root)",
            pytrace=False,
        )
    return path


def free_port(kind: socket.SocketKind = socket.SOCK_STREAM) -> int:
    """A port on 127.0.0.1 that is free right now."""
    with socket.socket(socket.AF_INET, kind) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def tcp_answers(port: int) -> bool:
    """True once something accepts connections on 127.0.0.1:``port``."""
    with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
        return True
    return False


@dataclass
class Daemon:
    """A foreground server process and where its output goes."""

    name: str
    process: subprocess.Popen[bytes]
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-2000:]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)


def start(name: str, argv: list[str], workdir: Path, ready: Callable[[], bool]) -> Daemon:
    """Start ``argv`` and wait until ``ready()``; fail with its output if it
    exits or does not become ready in time.
    """
    log = workdir / f"{name}.out"
    with log.open("wb") as out:
        process = subprocess.Popen(
            argv, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, cwd=workdir
        )
    daemon = Daemon(name, process, log)
    deadline = time.monotonic() + _START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"{name} exited with {process.returncode}:\n{daemon.output()}")
        if ready():
            return daemon
        time.sleep(0.05)
    daemon.stop()
    pytest.fail(f"{name} did not start within {_START_TIMEOUT_S:g} s:\n{daemon.output()}")


def _write_cert(cert: trustme.LeafCert, directory: Path, name: str) -> tuple[Path, Path]:
    cert_path, key_path = directory / f"{name}.crt", directory / f"{name}.key"
    cert.cert_chain_pems[0].write_to_path(str(cert_path))
    cert.private_key_pem.write_to_path(str(key_path))
    key_path.chmod(0o600)
    return cert_path, key_path


# Dovecot -------------------------------------------------------------------


@dataclass(frozen=True)
class Dovecot:
    """Ports of one Dovecot with IMAP and POP3, plain (STARTTLS) and implicit TLS."""

    imap: int
    imaps: int
    pop3: int
    pop3s: int


def _dovecot_users() -> tuple[str, str, str]:
    """Dovecot's internal user, its login user and the mail user."""
    if os.geteuid() == 0:
        # Dovecot runs no mail process as root; "nobody" owns the test mail.
        return "dovecot", "dovenull", "nobody"
    me = pwd.getpwuid(os.geteuid()).pw_name
    return me, me, me


@pytest.fixture(scope="session")
def dovecot(pki: Pki, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dovecot]:
    """Dovecot (dovecot-imapd, dovecot-pop3d) with a passwd-file user
    ``alice`` (``MAIL_PASSWORD``); STARTTLS and implicit TLS with the session
    CA's certificate.
    """
    executable = binary("dovecot", "dovecot-imapd")
    if not Path("/usr/lib/dovecot/pop3").exists():
        pytest.fail("Dovecot's POP3 server not found: install the Debian package dovecot-pop3d")
    work = tmp_path_factory.mktemp("dovecot")
    cert, key = _write_cert(pki.ca.issue_cert("127.0.0.1"), work, "dovecot")
    ports = Dovecot(free_port(), free_port(), free_port(), free_port())
    internal, login, mail_user = _dovecot_users()
    # Dovecot's auth process and the mail process run as other users, who
    # cannot enter pytest's private temporary directory: the password file and
    # the mail homes live in a directory of their own.
    shared = Path(tempfile.mkdtemp(prefix="leitstand-dovecot-"))
    shared.chmod(0o755)
    users = shared / "users"
    users.write_text(f"{MAIL_USER}:{{PLAIN}}{MAIL_PASSWORD}::::::\n")
    users.chmod(0o644)
    mail_root = shared / "mail"
    mail_root.mkdir()
    owner = pwd.getpwnam(mail_user)
    os.chown(mail_root, owner.pw_uid, owner.pw_gid)
    dh = Path("/usr/share/dovecot/dh.pem")
    config = work / "dovecot.conf"
    config.write_text(
        f"""
base_dir = {work}/run
state_dir = {work}/state
instance_name = leitstand-test-{ports.imap}
log_path = {work}/dovecot.log
protocols = imap pop3
listen = 127.0.0.1
default_internal_user = {internal}
default_login_user = {login}
ssl = yes
ssl_cert = <{cert}
ssl_key = <{key}
{f"ssl_dh = <{dh}" if dh.exists() else ""}
disable_plaintext_auth = no
auth_mechanisms = plain login
# Dovecot waits 2 s after a wrong password, and up to 15 s before the next
# login from the same address (anvil's auth penalty); the tests need not.
auth_failure_delay = 0
service anvil {{
  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN {users}
}}
userdb {{
  driver = static
  args = uid={owner.pw_uid} gid={owner.pw_gid} home={mail_root}/%u
}}
mail_location = maildir:~/Maildir
service imap-login {{
  inet_listener imap {{
    port = {ports.imap}
  }}
  inet_listener imaps {{
    port = {ports.imaps}
    ssl = yes
  }}
}}
service pop3-login {{
  inet_listener pop3 {{
    port = {ports.pop3}
  }}
  inet_listener pop3s {{
    port = {ports.pop3s}
    ssl = yes
  }}
}}
"""
    )
    try:
        daemon = start(
            "dovecot",
            [executable, "-F", "-c", str(config)],
            work,
            lambda: all(tcp_answers(port) for port in (ports.imap, ports.imaps, ports.pop3)),
        )
        yield ports
        daemon.stop()
    finally:
        shutil.rmtree(shared, ignore_errors=True)


# vsftpd ----------------------------------------------------------------------


@dataclass(frozen=True)
class Vsftpd:
    """FTP servers: ``AUTH TLS`` with a valid certificate, with an expired
    one, and one without TLS at all.
    """

    tls: int
    expired: int
    plain: int


def _vsftpd(executable: str, work: Path, port: int, tls: tuple[Path, Path] | None) -> Daemon:
    empty = work / "empty"
    empty.mkdir(mode=0o755, exist_ok=True)
    settings = [
        "listen=YES",
        f"anonymous_enable={'NO' if tls is None else 'YES'}",
        "listen_address=127.0.0.1",
        f"listen_port={port}",
        "background=NO",
        "local_enable=YES",
        "pam_service_name=vsftpd",
        f"secure_chroot_dir={empty}",
        "seccomp_sandbox=NO",
        "xferlog_enable=NO",
        "ftpd_banner=Leitstand test FTP",
    ]
    if os.geteuid() != 0:
        settings.append("run_as_launching_user=YES")
    if tls is not None:
        settings += [
            "ssl_enable=YES",
            f"rsa_cert_file={tls[0]}",
            f"rsa_private_key_file={tls[1]}",
            "force_local_logins_ssl=NO",
            "force_local_data_ssl=NO",
            "require_ssl_reuse=NO",
            # Anonymous is the one login the tests can make without a system
            # account (vsftpd's local users come from PAM); over TLS, as the
            # check logs in only there.
            "allow_anon_ssl=YES",
            f"anon_root={empty}",
            # The anonymous "password" is an e-mail address; this one is the
            # wrong password.
            "deny_email_enable=YES",
            f"banned_email_file={work / 'banned-passwords'}",
            "delay_failed_login=0",
        ]
    (work / "banned-passwords").write_text(f"{FTP_WRONG_PASSWORD}\n")
    config = work / f"vsftpd-{port}.conf"
    config.write_text("\n".join(settings) + "\n")
    return start(f"vsftpd-{port}", [executable, str(config)], work, lambda: tcp_answers(port))


@pytest.fixture(scope="session")
def vsftpd(pki: Pki, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Vsftpd]:
    """vsftpd: one with explicit FTPS (the session CA's certificate), one plain."""
    executable = binary("vsftpd", "vsftpd")
    work = tmp_path_factory.mktemp("vsftpd")
    valid = _write_cert(pki.ca.issue_cert("127.0.0.1"), work, "valid")
    now = datetime.now(UTC)
    expired = _write_cert(
        pki.ca.issue_cert(
            "127.0.0.1", not_before=now - timedelta(days=90), not_after=now - timedelta(days=2)
        ),
        work,
        "expired",
    )
    ports = Vsftpd(free_port(), free_port(), free_port())
    with contextlib.ExitStack() as running:
        # Stop those already started when a later one fails to start.
        for port, cert in ((ports.tls, valid), (ports.expired, expired), (ports.plain, None)):
            running.callback(_vsftpd(executable, work, port, cert).stop)
        yield ports


# OpenSSH ---------------------------------------------------------------------


def start_sshd(work: Path) -> tuple[Daemon, int]:
    """Start an sshd with a fresh host key in ``work``; its daemon and port."""
    executable = binary("sshd", "openssh-server")
    keygen = binary("ssh-keygen", "openssh-client")
    host_key = work / "ssh_host_ed25519_key"
    subprocess.run([keygen, "-q", "-t", "ed25519", "-N", "", "-f", str(host_key)], check=True)
    if os.geteuid() == 0:
        # sshd as root insists on its privilege-separation directory, which
        # only the package's init script creates.
        Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)
    port = free_port()
    config = work / "sshd_config"
    config.write_text(
        f"ListenAddress 127.0.0.1\nPort {port}\nHostKey {host_key}\n"
        f"PidFile {work}/sshd.pid\nUsePAM no\nStrictModes no\n"
    )
    argv = [executable, "-D", "-e", "-f", str(config)]
    return start("sshd", argv, work, lambda: tcp_answers(port)), port


@pytest.fixture(scope="session")
def sshd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    """OpenSSH's sshd (openssh-server) in the foreground with its own host key."""
    daemon, port = start_sshd(tmp_path_factory.mktemp("sshd"))
    yield port
    daemon.stop()


# chrony ----------------------------------------------------------------------


def _ntp_answers(port: int) -> bool:
    request = bytes([0x23]) + bytes(47)  # NTPv4 client request
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(0.2)
        try:
            sock.sendto(request, ("127.0.0.1", port))
            return len(sock.recv(1024)) >= 48
        except OSError:
            return False


@dataclass(frozen=True)
class Chrony:
    """A chronyd serving its local clock, and one that is not synchronised."""

    synchronised: int
    unsynchronised: int


def _chronyd(executable: str, work: Path, port: int, local: bool) -> Daemon:
    config = work / f"chrony-{port}.conf"
    config.write_text(
        f"port {port}\nbindaddress 127.0.0.1\nallow 127.0.0.1\ncmdport 0\n"
        f"pidfile {work}/chronyd-{port}.pid\n" + ("local stratum 8\n" if local else "")
    )
    # -x: never touch the system clock; -u: keep our user (no _chrony switch).
    argv = [executable, "-d", "-x", "-f", str(config), "-u", pwd.getpwuid(os.geteuid()).pw_name]
    return start(f"chronyd-{port}", argv, work, lambda: _ntp_answers(port))


@pytest.fixture(scope="session")
def chrony(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Chrony]:
    """chronyd (chrony) on high UDP ports: ``local stratum 8``, and without
    any time source (answers, but unsynchronised).
    """
    executable = binary("chronyd", "chrony")
    work = tmp_path_factory.mktemp("chrony")
    ports = Chrony(free_port(socket.SOCK_DGRAM), free_port(socket.SOCK_DGRAM))
    with contextlib.ExitStack() as running:
        running.callback(_chronyd(executable, work, ports.synchronised, local=True).stop)
        running.callback(_chronyd(executable, work, ports.unsynchronised, local=False).stop)
        yield ports


# NSD -------------------------------------------------------------------------

ZONE_FILE = f"""\
$ORIGIN {ZONE}.
$TTL 300
@       SOA  ns1 hostmaster 2026112201 3600 600 86400 300
@       NS   ns1
ns1     A    127.0.0.1
www     A    192.0.2.10
www     A    192.0.2.11
www     AAAA 2001:db8::10
@       MX   10 mail
@       MX   20 backup.mail.example.net.
mail    A    192.0.2.25
@       TXT  "v=spf1 mx -all"
alias   CNAME www
"""


def _dns_answers(port: int) -> bool:
    # A query for the zone's SOA; any answer means the server is up.
    query = (
        b"\x12\x34\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00"
        + b"".join(bytes([len(label)]) + label.encode() for label in ZONE.split("."))
        + b"\x00\x00\x06\x00\x01"
    )
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(0.2)
        try:
            sock.sendto(query, ("127.0.0.1", port))
            return sock.recv(4096)[:2] == b"\x12\x34"
        except OSError:
            return False


@pytest.fixture(scope="session")
def nsd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    """NSD (nsd), authoritative for ``example.test`` from a zone file."""
    executable = binary("nsd", "nsd")
    work = tmp_path_factory.mktemp("nsd")
    (work / f"{ZONE}.zone").write_text(ZONE_FILE)
    port = free_port(socket.SOCK_DGRAM)
    config = work / "nsd.conf"
    config.write_text(
        f"""server:
  ip-address: 127.0.0.1
  port: {port}
  do-ip6: no
  server-count: 1
  username: ""
  chroot: ""
  zonesdir: "{work}"
  database: ""
  zonelistfile: "{work}/zone.list"
  xfrdfile: "{work}/xfrd.state"
  xfrdir: "{work}"
  pidfile: "{work}/nsd.pid"
  logfile: "{work}/nsd.log"
remote-control:
  control-enable: no
zone:
  name: {ZONE}
  zonefile: {ZONE}.zone
"""
    )
    daemon = start("nsd", [executable, "-d", "-c", str(config)], work, lambda: _dns_answers(port))
    yield port
    daemon.stop()
