"""Deleting a check while the engine writes its results: the delete waits for the
batch and removes its results too, instead of failing on the foreign key."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from django.db import connection, transaction
from tests.conftest import Tenant

from leitstand.monitoring.checks.base import Result, State
from leitstand.monitoring.engine import Outcome
from leitstand.monitoring.models import Check, CheckResult
from leitstand.monitoring.states import CheckState, Status
from leitstand.monitoring.store import _insert_results, _lock_checks

pytestmark = pytest.mark.django_db(transaction=True)
needs_row_locks = pytest.mark.skipif(
    "connection.vendor == 'sqlite'",
    reason="SQLite serialises writers anyway (and its shared test database locks whole tables)",
)

OK = CheckState(Status.OK, Status.OK, 0, False, (Status.OK,))


def delete_during_a_write(check_id: int, delete: Callable[[], object]) -> list[BaseException]:
    """The writer locks the check and inserts; the delete starts meanwhile; the
    writer commits half a second later."""
    locked, errors = threading.Event(), []

    def write() -> None:
        try:
            with transaction.atomic():
                assert _lock_checks([check_id]) == {check_id}
                outcome = Outcome(
                    check_id, datetime.now(UTC), Result(State.OK, "ok"), OK, (), "P1", False
                )
                _insert_results([outcome])
                locked.set()
                threading.Event().wait(0.5)
        except BaseException as exc:
            errors.append(exc)
        finally:
            locked.set()
            connection.close()

    def remove() -> None:
        try:
            locked.wait(5)
            delete()
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=write), threading.Thread(target=remove)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors


@needs_row_locks
@pytest.mark.parametrize("how", ["instance", "queryset"])
def test_a_delete_waits_for_the_write_and_takes_its_results(customer_a: Tenant, how: str) -> None:
    doomed = Check.objects.create(asset=customer_a.asset, name="doomed", kind="tcp")
    pk = doomed.pk

    def delete() -> object:
        if how == "instance":
            return Check.objects.get(pk=pk).delete()
        return Check.objects.filter(pk=pk).delete()

    errors = delete_during_a_write(pk, delete)
    assert errors == []
    assert not Check.objects.filter(pk=pk).exists()
    assert not CheckResult.objects.filter(service_check_id=pk).exists()
    assert Check.objects.filter(pk=customer_a.check.pk).exists()  # only the one


def test_deleting_reports_what_went(customer_a: Tenant) -> None:
    doomed = Check.objects.create(asset=customer_a.asset, name="doomed", kind="tcp")
    CheckResult.objects.create(service_check=doomed, at=datetime.now(UTC), state="ok")
    count, per_model = doomed.delete()
    assert per_model["monitoring.Check"] == 1
    assert per_model["monitoring.CheckResult"] == 1
    assert count >= 2
