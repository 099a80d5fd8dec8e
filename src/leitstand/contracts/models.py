"""Customers, their people and servers, and what they booked.

Seed 001 §1: "Je Server, VM o.ä. muss ein MSP gebucht werden. Die Leistungen des
MSP können nur für die direkt zugehörige IT-Infrastrukturdienstleistung genutzt
werden." A :class:`Contract` therefore books one :class:`Plan` for one
:class:`Asset`; the customer is the asset's.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any, ClassVar

from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from datetime import date


class Customer(models.Model):
    """A customer of the provider, known by its customer number."""

    number = models.CharField(
        _("customer number"),
        max_length=20,
        unique=True,
        validators=[RegexValidator(r"^[A-Za-z0-9-]+$", _("Letters, digits and hyphens only."))],
    )
    name = models.CharField(_("name"), max_length=200)
    street = models.CharField(_("street"), max_length=200, blank=True)
    postcode = models.CharField(_("postcode"), max_length=20, blank=True)
    city = models.CharField(_("city"), max_length=100, blank=True)
    country = models.CharField(_("country"), max_length=2, default="DE")
    vat_id = models.CharField(_("VAT ID"), max_length=20, blank=True)
    is_business = models.BooleanField(_("business customer"), default=True)
    language = models.CharField(
        _("language"),
        max_length=8,
        default="de",
        choices=[("en", _("English")), ("de", _("German"))],
    )
    timezone = models.CharField(_("time zone"), max_length=64, default="Europe/Berlin")
    enforce_totp = models.BooleanField(
        _("require a second factor"),
        default=False,
        help_text=_("Every portal user of this customer must log in with a TOTP code."),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        ordering = ("number",)

    def __str__(self) -> str:
        return f"{self.number} {self.name}"


class Contact(models.Model):
    """A person at the customer.

    Seed 001 §4: "Der Kunde ist angehalten, die weisungsberechtigten Mitarbeiter zu
    benennen und so den Kreis der zur Beauftragung von Zusatzleistungen
    berechtigten Personen zu kontrollieren und zu begrenzen."
    """

    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.CASCADE, related_name="contacts"
    )
    name = models.CharField(_("name"), max_length=200)
    phone = models.CharField(_("phone"), max_length=50, blank=True)
    mobile = models.CharField(_("mobile"), max_length=50, blank=True)
    may_order_paid_work = models.BooleanField(_("may order paid work"), default=False)
    is_technical = models.BooleanField(_("technical contact"), default=False)
    is_billing = models.BooleanField(_("billing contact"), default=False)
    receives_alarms = models.BooleanField(_("receives alarms"), default=False)

    class Meta:
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")
        ordering = ("customer", "name")

    def __str__(self) -> str:
        return self.name


class VerifiedEmail(models.Model):
    """An e-mail address of a contact, and whether and when it was verified.

    Seed 000 VIII: changes to content and data "may only be carried out if the
    request has been verified via the customer portal or the e-mail address
    registered in the customer account". Addresses are stored lower-case so that
    matching an inbound sender is exact.
    """

    contact = models.ForeignKey(
        Contact, verbose_name=_("contact"), on_delete=models.CASCADE, related_name="verified_emails"
    )
    address = models.EmailField(_("address"))
    verified_at = models.DateTimeField(_("verified"), null=True, blank=True)

    class Meta:
        verbose_name = _("e-mail address")
        verbose_name_plural = _("e-mail addresses")
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["contact", "address"], name="unique_contact_address")
        ]

    def __str__(self) -> str:
        return self.address

    def save(self, *args: object, **kwargs: object) -> None:
        self.address = self.address.strip().lower()
        super().save(*args, **kwargs)  # type: ignore[arg-type]

    @property
    def is_verified(self) -> bool:
        """True once the address was confirmed."""
        return self.verified_at is not None


class Asset(models.Model):
    """A managed server, VM or hosted service of a customer."""

    class Kind(models.TextChoices):
        SERVER = "server", _("Server")
        VM = "vm", _("Virtual machine")
        SERVICE = "service", _("Hosted service")

    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.PROTECT, related_name="assets"
    )
    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices, default=Kind.SERVER)
    hostnames = models.JSONField(_("host names"), default=list, blank=True)
    addresses = models.JSONField(_("IP addresses"), default=list, blank=True)
    notes = models.TextField(_("notes"), blank=True)

    class Meta:
        verbose_name = _("asset")
        verbose_name_plural = _("assets")
        ordering = ("customer", "name")
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["customer", "name"], name="unique_asset_name")
        ]

    def __str__(self) -> str:
        return self.name

    def active_contract(self, on: date | None = None) -> Contract | None:
        """The contract in force on ``on`` (default today)."""
        day = on or timezone.localdate()
        return (
            self.contracts.filter(starts_on__lte=day)
            .filter(Q(ends_on__isnull=True) | Q(ends_on__gte=day))
            .select_related("plan")
            .first()
        )


# The policies a plan sets by default and a contract may override: field name ->
# (catalog model, label). One table, so plan and contract cannot drift apart.
POLICIES: dict[str, tuple[str, Any]] = {
    "sla_policy": ("sla.SlaPolicy", _("SLA policy")),
    "rate_card": ("billing.RateCard", _("rate card")),
    "claim_rule": ("reports.ClaimRule", _("claim rule")),
    "maintenance_window": ("maintenance.MaintenanceWindow", _("maintenance window")),
    "update_policy": ("maintenance.UpdatePolicy", _("update policy")),
    "backup_policy": ("backups.BackupPolicy", _("backup policy")),
    "process_policy": ("operations.ProcessPolicy", _("process policy")),
    "restart_policy": ("operations.RestartPolicy", _("restart policy")),
    "intervention_rule": ("operations.InterventionRule", _("intervention rule")),
}
POLICY_FIELDS = tuple(POLICIES)


def policy_field(name: str, *, related_name: str | None = None) -> Any:
    """An optional, protected link to a catalog entry (deleting a policy in use fails)."""
    to, label = POLICIES[name]
    return models.ForeignKey(
        to,
        verbose_name=label,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name=related_name,
    )


class Plan(models.Model):
    """A managed-service package (MSP Basic, MSP Advanced, Managed Server ...).

    Holds the monthly fee, what it includes, licence limits (seed 000 VI:
    "the number of user accounts and the number of simultaneously connected
    users is limited"), and the default policies a contract inherits.
    """

    name = models.SlugField(_("name"), max_length=100, unique=True)
    title = models.CharField(_("title"), max_length=200)
    currency = models.CharField(_("currency"), max_length=3, default="EUR")
    monthly_fee = models.DecimalField(
        _("monthly fee"), max_digits=10, decimal_places=2, default=Decimal("0.00")
    )
    includes = models.JSONField(_("included services"), default=list, blank=True)
    max_user_accounts = models.PositiveIntegerField(_("user accounts"), null=True, blank=True)
    max_concurrent_users = models.PositiveIntegerField(_("concurrent users"), null=True, blank=True)
    sla_policy = policy_field("sla_policy")
    rate_card = policy_field("rate_card")
    claim_rule = policy_field("claim_rule")
    maintenance_window = policy_field("maintenance_window")
    update_policy = policy_field("update_policy")
    backup_policy = policy_field("backup_policy")
    process_policy = policy_field("process_policy")
    restart_policy = policy_field("restart_policy")
    intervention_rule = policy_field("intervention_rule")
    alarming_included = models.BooleanField(_("alarming included"), default=False)
    request_is_order = models.BooleanField(
        _("a support request is an order"),
        default=False,
        help_text=_("Seed 001 §4: opening a support request counts as an order of paid work."),
    )
    paid_work_requires_approval = models.BooleanField(
        _("paid work requires prior agreement"), default=True
    )
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("plan")
        verbose_name_plural = _("plans")
        ordering = ("name",)

    def __str__(self) -> str:
        return self.title or self.name


class AddOn(models.Model):
    """A bookable extra of a plan: SmartSupport, on-call, licence expansion ..."""

    plan = models.ForeignKey(
        Plan, verbose_name=_("plan"), on_delete=models.CASCADE, related_name="addons"
    )
    code = models.SlugField(_("code"), max_length=100)
    title = models.CharField(_("title"), max_length=200)
    monthly_fee = models.DecimalField(
        _("monthly fee"), max_digits=10, decimal_places=2, default=Decimal("0.00")
    )
    grants = models.JSONField(
        _("grants"),
        default=list,
        blank=True,
        help_text=_("Capabilities it adds, e.g. 24x7_handling, on_call, alarming."),
    )
    extra_user_accounts = models.PositiveIntegerField(_("extra user accounts"), default=0)
    extra_concurrent_users = models.PositiveIntegerField(_("extra concurrent users"), default=0)

    class Meta:
        verbose_name = _("add-on")
        verbose_name_plural = _("add-ons")
        ordering = ("plan", "code")
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["plan", "code"], name="unique_addon_code")
        ]

    def __str__(self) -> str:
        return self.title


class Contract(models.Model):
    """One plan booked for one asset, with its policies.

    Each policy left empty falls back to the plan's default (:meth:`policy`).
    """

    asset = models.ForeignKey(
        Asset, verbose_name=_("asset"), on_delete=models.PROTECT, related_name="contracts"
    )
    plan = models.ForeignKey(
        Plan, verbose_name=_("plan"), on_delete=models.PROTECT, related_name="contracts"
    )
    reference = models.CharField(_("reference"), max_length=50, blank=True)
    starts_on = models.DateField(_("starts on"))
    ends_on = models.DateField(_("ends on"), null=True, blank=True)
    addons = models.ManyToManyField(AddOn, verbose_name=_("add-ons"), blank=True)
    alarming_booked = models.BooleanField(
        _("alarming booked"),
        default=False,
        help_text=_(
            "Seed 001 §5.2: without alarming to the customer no proactive reaction is possible."
        ),
    )
    sla_policy = policy_field("sla_policy", related_name="+")
    rate_card = policy_field("rate_card", related_name="+")
    claim_rule = policy_field("claim_rule", related_name="+")
    maintenance_window = policy_field("maintenance_window", related_name="+")
    update_policy = policy_field("update_policy", related_name="+")
    backup_policy = policy_field("backup_policy", related_name="+")
    process_policy = policy_field("process_policy", related_name="+")
    restart_policy = policy_field("restart_policy", related_name="+")
    intervention_rule = policy_field("intervention_rule", related_name="+")

    class Meta:
        verbose_name = _("contract")
        verbose_name_plural = _("contracts")
        ordering = ("asset", "-starts_on")
        constraints: ClassVar = [
            models.CheckConstraint(
                condition=Q(ends_on__isnull=True) | Q(ends_on__gte=models.F("starts_on")),
                name="contract_ends_after_start",
            )
        ]

    def __str__(self) -> str:
        return f"{self.asset} / {self.plan}"

    @property
    def customer(self) -> Customer:
        """The customer is always the asset's."""
        return self.asset.customer

    def policy(self, field: str) -> models.Model | None:
        """The contract's own policy for ``field``, else the plan's default."""
        if field not in POLICY_FIELDS:
            raise ValueError(f"unknown policy field {field!r}")
        own: models.Model | None = getattr(self, field)
        return own if own is not None else getattr(self.plan, field)

    def grants(self) -> set[str]:
        """Capabilities from the booked add-ons (e.g. ``24x7_handling``)."""
        return {g for addon in self.addons.all() for g in addon.grants}

    @property
    def alarming(self) -> bool:
        """Whether the customer is alarmed: booked on the contract or included in the plan."""
        return self.alarming_booked or self.plan.alarming_included or "alarming" in self.grants()
