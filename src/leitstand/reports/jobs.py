"""The reports app's periodic steps."""

from __future__ import annotations

from leitstand.core.periodic import periodic
from leitstand.reports import actions


@periodic(every=300.0)
def claim_notices() -> int:
    """Send the decision mails the mail server did not take when the claim was decided."""
    return actions.send_pending_notices()
