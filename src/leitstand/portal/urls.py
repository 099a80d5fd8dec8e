from __future__ import annotations

from django.urls import path

from leitstand.portal import views

app_name = "portal"
urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("assets/<int:asset_id>/", views.asset_detail, name="asset"),
    path("tickets/", views.tickets, name="tickets"),
    path("tickets/new/", views.ticket_new, name="ticket-new"),
    path("tickets/<str:number>/", views.ticket_detail, name="ticket"),
    path("invoices/", views.invoices, name="invoices"),
    path("invoices/<str:number>/", views.invoice_detail, name="invoice"),
    path("invoices/<str:number>/csv", views.invoice_csv, name="invoice-csv"),
    path("maintenance/", views.maintenance, name="maintenance"),
    path("maintenance/<str:token>.ics", views.maintenance_feed, name="maintenance-feed"),
]
