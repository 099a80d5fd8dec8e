"""Customer-portal pages of the helpdesk: estimates to approve, attachments."""

from __future__ import annotations

from django.urls import URLPattern

app_name = "portal_helpdesk"
urlpatterns: list[URLPattern] = []

# Estimates to approve or decline (helpdesk.estimate_views).
from django.urls import path  # noqa: E402

from leitstand.helpdesk import estimate_views  # noqa: E402

urlpatterns += [
    path("estimates/", estimate_views.portal_estimates, name="estimates"),
    path("estimates/<str:reference>/", estimate_views.portal_estimate, name="estimate"),
]

# Attachments of the customer's own tickets (helpdesk.attachments).
from leitstand.helpdesk import attachments  # noqa: E402

urlpatterns += [
    path("files/<int:attachment_id>/", attachments.portal_download, name="attachment"),
]
