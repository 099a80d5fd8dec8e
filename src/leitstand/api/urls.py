from __future__ import annotations

from django.urls import path

from leitstand.api import agent

app_name = "api"
urlpatterns = [
    path("agent/v1/enroll", agent.enroll, name="agent-enroll"),
    path("agent/v1/rotate", agent.rotate, name="agent-rotate"),
    path("agent/v1/report", agent.report, name="agent-report"),
    path("agent/v1/actions", agent.actions, name="agent-actions"),
    path("agent/v1/policy", agent.policy, name="agent-policy"),
    path("agent/v1/actions/<int:action_id>/result", agent.action_result, name="agent-result"),
]
