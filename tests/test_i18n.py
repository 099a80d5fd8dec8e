"""Every user-facing text exists in English and German, and the compiled catalog is current."""

from __future__ import annotations

import gettext
import shutil
import subprocess

import polib
import pytest
from django.test import Client
from django.utils import translation
from tests.conftest import REPO

LOCALE = REPO / "src" / "leitstand" / "locale"
PO = LOCALE / "de" / "LC_MESSAGES" / "django.po"
MO = LOCALE / "de" / "LC_MESSAGES" / "django.mo"


def test_every_german_entry_is_translated() -> None:
    po = polib.pofile(str(PO))
    assert po.untranslated_entries() == []
    assert po.fuzzy_entries() == []
    assert len(po.translated_entries()) > 150


def test_compiled_catalog_matches_the_source() -> None:
    compiled = gettext.GNUTranslations(MO.open("rb"))
    for entry in polib.pofile(str(PO)).translated_entries():
        if entry.msgid_plural:
            continue
        assert compiled.gettext(entry.msgid) == entry.msgstr, entry.msgid


@pytest.mark.skipif(shutil.which("xgettext") is None, reason="gettext is not installed")
def test_no_text_is_missing_from_the_catalog(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Run makemessages on a copy: it must find no msgid the committed catalog lacks."""
    copy = tmp_path / "leitstand"
    shutil.copytree(REPO / "src" / "leitstand", copy, ignore=shutil.ignore_patterns("__pycache__"))
    subprocess.run(
        ["django-admin", "makemessages", "-l", "de", "--no-location", "--no-obsolete"],
        cwd=copy,
        check=True,
        capture_output=True,
        env={"PATH": str(REPO / ".venv" / "bin") + ":/usr/bin:/bin"},
    )
    fresh = {e.msgid for e in polib.pofile(str(copy / "locale/de/LC_MESSAGES/django.po"))}
    committed = {e.msgid for e in polib.pofile(str(PO))}
    assert fresh - committed == set(), "run `make messages` and translate the new texts"


@pytest.mark.django_db
def test_login_page_in_german(client: Client) -> None:
    page = client.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="de").content.decode()
    assert "Kundennummer" in page
    assert 'lang="de"' in page


@pytest.mark.django_db
def test_language_switch_persists(client: Client) -> None:
    client.post("/i18n/setlang/", {"language": "de", "next": "/accounts/login/"})
    assert "Anmelden" in client.get("/accounts/login/").content.decode()
    client.post("/i18n/setlang/", {"language": "en", "next": "/accounts/login/"})
    assert "Log in" in client.get("/accounts/login/").content.decode()


def test_model_names_translate() -> None:
    from leitstand.contracts.models import Customer

    with translation.override("de"):
        assert str(Customer._meta.verbose_name) == "Kunde"
