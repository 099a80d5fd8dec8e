"""Claim rules, and the customers' penalty claims from submission to credit."""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any, ClassVar

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from leitstand.core.models import CatalogEntry
from leitstand.reports.claims import ClaimRule as ClaimRuleRule
from leitstand.reports.claims import CompensationRule, CreditTier


def default_credit_tiers() -> list[dict[str, str]]:
    """The product's default scale until a provider sets its own: the seeds name
    "the applicable penalty compensation" (002 §2.2) but not its amount."""
    return [
        {"below": "99.9", "credit": "10"},
        {"below": "99.5", "credit": "25"},
        {"below": "99", "credit": "50"},
    ]


class ClaimRule(CatalogEntry):
    """Seed 002 §2.2: "Claims must be submitted within 14 calendar days following the
    end of the relevant month. A claim may only be submitted if the Client reported
    at least one incident during that month." ... "If all conditions are met and
    Webosa's measurements confirm a deviation from the agreed service levels, the
    applicable penalty compensation will be paid."
    """

    window_days = models.PositiveIntegerField(_("window (days after month end)"))
    requires_reported_incident = models.BooleanField(_("requires a reported incident"))
    availability_target = models.DecimalField(
        _("promised availability (%)"),
        max_digits=6,
        decimal_places=3,
        default=Decimal("99.9"),
        help_text=_("Share of the counted time each priority 1 service is up, in percent."),
    )
    credit_tiers = models.JSONField(
        _("compensation tiers"),
        default=default_credit_tiers,
        blank=True,
        help_text=_(
            "Below which availability which share of the monthly fee is credited, e.g. "
            '[{"below": "99.9", "credit": "10"}, {"below": "99", "credit": "50"}].'
        ),
    )
    cap_percent = models.DecimalField(
        _("cap (% of the monthly fee)"),
        max_digits=6,
        decimal_places=3,
        default=Decimal("50"),
        help_text=_("The most one month's claim can be credited, in percent of the fee."),
    )

    class Meta(CatalogEntry.Meta):
        verbose_name = _("claim rule")
        verbose_name_plural = _("claim rules")

    def to_rule(self) -> ClaimRuleRule:
        """The pure claim rule."""
        return ClaimRuleRule(
            window_days=self.window_days,
            requires_reported_incident=self.requires_reported_incident,
        )

    def to_compensation_rule(self) -> CompensationRule:
        """The pure compensation rule; ValueError names what is wrong with it."""
        tiers: list[CreditTier] = []
        if not isinstance(self.credit_tiers, list):
            raise ValueError("compensation tiers must be a list")
        for item in self.credit_tiers:
            if not isinstance(item, dict) or set(item) != {"below", "credit"}:
                raise ValueError(f'bad tier {item!r}: expected {{"below": ..., "credit": ...}}')
            try:
                tiers.append(CreditTier(Decimal(str(item["below"])), Decimal(str(item["credit"]))))
            except InvalidOperation:
                raise ValueError(f"bad tier {item!r}: percentages must be numbers") from None
        return CompensationRule(
            target=Decimal(self.availability_target),
            tiers=tuple(tiers),
            cap=Decimal(self.cap_percent),
        )

    def clean(self) -> None:
        """Refuse a scale the pure rule would refuse, before it is saved."""
        try:
            self.to_compensation_rule()
        except ValueError as exc:
            raise ValidationError({"credit_tiers": str(exc)}) from None


