"""Production settings: `check --deploy` is clean, and unsafe configurations refuse to start."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client

REPO = Path(__file__).resolve().parents[2]
LEITSTAND = REPO / ".venv" / "bin" / "leitstand"
KEY = "k3y-" + "x7Qv9pLm2Rt8Zw4Yb6Nc1Hd5Jf0Gs3Ka" * 2


def run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    base = {
        k: v
        for k, v in os.environ.items()
        # DJANGO_ALLOW_ASYNC_UNSAFE: set by the e2e tests in this process, never in production.
        if not k.startswith("LEITSTAND_")
        and k not in {"DJANGO_SETTINGS_MODULE", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    }
    command = [str(LEITSTAND)] if LEITSTAND.exists() else [sys.executable, "-m", "leitstand.cli"]
    return subprocess.run(
        [*command, *args],
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO,
        check=False,
    )


def production(tmp_path: Path, **extra: str) -> dict[str, str]:
    return {
        "LEITSTAND_ENV": "production",
        "LEITSTAND_SECRET_KEY": KEY,
        "LEITSTAND_ALLOWED_HOSTS": "portal.provider.example",
        "LEITSTAND_DATA_DIR": str(tmp_path),
        **extra,
    }


def test_check_deploy_is_clean_under_production_settings(tmp_path: Path) -> None:
    result = run(production(tmp_path), "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout, result.stdout + result.stderr


def test_development_settings_are_not_deploy_clean(tmp_path: Path) -> None:
    # The check above can fail: the same command on development settings warns.
    result = run(
        {"LEITSTAND_DATA_DIR": str(tmp_path)}, "check", "--deploy", "--fail-level", "WARNING"
    )
    assert result.returncode != 0
    assert "security.W004" in result.stderr + result.stdout  # no HSTS


@pytest.mark.parametrize(
    ("missing", "message"),
    [
        ("LEITSTAND_SECRET_KEY", "LEITSTAND_ENV=production needs LEITSTAND_SECRET_KEY"),
        ("LEITSTAND_ALLOWED_HOSTS", "LEITSTAND_ENV=production needs LEITSTAND_ALLOWED_HOSTS"),
    ],
)
def test_production_refuses_to_start_without(tmp_path: Path, missing: str, message: str) -> None:
    env = production(tmp_path)
    del env[missing]
    result = run(env, "check")
    assert result.returncode != 0
    assert message in result.stderr
    # Nothing was generated in the data dir as a fallback.
    assert not (tmp_path / "secret_key").exists()


def test_production_refuses_debug(tmp_path: Path) -> None:
    result = run(production(tmp_path, LEITSTAND_DEBUG="1"), "check")
    assert result.returncode != 0
    assert "LEITSTAND_DEBUG is on under LEITSTAND_ENV=production" in result.stderr


def test_unknown_environment_is_refused(tmp_path: Path) -> None:
    result = run({"LEITSTAND_ENV": "prod", "LEITSTAND_DATA_DIR": str(tmp_path)}, "check")
    assert result.returncode != 0
    assert "expected 'development' or 'production'" in result.stderr


def test_production_settings_values(tmp_path: Path) -> None:
    script = (
        "import django;django.setup();from django.conf import settings as s;"
        "print(s.DEBUG, s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SECURE_HSTS_SECONDS,"
        " s.SECURE_SSL_REDIRECT, s.ALLOWED_HOSTS, s.STAFF_REQUIRE_TOTP,"
        " s.SECURE_PROXY_SSL_HEADER is not None, bool(s.CONTENT_SECURITY_POLICY))"
    )
    env = {**production(tmp_path), "DJANGO_SETTINGS_MODULE": "leitstand.settings"}
    base = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("LEITSTAND_") and k != "DJANGO_ALLOW_ASYNC_UNSAFE"
    }
    out = subprocess.run(
        [sys.executable, "-c", script],
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout.split()
    assert out == [
        "False", "True", "True", "31536000", "True", "['portal.provider.example']", "True",
        "False", "True",
    ]  # fmt: skip
    proxied = subprocess.run(
        [sys.executable, "-c", script],
        env={**base, **env, "LEITSTAND_PROXY_SSL_HEADER": "1"},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout.split()
    assert proxied[7] == "True"


@pytest.mark.django_db
def test_csp_header_when_configured(client: Client, settings) -> None:  # type: ignore[no-untyped-def]
    settings.CONTENT_SECURITY_POLICY = "default-src 'self'"
    assert client.get("/accounts/login/")["Content-Security-Policy"] == "default-src 'self'"
    settings.CONTENT_SECURITY_POLICY = ""
    assert "Content-Security-Policy" not in client.get("/accounts/login/")
