from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class HelpdeskConfig(AppConfig):
    name = "leitstand.helpdesk"
    label = "helpdesk"
    verbose_name = _("Helpdesk")

    def ready(self) -> None:
        from leitstand.helpdesk import (  # noqa: F401, PLC0415 - registers periodic steps
            estimates,
            jobs,
            sla_watch,
        )
