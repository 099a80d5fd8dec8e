from __future__ import annotations

from django.urls import path

from leitstand.billing import portal_views as billing_portal
from leitstand.portal import views, views_account, views_dashboard, views_operations

app_name = "portal"
urlpatterns = [
    path("", views_dashboard.dashboard, name="dashboard"),
    path("assets/<int:asset_id>/", views.asset_detail, name="asset"),
    path("tickets/", views.tickets, name="tickets"),
    path("tickets/new/", views.ticket_new, name="ticket-new"),
    path("tickets/<str:number>/", views.ticket_detail, name="ticket"),
    path("invoices/", views.invoices, name="invoices"),
    path("invoices/<str:number>/", views.invoice_detail, name="invoice"),
    path("invoices/<str:number>/csv", views.invoice_csv, name="invoice-csv"),
    path("invoices/<str:number>/pdf", billing_portal.invoice_pdf, name="invoice-pdf"),
    path("invoices/<str:number>/xml", billing_portal.invoice_xml, name="invoice-xml"),
    path("contacts/", views_account.contacts, name="contacts"),
    path("contacts/change/", views_account.contact_change, name="contact-change"),
    path("licences/", views_account.licences, name="licences"),
    path("licences/expand/", views_account.licence_expand, name="licence-expand"),
    path("backups/", views_operations.backups, name="backups"),
    path("backups/restore/", views_operations.restore_new, name="restore-new"),
    path("processes/", views_operations.processes, name="processes"),
    path(
        "processes/exception/",
        views_operations.process_exception_new,
        name="process-exception-new",
    ),
    path("maintenance/", views.maintenance, name="maintenance"),
    path("maintenance/<str:token>.ics", views.maintenance_feed, name="maintenance-feed"),
]
