"""Rate cards: how support time is priced (increments, free threshold, rates)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import ClassVar

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from leitstand.billing.charges import Rate as RateRule
from leitstand.billing.charges import RateCard as RateCardRule
from leitstand.core.models import CatalogEntry


class RateCard(CatalogEntry):
    """Seed 003 §1: "35,00 EUR netto je angefangener Viertelstunde ..., falls die
    Behebung mehr als 5 Minuten in Anspruch nimmt" -- increment 15 min, free up to 5 min.
    """

    currency = models.CharField(_("currency"), max_length=3, default="EUR")
    increment_seconds = models.PositiveIntegerField(_("increment (seconds)"))
    free_up_to_seconds = models.PositiveIntegerField(
        _("free up to (seconds)"), null=True, blank=True
    )

    class Meta(CatalogEntry.Meta):
        verbose_name = _("rate card")
        verbose_name_plural = _("rate cards")
        constraints: ClassVar = [
            models.CheckConstraint(
                condition=Q(increment_seconds__gt=0), name="rate_card_increment_positive"
            )
        ]

    def to_rule(self) -> RateCardRule:
        """The pure rate card used by tickets and invoices."""
        return RateCardRule(
            currency=self.currency,
            increment=timedelta(seconds=self.increment_seconds),
            rates={
                r.work_type: RateRule(per_hour=r.per_hour, per_increment=r.per_increment)
                for r in self.rates.all()
            },
            free_up_to=(
                timedelta(seconds=self.free_up_to_seconds)
                if self.free_up_to_seconds is not None
                else None
            ),
        )


class Rate(models.Model):
    """The price of one work type on a rate card: per hour or per increment."""

    card = models.ForeignKey(
        RateCard, verbose_name=_("rate card"), on_delete=models.CASCADE, related_name="rates"
    )
    work_type = models.CharField(_("work type"), max_length=50)
    per_hour = models.DecimalField(
        _("per hour"), max_digits=10, decimal_places=2, null=True, blank=True
    )
    per_increment = models.DecimalField(
        _("per increment"), max_digits=10, decimal_places=2, null=True, blank=True
    )

    class Meta:
        verbose_name = _("rate")
        verbose_name_plural = _("rates")
        ordering = ("card", "work_type")
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["card", "work_type"], name="unique_rate_work_type"),
            models.CheckConstraint(
                condition=(Q(per_hour__isnull=True) & Q(per_increment__isnull=False))
                | (Q(per_hour__isnull=False) & Q(per_increment__isnull=True)),
                name="rate_per_hour_xor_per_increment",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.card.name}: {self.work_type}"


class InvoiceSequence(models.Model):
    """The last invoice number per year; locked while a number is taken (no gaps)."""

    year = models.PositiveIntegerField(primary_key=True)
    last = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("invoice sequence")
        verbose_name_plural = _("invoice sequences")

    def __str__(self) -> str:
        return f"{self.year}: {self.last}"


class FinalInvoiceError(Exception):
    """A final invoice cannot be changed; corrections are credit notes."""


class Invoice(models.Model):
    """A monthly invoice or a credit note: a draft until staff finalise it.

    Final invoices are immutable and numbered in one gapless sequence per year
    (GoBD, § 14 UStG); corrections are credit notes that refer to the invoice.
    """

    class Kind(models.TextChoices):
        INVOICE = "invoice", _("Invoice")
        CREDIT_NOTE = "credit_note", _("Credit note")

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        FINAL = "final", _("Final")

    customer = models.ForeignKey(
        "contracts.Customer",
        verbose_name=_("customer"),
        on_delete=models.PROTECT,
        related_name="invoices",
    )
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices, default=Kind.INVOICE)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.DRAFT
    )
    number = models.CharField(_("number"), max_length=40, unique=True, null=True, blank=True)
    period_start = models.DateField(_("period from"))
    period_end = models.DateField(_("period until"))
    issued_on = models.DateField(_("issued on"), null=True, blank=True)
    currency = models.CharField(_("currency"), max_length=3, default="EUR")
    vat_treatment = models.CharField(_("VAT treatment"), max_length=20)
    corrects = models.ForeignKey(
        "self",
        verbose_name=_("corrects"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="credit_notes",
    )
    net_total = models.DecimalField(
        _("net"), max_digits=12, decimal_places=2, default=Decimal("0.00")
    )
    vat_total = models.DecimalField(
        _("VAT"), max_digits=12, decimal_places=2, default=Decimal("0.00")
    )
    gross_total = models.DecimalField(
        _("gross"), max_digits=12, decimal_places=2, default=Decimal("0.00")
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("invoice")
        verbose_name_plural = _("invoices")
        ordering = ("-period_start", "customer")
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["customer", "period_start", "kind"],
                condition=Q(status="draft", kind="invoice"),
                name="one_draft_invoice_per_period",
            ),
            models.CheckConstraint(
                condition=Q(status="draft") | Q(number__isnull=False),
                name="final_invoice_has_number",
            ),
        ]

    def __str__(self) -> str:
        return self.number or f"draft {self.customer} {self.period_start:%Y-%m}"

    def save(self, *args: object, **kwargs: object) -> None:
        """Refuse to change a final invoice (finalising itself is one UPDATE in ``finalise``)."""
        if self.pk:
            stored = Invoice.objects.filter(pk=self.pk).values_list("status", flat=True).first()
            if stored == self.Status.FINAL:
                raise FinalInvoiceError(f"invoice {self.number} is final; issue a credit note")
        super().save(*args, **kwargs)  # type: ignore[arg-type]

    def delete(self, *args: object, **kwargs: object) -> tuple[int, dict[str, int]]:
        """A final invoice is never deleted."""
        if Invoice.objects.filter(pk=self.pk, status=self.Status.FINAL).exists():
            raise FinalInvoiceError(f"invoice {self.number} is final and cannot be deleted")
        return super().delete(*args, **kwargs)  # type: ignore[arg-type]


class InvoiceLine(models.Model):
    """One line: what, how many, at what price, and its VAT; exact to the cent."""

    invoice = models.ForeignKey(
        Invoice, verbose_name=_("invoice"), on_delete=models.CASCADE, related_name="lines"
    )
    position = models.PositiveIntegerField(_("position"))
    kind = models.CharField(_("kind"), max_length=20)
    description = models.CharField(_("description"), max_length=500)
    quantity = models.DecimalField(_("quantity"), max_digits=14, decimal_places=6)
    unit = models.CharField(_("unit"), max_length=20)
    unit_price = models.DecimalField(_("unit price"), max_digits=14, decimal_places=6)
    vat_rate = models.DecimalField(_("VAT rate (%)"), max_digits=5, decimal_places=2)
    net = models.DecimalField(_("net"), max_digits=12, decimal_places=2)
    vat = models.DecimalField(_("VAT"), max_digits=12, decimal_places=2)
    included = models.BooleanField(_("included"), default=False)
    reference = models.CharField(_("reference"), max_length=100, blank=True)
    time_entries = models.ManyToManyField(
        "helpdesk.TimeEntry",
        verbose_name=_("time entries"),
        blank=True,
        related_name="invoice_lines",
    )

    class Meta:
        verbose_name = _("invoice line")
        verbose_name_plural = _("invoice lines")
        ordering = ("invoice", "position")

    def __str__(self) -> str:
        return f"{self.invoice} #{self.position}"

    def save(self, *args: object, **kwargs: object) -> None:
        """Lines of a final invoice are as final as the invoice."""
        if Invoice.objects.filter(pk=self.invoice_id, status=Invoice.Status.FINAL).exists():
            raise FinalInvoiceError("the lines of a final invoice cannot change")
        super().save(*args, **kwargs)  # type: ignore[arg-type]


class BillingProfile(models.Model):
    """What an e-invoice to this customer needs beyond the customer record.

    XRechnung (CIUS of EN 16931) makes the buyer reference BT-10 mandatory: for
    public-sector buyers it is their Leitweg-ID; for everyone else the customer
    number serves. BT-49 (the buyer's electronic address) is the invoice e-mail.
    """

    customer = models.OneToOneField(
        "contracts.Customer",
        verbose_name=_("customer"),
        on_delete=models.CASCADE,
        related_name="billing_profile",
    )
    buyer_reference = models.CharField(
        _("buyer reference (Leitweg-ID)"),
        max_length=100,
        blank=True,
        help_text=_("Leave empty to use the customer number."),
    )
    invoice_email = models.EmailField(_("invoice e-mail"), blank=True)

    class Meta:
        verbose_name = _("billing profile")
        verbose_name_plural = _("billing profiles")

    def __str__(self) -> str:
        return str(self.customer)


class InvoiceDocument(models.Model):
    """A rendered document of a final invoice, stored once and never re-rendered.

    GoBD: what was sent is what is kept. The bytes are written at finalisation;
    the SHA-256 lets an auditor prove a download is the original.
    """

    class Kind(models.TextChoices):
        PDF = "pdf", _("PDF (ZUGFeRD / Factur-X)")
        FACTURX = "facturx", _("Factur-X XML (EN 16931)")
        XRECHNUNG = "xrechnung", _("XRechnung XML")

    invoice = models.ForeignKey(
        Invoice, verbose_name=_("invoice"), on_delete=models.PROTECT, related_name="documents"
    )
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    content = models.BinaryField(_("content"))
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("invoice document")
        verbose_name_plural = _("invoice documents")
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["invoice", "kind"], name="one_document_per_kind"),
        ]

    def __str__(self) -> str:
        return f"{self.invoice} {self.kind}"

    def save(self, *args: object, **kwargs: object) -> None:
        """Documents are written once."""
        if self.pk and InvoiceDocument.objects.filter(pk=self.pk).exists():
            raise FinalInvoiceError("a stored invoice document cannot change")
        super().save(*args, **kwargs)  # type: ignore[arg-type]


class LineChange(models.Model):
    """A change staff made to a draft line, with the reason (the review's audit trail)."""

    class Action(models.TextChoices):
        EDIT = "edit", _("changed")
        REMOVE = "remove", _("removed")

    invoice = models.ForeignKey(
        Invoice, verbose_name=_("invoice"), on_delete=models.CASCADE, related_name="line_changes"
    )
    position = models.PositiveIntegerField(_("position"))
    action = models.CharField(_("action"), max_length=10, choices=Action.choices)
    reason = models.TextField(_("reason"))
    before = models.JSONField(_("before"), default=dict)
    after = models.JSONField(_("after"), default=dict, blank=True)
    changed_by = models.ForeignKey(
        "accounts.User",
        verbose_name=_("changed by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    changed_at = models.DateTimeField(_("changed"), auto_now_add=True)

    class Meta:
        verbose_name = _("line change")
        verbose_name_plural = _("line changes")
        ordering = ("invoice", "changed_at")

    def __str__(self) -> str:
        return f"{self.invoice} #{self.position} {self.action}"
