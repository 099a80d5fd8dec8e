"""The agent API (``docs/agent-protocol.md``): thin views over :mod:`leitstand.operations.agents`.

Plain Django views rather than django-ninja here: the protocol needs exact
status codes and the raw body of anything malformed (to quarantine it), not
automatic 422 answers.
"""

from __future__ import annotations

import contextlib
import json
import secrets
import threading
from collections.abc import Callable, Iterator
from functools import wraps
from typing import Any

from django.conf import settings
from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from leitstand.operations import agents, escalation
from leitstand.operations.models import Agent

RETRY_AFTER_DB_DOWN = 30
# Overloaded: come back in 30-90 s, spread so that agents turned away together
# do not all return together.
RETRY_AFTER_BUSY = (30, 90)
View = Callable[..., HttpResponse]

_admission_lock = threading.Lock()
_admission: tuple[int, threading.BoundedSemaphore] | None = None


class Busy(Exception):
    """This process already stores as many reports as it may at once."""


@contextlib.contextmanager
def admitted() -> Iterator[None]:
    """Hold one of the ``AGENT_MAX_CONCURRENT_REPORTS`` slots of this process, or
    raise :class:`Busy` at once: an overloaded server says so instead of letting
    requests pile up on database connections and locks.
    """
    global _admission  # noqa: PLW0603 - one gate per process, built on first use
    limit = max(1, int(settings.AGENT_MAX_CONCURRENT_REPORTS))
    with _admission_lock:
        if _admission is None or _admission[0] != limit:
            _admission = (limit, threading.BoundedSemaphore(limit))
        gate = _admission[1]
    if not gate.acquire(blocking=False):
        raise Busy
    try:
        yield
    finally:
        gate.release()


def busy() -> JsonResponse:
    """503 with a spread Retry-After: the agent keeps its report and comes back."""
    response = JsonResponse({"error": "overloaded, try again later"}, status=503)
    response["Retry-After"] = str(secrets.SystemRandom().randint(*RETRY_AFTER_BUSY))
    return response


def _error(exc: agents.AgentError) -> JsonResponse:
    response = JsonResponse({"error": exc.message}, status=exc.status)
    if exc.retry_after is not None:
        response["Retry-After"] = str(exc.retry_after)
    return response


def agent_endpoint(*, authenticated: bool = True) -> Callable[[View], View]:
    """Authenticate, rate-limit and turn refusals and database outages into answers.

    A database outage answers 503 with Retry-After: the agent keeps its report
    and comes back, so nothing is lost while the database is away.
    """

    def decorate(view: View) -> View:
        @csrf_exempt
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            try:
                if authenticated:
                    agent = agents.authenticate(request.headers.get("Authorization", ""))
                    agents.check_rate(agent)
                    return view(request, agent, *args, **kwargs)
                return view(request, *args, **kwargs)
            except agents.AgentError as exc:
                return _error(exc)
            except DatabaseError:
                response = JsonResponse({"error": "temporarily unavailable"}, status=503)
                response["Retry-After"] = str(RETRY_AFTER_DB_DOWN)
                return response

        return wrapper

    return decorate


@require_POST
@agent_endpoint(authenticated=False)
def enroll(request: HttpRequest) -> HttpResponse:
    try:
        data = json.loads(request.body)
        token = str(data["token"])
    except (json.JSONDecodeError, UnicodeDecodeError, KeyError, TypeError):
        return JsonResponse({"error": "expected JSON with a token"}, status=400)
    result = agents.enroll(
        token,
        hostname=str(data.get("hostname", "")),
        machine_id=str(data.get("machine_id", "")),
        version=str(data.get("agent_version", "")),
    )
    return JsonResponse(
        {
            "host_id": result.agent.pk,
            "secret": result.secret,
            "action_key": result.action_key,
            "report_interval": agents.REPORT_INTERVAL_S,
        },
        status=201,
    )


@require_POST
@agent_endpoint()
def rotate(request: HttpRequest, agent: Agent) -> HttpResponse:
    return JsonResponse({"secret": agents.rotate_secret(agent)})


@require_POST
@agent_endpoint()
def report(request: HttpRequest, agent: Agent) -> HttpResponse:
    # Read at most one byte past the limit: a hostile or broken agent sending
    # gigabytes costs the server nothing but the refusal.
    try:
        with admitted():
            outcome = agents.accept_report(agent, request.read(agents.MAX_REPORT_BYTES + 1))
    except Busy:
        return busy()
    body: dict[str, Any] = {"accepted": outcome.seq}
    if outcome.duplicate:
        body["duplicate"] = True
    return JsonResponse(body, status=outcome.status)


@require_GET
@agent_endpoint()
def policy(request: HttpRequest, agent: Agent) -> HttpResponse:
    return JsonResponse(escalation.policy_document(agent.asset))


@require_GET
@agent_endpoint()
def actions(request: HttpRequest, agent: Agent) -> HttpResponse:
    return JsonResponse({"actions": agents.hand_out_actions(agent)})


@require_POST
@agent_endpoint()
def action_result(request: HttpRequest, agent: Agent, action_id: int) -> HttpResponse:
    agents.record_result(agent, action_id, request.read(agents.MAX_REPORT_BYTES + 1))
    return JsonResponse({"ok": True})
