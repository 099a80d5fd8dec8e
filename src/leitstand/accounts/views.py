"""Log in and out."""

from __future__ import annotations

from django.contrib.auth import login as auth_login
from django.contrib.auth import logout as auth_logout
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_POST

from leitstand.accounts.forms import LoginForm


@require_http_methods(["GET", "POST"])
def login(request: HttpRequest) -> HttpResponse:
    """One login page for staff and customers."""
    form = LoginForm(request, data=request.POST or None)
    if request.method == "POST" and form.is_valid() and form.user is not None:
        auth_login(request, form.user)
        target = request.GET.get("next", "")
        if not url_has_allowed_host_and_scheme(target, {request.get_host()}):
            target = ""
        return redirect(target or "home")
    return render(request, "accounts/login.html", {"form": form})


@require_POST
def logout(request: HttpRequest) -> HttpResponse:
    """End the session."""
    auth_logout(request)
    return redirect("accounts:login")
