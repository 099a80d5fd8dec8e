"""Inbound webhooks and acknowledgement links (no login: each is authenticated itself)."""

from __future__ import annotations

from django.urls import URLPattern, path

from leitstand.alerting import hook_views

app_name = "hooks"
urlpatterns: list[URLPattern] = [
    path("ack/<str:token>/", hook_views.ack, name="ack"),
    path("inbound/<slug:slug>/", hook_views.inbound_hook, name="inbound"),
    path("sms/twilio/", hook_views.twilio_sms, name="twilio-sms"),
]
