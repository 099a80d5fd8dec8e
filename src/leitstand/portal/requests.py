"""Requests a customer makes in the portal that change the contract or its data.

Each opens a change-request ticket. Seed 000 VIII: changes to customer data
"may only be carried out if the request has been verified via the customer
portal or the e-mail address registered in the customer account" -- a portal
login is verified, so the ticket is. Seed 001 §4: the customer names "die
weisungsberechtigten Mitarbeiter", who may order paid work; the ticket says
whether the person asking is one of them, so that nobody orders by accident.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from leitstand.contracts.models import AddOn, Asset, Contact, Customer
from leitstand.helpdesk import actions as helpdesk
from leitstand.helpdesk.models import Ticket
from leitstand.lib.money import format_money


def contact_of(customer: Customer, user: Any) -> Contact | None:
    """The customer's contact whose verified address is the user's e-mail address."""
    email = (getattr(user, "email", "") or "").strip().lower()
    if not email:
        return None
    return (
        customer.contacts.filter(
            verified_emails__address=email, verified_emails__verified_at__isnull=False
        )
        .order_by("-may_order_paid_work", "pk")
        .first()
    )


def _authority_line(contact: Contact | None) -> str:
    if contact is None:
        return _(
            "The requesting user is not a named contact with a verified address: "
            "confirm paid work with an authorised person first."
        )
    if contact.may_order_paid_work:
        return _("Requested by %(name)s, who may order paid work.") % {"name": contact.name}
    return _(
        "Requested by %(name)s, who may not order paid work: confirm with an authorised "
        "person first."
    ) % {"name": contact.name}


def _yes_no(value: bool) -> str:
    return _("yes") if value else _("no")


def request_contact_change(customer: Customer, user: Any, data: dict[str, Any]) -> Ticket:
    """A change to the customer's contacts and authorised persons, as a change request."""
    contact: Contact | None = data.get("contact")
    change = str(data["change"])
    labels = {
        "add": _("Add a person"),
        "details": _("Change name, e-mail address or phone"),
        "roles": _("Change roles"),
        "remove": _("Remove a person"),
    }
    who = contact.name if contact else (data.get("name") or _("a new person"))
    lines = [
        _("Change of contacts: %(change)s") % {"change": labels.get(change, change)},
        _("Person: %(name)s") % {"name": who},
    ]
    if data.get("name") and contact is not None:
        lines.append(_("New name: %(name)s") % {"name": data["name"]})
    if data.get("email"):
        lines.append(
            _("E-mail address: %(email)s (to be verified)") % {"email": data["email"].lower()}
        )
    if data.get("phone"):
        lines.append(_("Phone: %(phone)s") % {"phone": data["phone"]})
    if change in ("add", "roles"):
        lines += [
            _("May order paid work: %(value)s") % {"value": _yes_no(data["may_order_paid_work"])},
            _("Technical contact: %(value)s") % {"value": _yes_no(data["is_technical"])},
            _("Billing contact: %(value)s") % {"value": _yes_no(data["is_billing"])},
            _("Receives alarms: %(value)s") % {"value": _yes_no(data["receives_alarms"])},
        ]
    if data.get("note"):
        lines += ["", data["note"]]
    requester = contact_of(customer, user)
    lines += ["", _authority_line(requester)]
    return helpdesk.open_ticket(
        customer,
        _("Change of contacts: %(name)s") % {"name": who},
        "\n".join(lines),
        channel=Ticket.Channel.PORTAL,
        kind=Ticket.Kind.CHANGE,
        requester=requester,
        requester_email=getattr(user, "email", "") or "",
        verified=True,
        user=user,
    )


def request_licence_expansion(
    asset: Asset,
    user: Any,
    *,
    addon: AddOn | None,
    extra_user_accounts: int | None,
    extra_concurrent_users: int | None,
    note: str = "",
) -> Ticket:
    """Seed 000 VI: "An optional expansion of these limits is available for a fee via
    the customer portal". The ticket names the add-on (code, title, monthly fee) so
    billing can book and price it; another quantity is offered by the provider."""
    customer = asset.customer
    lines = [_("Please expand the account licences of %(asset)s.") % {"asset": asset.name}]
    if addon is not None:
        lines += [
            _("Add-on: %(title)s (code %(code)s)") % {"title": addon.title, "code": addon.code},
            _("Monthly fee: %(fee)s %(currency)s")
            % {"fee": format_money(addon.monthly_fee), "currency": addon.plan.currency},
            _("Adds %(accounts)s user accounts and %(concurrent)s concurrent users.")
            % {
                "accounts": addon.extra_user_accounts,
                "concurrent": addon.extra_concurrent_users,
            },
        ]
    else:
        lines.append(
            _(
                "Another quantity, please send an offer: %(accounts)s user accounts, "
                "%(concurrent)s concurrent users."
            )
            % {
                "accounts": extra_user_accounts or 0,
                "concurrent": extra_concurrent_users or 0,
            }
        )
    if note:
        lines += ["", note]
    requester = contact_of(customer, user)
    lines += ["", _authority_line(requester)]
    return helpdesk.open_ticket(
        customer,
        _("Licence expansion for %(asset)s") % {"asset": asset.name},
        "\n".join(lines),
        channel=Ticket.Channel.PORTAL,
        kind=Ticket.Kind.CHANGE,
        asset=asset,
        requester=requester,
        requester_email=getattr(user, "email", "") or "",
        verified=True,
        user=user,
    )
