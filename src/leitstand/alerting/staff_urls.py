"""Back-office pages of alerting: open alerts, acknowledgement."""

from __future__ import annotations

from django.urls import URLPattern, path

from leitstand.alerting import staff_views

app_name = "alerts"
urlpatterns: list[URLPattern] = [
    path("", staff_views.alert_list, name="list"),
    path("<int:pk>/", staff_views.alert_detail, name="detail"),
    path("<int:pk>/acknowledge/", staff_views.acknowledge, name="acknowledge"),
]
