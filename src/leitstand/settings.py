"""Django settings for Leitstand.

Everything that differs between a laptop, CI and production comes from the
environment, never from editing this file:

- ``LEITSTAND_DATA_DIR``: where the SQLite database, secret key and uploads live
  (default ``./var``).
- ``LEITSTAND_DATABASE_URL``: ``postgresql://user@host:port/name`` or
  ``sqlite:///path`` (default: SQLite in the data dir).
- ``LEITSTAND_DEBUG``: ``1`` for development (``make run`` sets it).
- ``LEITSTAND_SECRET_KEY``, ``LEITSTAND_ALLOWED_HOSTS``, ``LEITSTAND_TIME_ZONE``.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent
DATA_DIR = Path(os.environ.get("LEITSTAND_DATA_DIR", Path.cwd() / "var")).resolve()


def _env_bool(name: str, default: bool = False) -> bool:
    return os.environ.get(name, "1" if default else "0").lower() in {"1", "true", "yes", "on"}


def _secret_key() -> str:
    """A key from the environment, or one generated once and kept in the data dir."""
    if key := os.environ.get("LEITSTAND_SECRET_KEY"):
        return key
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
SECRET_KEY = _secret_key()
ALLOWED_HOSTS = [
    h for h in os.environ.get("LEITSTAND_ALLOWED_HOSTS", "127.0.0.1,localhost").split(",") if h
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
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
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

EMAIL_HOST = os.environ.get("LEITSTAND_EMAIL_HOST", "127.0.0.1")
EMAIL_PORT = int(os.environ.get("LEITSTAND_EMAIL_PORT", "25"))
DEFAULT_FROM_EMAIL = os.environ.get("LEITSTAND_FROM_EMAIL", "leitstand@localhost")

SESSION_COOKIE_AGE = 8 * 3600
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"

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
}
