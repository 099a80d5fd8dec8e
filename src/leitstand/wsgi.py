"""WSGI entry point for production servers."""

from __future__ import annotations

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "leitstand.settings")
application = get_wsgi_application()

from leitstand.core import heap  # noqa: E402 - needs the settings configured above

heap.settle()
