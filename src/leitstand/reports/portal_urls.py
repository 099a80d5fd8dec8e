"""Customer-portal pages for SLA reports and claims."""

from __future__ import annotations

from django.urls import path

from leitstand.reports import views

app_name = "claims"
urlpatterns = [
    path("", views.overview, name="list"),
    path("reports/<int:contract_id>/", views.report, name="sla-report"),
    path("reports/<int:contract_id>/claim/", views.claim_new, name="claim-new"),
    path("<int:claim_id>/", views.claim_detail, name="claim"),
]
