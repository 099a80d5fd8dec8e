"""Shared model bases."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class CatalogEntry(models.Model):
    """A named rule of the provider's offer, maintained as code (``leitstand catalog load``).

    The name is the key the catalog file uses; loading the same file again
    updates the entry with that name and changes nothing else.
    """

    name = models.SlugField(_("name"), max_length=100, unique=True, allow_unicode=False)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        abstract = True
        ordering = ("name",)

    def __str__(self) -> str:
        return self.name
