"""Back-office pages for SLA claims: review and decide."""

from __future__ import annotations

from django.urls import path

from leitstand.reports import staff_views

app_name = "claims_staff"
urlpatterns = [
    path("", staff_views.claims, name="list"),
    path("<int:claim_id>/", staff_views.claim_detail, name="claim"),
]
