from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AlertingConfig(AppConfig):
    name = "leitstand.alerting"
    label = "alerting"
    verbose_name = _("Alerting")

    def ready(self) -> None:
        from leitstand.alerting import jobs  # noqa: F401, PLC0415 - registers periodic steps
        from leitstand.alerting.actions import process_event  # noqa: PLC0415
        from leitstand.monitoring.hooks import on_event  # noqa: PLC0415

        # Outbox rows in the transaction that stores the event (issue 5).
        on_event(process_event)
