"""Entry points that belong to no domain."""

from __future__ import annotations

from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect


def home(request: HttpRequest) -> HttpResponse:
    """Send each person to their side: back office, portal, or the login page."""
    user = request.user
    if not user.is_authenticated:
        return redirect("accounts:login")
    if getattr(user, "customer_id", None) is not None:
        return redirect("portal:dashboard")
    return redirect("staff:dashboard")


def healthz(request: HttpRequest) -> HttpResponse:
    """Liveness for load balancers and ``leitstand run``: the database answers."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})
