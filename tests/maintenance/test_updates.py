"""Which updates the flat fee covers (maintenance/updates.py)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from leitstand.maintenance.updates import (
    Assessment,
    UpdateClass,
    UpdatePolicy,
    assess,
    classify,
)

# it-hafen.yaml monthly-fee and managedhosting.yaml msp-basic; seed 000 §III
# "Execution of minor and patch updates" is in the monthly fee.
MONTHLY_FEE = UpdatePolicy(frozenset({UpdateClass.PATCH, UpdateClass.MINOR}))


@pytest.mark.parametrize(
    ("current", "candidate", "update_class", "included"),
    [
        # it-hafen.yaml
        ("5.2.3", "5.2.7", "patch", True),
        ("5.2.7", "6.0", "major", False),
        ("19.2.0", "20", "major", False),
        ("4.1.2", "4.2.0", "minor", True),
        # managedhosting.yaml
        ("6.1.0", "6.1.2", "patch", True),
    ],
)
def test_scenario_updates(current: str, candidate: str, update_class: str, included: bool) -> None:
    result = assess(MONTHLY_FEE, current, candidate)
    assert result is not None
    assert (str(result.update_class), result.included) == (update_class, included)


@pytest.mark.parametrize(
    ("current", "candidate", "expected"),
    [
        ("4.1.2", "4.2", UpdateClass.MINOR),
        ("5.2.7", "5.3.0rc1", UpdateClass.MINOR),
        ("0.9.9", "1.0", UpdateClass.MAJOR),
        ("v5.2.7", "5.2.8", UpdateClass.PATCH),
        ("1.2.3.4", "1.2.3.5", UpdateClass.PATCH),
        ("4.1", "4.1.0.1", UpdateClass.PATCH),
        ("5.2", "5.2.1", UpdateClass.PATCH),
        # Differences only in the suffix or revision are patches.
        ("1:2.3.4-1+deb12u1", "1:2.3.4-1+deb12u2", UpdateClass.PATCH),
        ("2.3.4-1", "2.3.4-2", UpdateClass.PATCH),
        ("6.0rc1", "6.0", UpdateClass.PATCH),
        ("1.1.1v", "1.1.1w", UpdateClass.PATCH),
        # A new epoch restarts the numbering: major.
        ("2.3.4-1", "1:2.3.4-1", UpdateClass.MAJOR),
        # Not newer: no update.
        ("5.2.7", "5.2.7", None),
        ("6.0", "6.0.0", None),
        ("5.2.7", "5.2.3", None),
        ("6.0", "6.0rc1", None),
        ("1:0.1", "9.9.9", None),
    ],
)
def test_classify(current: str, candidate: str, expected: UpdateClass | None) -> None:
    assert classify(current, candidate) is expected


def test_assess_not_newer_is_none() -> None:
    assert assess(MONTHLY_FEE, "5.2.7", "5.2.7") is None


def test_policy_from_catalog_names() -> None:
    patch_only = UpdatePolicy(frozenset({"patch"}))  # type: ignore[arg-type]
    assert patch_only.included == frozenset({UpdateClass.PATCH})
    assert assess(patch_only, "4.1.2", "4.1.3") == Assessment(UpdateClass.PATCH, included=True)
    assert assess(patch_only, "4.1.2", "4.2.0") == Assessment(UpdateClass.MINOR, included=False)
    with pytest.raises(ValueError, match="'huge'"):
        UpdatePolicy(frozenset({"huge"}))  # type: ignore[arg-type]


def test_bad_versions() -> None:
    with pytest.raises(ValueError, match="bad version 'latest'"):
        classify("5.2.7", "latest")


def test_classes_print_as_the_scenario_files_do() -> None:
    assert [str(c) for c in UpdateClass] == ["patch", "minor", "major"]


releases = st.lists(st.integers(min_value=0, max_value=6), min_size=1, max_size=4)
suffixes = st.sampled_from(["", "rc1", "-1", "-1+deb12u1", "~rc1", "w"])


def text(release: list[int], suffix: str) -> str:
    return ".".join(map(str, release)) + suffix


@given(releases, suffixes, releases, suffixes)
def test_only_one_direction_is_an_update(
    release: list[int], suffix: str, other_release: list[int], other_suffix: str
) -> None:
    first, second = text(release, suffix), text(other_release, other_suffix)
    forward, backward = classify(first, second), classify(second, first)
    assert forward is None or backward is None
    assert classify(first, first) is None


@given(releases, suffixes, releases, suffixes)
def test_the_class_matches_the_first_differing_part(
    release: list[int], suffix: str, other_release: list[int], other_suffix: str
) -> None:
    result = classify(text(release, suffix), text(other_release, other_suffix))
    if result is None:
        return
    padded = [[*r, 0, 0][:2] for r in (release, other_release)]
    if padded[0][0] != padded[1][0]:
        assert result is UpdateClass.MAJOR
    elif padded[0][1] != padded[1][1]:
        assert result is UpdateClass.MINOR
    else:
        assert result is UpdateClass.PATCH
