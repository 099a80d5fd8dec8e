"""Who may see which side.

Staff pages answer 404 to customer users (not 403: a customer should not even
learn that a staff URL exists); portal pages send staff to the back office.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest, HttpResponse

View = Callable[..., HttpResponse]


def staff_required(view: View) -> View:
    """Only active provider staff."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        user = request.user
        if not user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not user.is_staff or getattr(user, "customer_id", None) is not None:
            raise Http404
        return view(request, *args, **kwargs)

    return wrapper


def customer_required(view: View) -> View:
    """Only users of a customer; ``request.customer`` is their customer."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        user = request.user
        if not user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        customer = getattr(user, "customer", None)
        if customer is None:
            raise Http404
        request.customer = customer  # type: ignore[attr-defined]
        return view(request, *args, **kwargs)

    return wrapper
