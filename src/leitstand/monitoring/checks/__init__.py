"""Active service checks, one module per check type.

Seed 003 §2 lists the monitored services: "Webserver (HTTP) • Mailsystem
(SMTP, POP3, IMAP ...) • Serverdienste (FTP, SSH, NTP) • Datenbanken (MySQL,
PostgreSQL)"; seed 002 §2.1 names the Priority 1 services: "ICMP Ping, HTTP,
HTTPS, IMAP, POP3, SMTP, MySQL or MSSQL". Importing this package registers
every check type; use ``registry.get``, ``registry.kinds`` and
``registry.run_check``.
"""

from __future__ import annotations

from leitstand.monitoring.checks import (  # noqa: F401 - imported to register
    dns,
    ftp,
    http,
    icmp,
    imap,
    mssql,
    mysql,
    ntp,
    pop3,
    postgresql,
    smtp,
    ssh,
    tcp,
    tls_cert,
)
from leitstand.monitoring.checks.base import CheckType, ParamsError, Result, State
from leitstand.monitoring.checks.registry import get, kinds, register, run_check

__all__ = ["CheckType", "ParamsError", "Result", "State", "get", "kinds", "register", "run_check"]
