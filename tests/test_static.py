"""The pages' CSS and JavaScript are served from this installation, never from a CDN."""

from __future__ import annotations

import re

import pytest
from django.contrib.staticfiles import finders
from django.test import Client
from tests.conftest import REPO


@pytest.mark.parametrize(
    "path",
    [
        "leitstand/leitstand.css",
        "vendor/htmx.min.js",
        "vendor/uPlot.iife.min.js",
        "vendor/uPlot.min.css",
    ],
)
def test_assets_are_found(path: str) -> None:
    assert finders.find(path), f"{path} missing: run scripts/build-assets (make does)"


@pytest.mark.django_db
def test_pages_load_nothing_from_other_hosts(client: Client) -> None:
    page = client.get("/accounts/login/").content.decode()
    assert "/static/leitstand/leitstand.css" in page
    assert not re.search(r'(src|href)="(https?:)?//', page)


def test_templates_reference_no_cdn() -> None:
    for template in (REPO / "src" / "leitstand").rglob("*.html"):
        text = template.read_text()
        assert not re.search(r'(src|href)="(https?:)?//', text), template
