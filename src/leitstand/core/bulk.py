"""Bulk inserts without a model instance per row, for the hot paths (monitor, billing)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, cast

from django.db import connection
from django.db.models import Field, Model


def insert_rows(model: type[Model], names: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """INSERT many rows with ``executemany``, each value prepared by its own field.

    The same conversions as ``bulk_create`` (time zones, JSON), without building
    a model instance per row: at thousands of results a second the instances
    cost as much as the checks themselves (measured: 105 us of CPU per result
    with ``bulk_create`` on SQLite).
    """
    fields = [cast("Field[Any, Any]", model._meta.get_field(name)) for name in names]
    prepare = [f.get_db_prep_save for f in fields]
    qn = connection.ops.quote_name
    # Table and column names come from the model, values go as parameters.
    sql = "INSERT INTO {} ({}) VALUES ({})".format(  # noqa: S608
        qn(model._meta.db_table),
        ", ".join(qn(str(f.column)) for f in fields),
        ", ".join(["%s"] * len(fields)),
    )
    prepared = [tuple(p(v, connection) for p, v in zip(prepare, row, strict=True)) for row in rows]
    if prepared:
        with connection.cursor() as cursor:
            cursor.executemany(sql, prepared)
