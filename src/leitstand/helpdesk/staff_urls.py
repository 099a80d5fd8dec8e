"""Back-office pages of the helpdesk: queues and the ticket page."""

from __future__ import annotations

from django.urls import URLPattern, path

from leitstand.helpdesk import staff_views as views

app_name = "tickets"
urlpatterns: list[URLPattern] = [
    path("", views.queue, name="queues"),
    path("queue/<slug:key>/", views.queue, name="queue"),
    path("new/", views.ticket_new, name="new"),
    path("files/<int:attachment_id>/", views.download, name="download"),
    path("<str:number>/", views.ticket_detail, name="ticket"),
    path("<str:number>/assign/", views.ticket_assign, name="assign"),
    path("<str:number>/state/", views.ticket_status, name="status"),
    path("<str:number>/priority/", views.ticket_priority, name="priority"),
    path("<str:number>/reply/", views.ticket_reply, name="reply"),
    path("<str:number>/note/", views.ticket_note, name="note"),
    path("<str:number>/time/", views.ticket_time, name="time"),
    path("<str:number>/scope/", views.ticket_scope, name="scope"),
    path("<str:number>/milestone/", views.ticket_milestone, name="milestone"),
    path("<str:number>/files/", views.ticket_attach, name="attach"),
]

# Estimates for paid work (helpdesk.estimate_views).
from leitstand.helpdesk import estimate_views  # noqa: E402

urlpatterns += [
    path("<str:number>/estimates/", estimate_views.staff_ticket_estimates, name="estimate-list"),
    path(
        "<str:number>/estimates/<str:reference>/",
        estimate_views.staff_estimate,
        name="estimate-detail",
    ),
]
