"""Django settings for Leitstand.

Everything that differs between a laptop, CI and production comes from the
environment, never from editing this file:

- ``LEITSTAND_DATA_DIR``: where the SQLite database, secret key and uploads live
  (default ``./var``).
- ``LEITSTAND_DATABASE_URL``: ``postgresql://user@host:port/name`` or
  ``sqlite:///path`` (default: SQLite in the data dir).
- ``LEITSTAND_DEBUG``: ``1`` for development (``make run`` sets it).
- ``LEITSTAND_SECRET_KEY``, ``LEITSTAND_ALLOWED_HOSTS``, ``LEITSTAND_TIME_ZONE``.
- ``LEITSTAND_ENV``: ``development`` (default) or ``production``. Production
  refuses to start without ``LEITSTAND_SECRET_KEY`` and ``LEITSTAND_ALLOWED_HOSTS``
  and with ``LEITSTAND_DEBUG`` on, and turns on HTTPS-only cookies, HSTS, the
  HTTPS redirect and a Content-Security-Policy (see "Production" below).
- Sessions: ``LEITSTAND_SESSION_IDLE_MINUTES`` (default 60) and
  ``LEITSTAND_SESSION_MAX_HOURS`` (default 12); ``LEITSTAND_PASSWORD_RESET_MINUTES``
  (default 60); ``LEITSTAND_STAFF_TOTP`` (default: on in production) makes a
  second factor compulsory for all staff.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent
DATA_DIR = Path(os.environ.get("LEITSTAND_DATA_DIR", Path.cwd() / "var")).resolve()


def _env_bool(name: str, default: bool = False) -> bool:
    return os.environ.get(name, "1" if default else "0").lower() in {"1", "true", "yes", "on"}


ENVIRONMENT = os.environ.get("LEITSTAND_ENV", "development").strip().lower()
if ENVIRONMENT not in {"development", "production"}:
    raise ImproperlyConfigured(
        f"LEITSTAND_ENV={ENVIRONMENT!r}: expected 'development' or 'production'"
    )
PRODUCTION = ENVIRONMENT == "production"


def _secret_key() -> str:
    """A key from the environment, or one generated once and kept in the data dir.

    Production never generates one: several web processes on several machines
    must share the key (sessions, reset links), and a key in a data directory
    that is lost with a container would log everybody out and void every link.
    """
    if key := os.environ.get("LEITSTAND_SECRET_KEY"):
        return key
    if PRODUCTION:
        raise ImproperlyConfigured(
            "LEITSTAND_ENV=production needs LEITSTAND_SECRET_KEY (50 or more random "
            "characters, e.g. from: python3 -c 'import secrets; print(secrets.token_urlsafe(50))')"
        )
    path = DATA_DIR / "secret_key"
    if path.exists():
        return path.read_text().strip()
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(50)
    path.write_text(key)
    path.chmod(0o600)
    return key


def database_from_url(url: str) -> dict[str, Any]:
    """Translate a database URL into a Django ``DATABASES`` entry."""
    parts = urlsplit(url)
    if parts.scheme == "sqlite":
        name = unquote(parts.path[1:] if parts.path.startswith("//") else parts.path) or ":memory:"
        if parts.netloc == ":memory:" or name in {"/:memory:", ":memory:"}:
            name = ":memory:"
        return _sqlite(name)
    if parts.scheme in {"postgres", "postgresql"}:
        return {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": unquote(parts.path.lstrip("/")) or "leitstand",
            "USER": unquote(parts.username or ""),
            "PASSWORD": unquote(parts.password or ""),
            "HOST": parts.hostname or "",
            "PORT": str(parts.port or ""),
            "CONN_MAX_AGE": 60,
            "CONN_HEALTH_CHECKS": True,
        }
    raise ValueError(f"unsupported database URL scheme {parts.scheme!r}")


def _sqlite(name: str) -> dict[str, Any]:
    return {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": name,
        "OPTIONS": {
            # WAL lets the web, monitor and worker processes read while one writes;
            # IMMEDIATE transactions take the write lock up front instead of failing
            # with "database is locked" halfway through.
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
        },
    }


DEBUG = _env_bool("LEITSTAND_DEBUG")
if PRODUCTION and DEBUG:
    raise ImproperlyConfigured(
        "LEITSTAND_DEBUG is on under LEITSTAND_ENV=production: debug pages show settings "
        "and source code to anybody; turn it off"
    )
SECRET_KEY = _secret_key()
if PRODUCTION and not os.environ.get("LEITSTAND_ALLOWED_HOSTS", "").strip():
    raise ImproperlyConfigured(
        "LEITSTAND_ENV=production needs LEITSTAND_ALLOWED_HOSTS (comma-separated host "
        "names this site answers to, e.g. portal.provider.example)"
    )
ALLOWED_HOSTS = [
    h.strip()
    for h in os.environ.get("LEITSTAND_ALLOWED_HOSTS", "127.0.0.1,localhost").split(",")
    if h.strip()
]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_tasks",
    "django_tasks_db",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "leitstand.core",
    "leitstand.accounts",
    "leitstand.contracts",
    "leitstand.sla",
    "leitstand.billing",
    "leitstand.maintenance",
    "leitstand.backups",
    "leitstand.operations",
    "leitstand.reports",
    "leitstand.monitoring",
    "leitstand.alerting",
    "leitstand.helpdesk",
    "leitstand.staff",
    "leitstand.portal",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "leitstand.accounts.middleware.ContentSecurityPolicyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # After authentication and messages: expires sessions (with a message),
    # activates the user's language and leads users who must have a second
    # factor to its enrolment.
    "leitstand.accounts.middleware.AccountMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "leitstand.urls"
WSGI_APPLICATION = "leitstand.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {
    "default": database_from_url(
        os.environ.get("LEITSTAND_DATABASE_URL", f"sqlite:///{DATA_DIR / 'leitstand.sqlite3'}")
    )
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "leitstand.accounts.backends.CustomerLoginBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "accounts:login"

LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("de", _("German"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
# The provider's own zone: shown in the back office. The database holds UTC.
TIME_ZONE = os.environ.get("LEITSTAND_TIME_ZONE", "Europe/Berlin")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
# Project-wide assets: our CSS and JS, and vendor/ (htmx, uPlot), which
# scripts/build-assets copies from the npm packages pinned in package-lock.json.
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = DATA_DIR / "static"
MEDIA_ROOT = DATA_DIR / "media"

# Ticket numbers: {year} and {seq} (a gapless sequence per year), e.g. LS-2026-000042.
TICKET_NUMBER_FORMAT = os.environ.get("LEITSTAND_TICKET_NUMBER_FORMAT", "LS-{year}-{seq:06d}")

TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}

# Agent reports one web process stores at the same time; one more is answered
# 503 with Retry-After (the agent keeps it and comes back), so that a thousand
# agents replaying after an outage queue on their side, not in the database.
AGENT_MAX_CONCURRENT_REPORTS = int(os.environ.get("LEITSTAND_AGENT_MAX_CONCURRENT_REPORTS", "8"))

EMAIL_HOST = os.environ.get("LEITSTAND_EMAIL_HOST", "127.0.0.1")
EMAIL_PORT = int(os.environ.get("LEITSTAND_EMAIL_PORT", "25"))
DEFAULT_FROM_EMAIL = os.environ.get("LEITSTAND_FROM_EMAIL", "leitstand@localhost")

# Sessions end after LEITSTAND_SESSION_IDLE_MINUTES without a request and, at
# the latest, LEITSTAND_SESSION_MAX_HOURS after the login, whatever happens in
# between (leitstand.accounts.middleware). The cookie lives as long as the
# absolute limit; the server decides, not the browser. 0 switches a limit off.
SESSION_IDLE_TIMEOUT = int(os.environ.get("LEITSTAND_SESSION_IDLE_MINUTES", "60")) * 60
SESSION_ABSOLUTE_TIMEOUT = int(os.environ.get("LEITSTAND_SESSION_MAX_HOURS", "12")) * 3600
SESSION_COOKIE_AGE = SESSION_ABSOLUTE_TIMEOUT or 14 * 24 * 3600
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"  # "Strict" would log people out when they follow a mailed link
CSRF_COOKIE_HTTPONLY = True
CSRF_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"
# A password reset link works once and for this long (Django's token generator).
PASSWORD_RESET_TIMEOUT = int(os.environ.get("LEITSTAND_PASSWORD_RESET_MINUTES", "60")) * 60

# Second factor (django-otp). Every failed code counts towards the login lockout
# in leitstand.accounts.lockout, the one place that throttles guessing; django-otp's
# own per-device back-off would only add a second, invisible rule.
OTP_TOTP_ISSUER = os.environ.get("LEITSTAND_TOTP_ISSUER", "Leitstand")
OTP_TOTP_THROTTLE_FACTOR = 0
OTP_STATIC_THROTTLE_FACTOR = 0
STAFF_REQUIRE_TOTP = _env_bool("LEITSTAND_STAFF_TOTP", default=PRODUCTION)

# Content-Security-Policy sent with every response when set (production by
# default; LEITSTAND_CSP overrides it, an empty value turns it off). Scripts and
# styles come from our own static files only; no page needs a third party.
CONTENT_SECURITY_POLICY = os.environ.get(
    "LEITSTAND_CSP",
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'self'; "
    "form-action 'self'; frame-ancestors 'none'"
    if PRODUCTION
    else "",
)

if PRODUCTION:
    # Production: HTTPS only. Behind a reverse proxy that terminates TLS, set
    # LEITSTAND_PROXY_SSL_HEADER=1 *only if* the proxy always sets (and strips
    # from clients) X-Forwarded-Proto; otherwise a client could claim HTTPS.
    if _env_bool("LEITSTAND_PROXY_SSL_HEADER"):
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = _env_bool("LEITSTAND_SSL_REDIRECT", default=True)
    # Load balancers probe /healthz over plain HTTP inside the network.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
    SECURE_HSTS_SECONDS = int(os.environ.get("LEITSTAND_HSTS_SECONDS", str(365 * 24 * 3600)))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = _env_bool("LEITSTAND_HSTS_SUBDOMAINS", default=True)
    SECURE_HSTS_PRELOAD = _env_bool("LEITSTAND_HSTS_PRELOAD", default=True)
    SECURE_REFERRER_POLICY = "same-origin"
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SESSION_COOKIE_NAME = "__Host-sessionid"  # __Host-: secure, no Domain, path /
    CSRF_COOKIE_NAME = "__Host-csrftoken"
    LANGUAGE_COOKIE_SECURE = True
    if origins := os.environ.get("LEITSTAND_CSRF_TRUSTED_ORIGINS", ""):
        CSRF_TRUSTED_ORIGINS = [o.strip() for o in origins.split(",") if o.strip()]

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    # ISO 8601 with the offset: Django sets the process zone to TIME_ZONE, and a log
    # line without an offset is ambiguous for an hour every autumn.
    "formatters": {
        "plain": {
            "format": "%(asctime)s %(levelname)s %(name)s: %(message)s",
            "datefmt": "%Y-%m-%dT%H:%M:%S%z",
        }
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LEITSTAND_LOG_LEVEL", "INFO")},
    # The PDF and e-invoice libraries log every document at INFO.
    "loggers": {name: {"level": "WARNING"} for name in ("weasyprint", "fontTools", "factur-x")},
}
