"""Back-office pages of billing: invoice run, review, finalisation, credit notes, exports."""

from __future__ import annotations

from django.urls import URLPattern, path

from leitstand.billing import staff_views as views

app_name = "billing"
urlpatterns: list[URLPattern] = [
    path("", views.index, name="index"),
    path("run", views.run, name="run"),
    path("finalise-all", views.finalise_all, name="finalise-all"),
    path("export.csv", views.export, name="export"),
    path("invoices/<int:pk>/", views.detail, name="invoice"),
    path("invoices/<int:pk>/finalise", views.finalise, name="finalise"),
    path("invoices/<int:pk>/credit-note", views.credit_note, name="credit-note"),
    path("invoices/<int:pk>/lines/<int:position>/edit", views.edit_line, name="line-edit"),
    path("invoices/<int:pk>/lines/<int:position>/remove", views.remove_line, name="line-remove"),
    path("invoices/<int:pk>/documents/<str:kind>", views.document, name="document"),
]
