"""Which software updates the flat fee covers.

Seed 000 §III, included in the monthly fee: "Execution of minor and patch
updates – Updating frameworks and libraries in use (e.g. Django 5.2.x → 5.2.y)";
not included: "Major version upgrades – Upgrading to a new major version (e.g.
Django 5.x → 6.0 or React 19 → 20) ... may be offered separately and
commissioned on the basis of a separate quote."

Pure rules over plain values: no Django imports.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from leitstand.lib.versions import Version


class UpdateClass(StrEnum):
    """How big a step an update is, as the scenario files print it."""

    PATCH = "patch"
    MINOR = "minor"
    MAJOR = "major"


def classify(current: str, candidate: str) -> UpdateClass | None:
    """The class of the update from ``current`` to ``candidate``; ``None`` if it is not newer.

    Seed 000 §III: "Django 5.2.x → 5.2.y" is a patch update, "Django 5.x →
    6.0 or React 19 → 20" a major upgrade. The first release part is the major
    version, the second the minor one; anything else newer (a third part, a
    Debian revision ``-1+deb12u2``, a release candidate becoming final) is a
    patch. A new epoch restarts the numbering, so it counts as major.
    """
    old, new = Version.parse(current), Version.parse(candidate)
    if new <= old:
        return None
    if new.epoch != old.epoch or new.part(0) != old.part(0):
        return UpdateClass.MAJOR
    if new.part(1) != old.part(1):
        return UpdateClass.MINOR
    return UpdateClass.PATCH


@dataclass(frozen=True)
class UpdatePolicy:
    """The update classes the flat fee covers; the others need a quote.

    Seed 000 §III "Services included in the monthly fee: ... Execution of
    minor and patch updates".
    """

    included: frozenset[UpdateClass]

    def __post_init__(self) -> None:
        # Accept any iterable of names ("patch") from the catalog and keep the enum.
        object.__setattr__(self, "included", frozenset(UpdateClass(c) for c in self.included))


@dataclass(frozen=True)
class Assessment:
    """An update's class and whether the flat fee covers it."""

    update_class: UpdateClass
    included: bool


def assess(policy: UpdatePolicy, current: str, candidate: str) -> Assessment | None:
    """Classify the update and say whether ``policy`` covers it; ``None`` if it is not newer.

    Seed 000 §III: minor and patch updates are "included in the monthly fee",
    major upgrades are "not included" and need "a separate quote".
    """
    update_class = classify(current, candidate)
    if update_class is None:
        return None
    return Assessment(update_class, update_class in policy.included)
