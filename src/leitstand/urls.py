"""URL routes: back office (``staff/``), customer portal (``portal/``), admin, login."""

from __future__ import annotations

from django.contrib import admin
from django.urls import include, path

from leitstand.core import views as core_views

urlpatterns = [
    path("", core_views.home, name="home"),
    path("healthz", core_views.healthz, name="healthz"),
    path("accounts/", include("leitstand.accounts.urls")),
    path("staff/", include("leitstand.staff.urls")),
    path("staff/alerts/", include("leitstand.alerting.staff_urls")),
    path("staff/tickets/", include("leitstand.helpdesk.staff_urls")),
    path("staff/billing/", include("leitstand.billing.staff_urls")),
    path("staff/claims/", include("leitstand.reports.staff_urls")),
    path("portal/", include("leitstand.portal.urls")),
    path("portal/helpdesk/", include("leitstand.helpdesk.portal_urls")),
    path("portal/claims/", include("leitstand.reports.portal_urls")),
    path("api/", include("leitstand.api.urls")),
    path("hooks/", include("leitstand.alerting.hook_urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
]