class Claim(models.Model):
    """A customer's claim for penalty compensation for one contract and month.

    Seed 002 §2.2: "The Client is responsible for submitting a claim for any
    applicable penalty compensation." Submitted in the portal, decided by staff
    (the amount is computed by :func:`leitstand.reports.claims.compensation` from
    the measured availability), credited once on the customer's next invoice
    (``credit_line``; a replaced draft frees it again).
    """

    class State(models.TextChoices):
        SUBMITTED = "submitted", _("Submitted")
        ACCEPTED = "accepted", _("Accepted")
        PARTLY_ACCEPTED = "partly_accepted", _("Partly accepted")
        REJECTED = "rejected", _("Rejected")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    CREDITED_STATES: ClassVar = (State.ACCEPTED, State.PARTLY_ACCEPTED)
    DECIDED_STATES: ClassVar = (State.ACCEPTED, State.PARTLY_ACCEPTED, State.REJECTED)

    customer = models.ForeignKey(
        "contracts.Customer",
        verbose_name=_("customer"),
        on_delete=models.PROTECT,
        related_name="claims",
    )
    contract = models.ForeignKey(
        "contracts.Contract",
        verbose_name=_("contract"),
        on_delete=models.PROTECT,
        related_name="claims",
    )
    month = models.DateField(_("month claimed"), help_text=_("The first day of the month."))
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("submitted by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    submitted_at = models.DateTimeField(_("submitted"))
    statement = models.TextField(_("statement"))
    ticket = models.OneToOneField(
        "helpdesk.Ticket",
        verbose_name=_("support ticket"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="sla_claim",
        help_text=_("Seed 002 §2.2: claims are submitted via the support channel."),
    )
    tickets = models.ManyToManyField(
        "helpdesk.Ticket",
        verbose_name=_("incidents referred to"),
        blank=True,
        related_name="claims",
    )
    state = models.CharField(
        _("state"), max_length=20, choices=State.choices, default=State.SUBMITTED
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    reason = models.TextField(_("reason of the decision"), blank=True)
    availability = models.DecimalField(
        _("measured availability (%)"), max_digits=7, decimal_places=3, null=True, blank=True
    )
    target = models.DecimalField(
        _("promised availability (%)"), max_digits=6, decimal_places=3, null=True, blank=True
    )
    computed_amount = models.DecimalField(
        _("compensation by the contract"), max_digits=10, decimal_places=2, null=True, blank=True
    )
    amount = models.DecimalField(
        _("compensation granted"), max_digits=10, decimal_places=2, null=True, blank=True
    )
    currency = models.CharField(_("currency"), max_length=3, default="EUR")
    credit_line = models.ForeignKey(
        "billing.InvoiceLine",
        verbose_name=_("credited on"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="claims",
    )
    notified_at = models.DateTimeField(_("customer notified"), null=True, blank=True)

    class Meta:
        verbose_name = _("claim")
        verbose_name_plural = _("claims")
        ordering = ("-submitted_at", "-id")
        indexes: ClassVar = [
            models.Index(fields=["state", "credit_line"]),
            models.Index(fields=["customer", "month"]),
        ]
        constraints: ClassVar = [
            # One live claim per contract and month: a second one would be paid twice.
            models.UniqueConstraint(
                fields=["contract", "month"],
                condition=Q(state__in=["submitted", "accepted", "partly_accepted"]),
                name="one_live_claim_per_contract_month",
            ),
            models.CheckConstraint(
                condition=Q(amount__isnull=True) | Q(amount__gte=0),
                name="claim_amount_not_negative",
            ),
            models.CheckConstraint(
                condition=~Q(state__in=["accepted", "partly_accepted"])
                | (Q(amount__gt=0) & Q(decided_at__isnull=False)),
                name="granted_claim_has_amount",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.customer.number} {self.month:%Y-%m} {self.contract.asset.name}"

    @property
    def year_month(self) -> tuple[int, int]:
        return self.month.year, self.month.month

    @property
    def is_open(self) -> bool:
        """Still waiting for a decision (and still withdrawable)."""
        return self.state == self.State.SUBMITTED

    @staticmethod
    def first_of(year: int, month: int) -> date:
        return date(year, month, 1)

    def credited_invoice(self) -> Any:
        """The final invoice that credited the claim, or None (not yet, or only a draft)."""
        line = self.credit_line
        if line is None or line.invoice.status != "final":
            return None
        return line.invoice
