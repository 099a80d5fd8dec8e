from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReportsConfig(AppConfig):
    name = "leitstand.reports"
    label = "reports"
    verbose_name = _("Reports")

    def ready(self) -> None:
        from leitstand.reports import jobs  # noqa: F401, PLC0415 - registers periodic steps
