from __future__ import annotations

from django.urls import path

from leitstand.staff import views

app_name = "staff"
urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("customers/<str:number>/", views.customer_detail, name="customer"),
    path("monitoring/", views.monitoring_board, name="monitoring"),
    path("monitoring/board/", views.monitoring_board_rows, name="monitoring_board"),
    path("monitoring/checks/<int:pk>/", views.monitoring_check, name="monitoring_check"),
    path(
        "monitoring/checks/<int:pk>/series.json",
        views.monitoring_check_series,
        name="monitoring_check_series",
    ),
    path("monitoring/assets/<int:pk>/", views.monitoring_asset, name="monitoring_asset"),
    path(
        "monitoring/assets/<int:pk>/metrics.json",
        views.monitoring_asset_metrics,
        name="monitoring_asset_metrics",
    ),
]
