"""Bulk reads and writes of the importers: ``IN (…)`` reads in chunks, one
executemany (or PostgreSQL ``COPY``) per table and chunk."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import sqlalchemy as sa

from edu_guard.db import db

#: Rows per chunk, and keys per ``IN (…)`` query.
CHUNK = 5000


def fetch_in(columns: list, key_column, keys, *where) -> list[sa.Row]:
    """Return ``SELECT columns WHERE key_column IN keys (AND where…)`` in chunks."""
    keys = list(dict.fromkeys(keys))
    out: list[sa.Row] = []
    for start in range(0, len(keys), CHUNK):
        stmt = sa.select(*columns).where(key_column.in_(keys[start : start + CHUNK]), *where)
        out.extend(db.session.execute(stmt).all())
    return out


def bulk_insert(model, rows: list[dict]) -> None:
    """Insert ``rows`` (dicts with the same keys) into the model's table: one executemany.

    SQLAlchemy's executemany builds and type-processes a parameter dict per row in
    Python, which at 100,000 rows costs more than the database's own work. Here the
    INSERT is compiled once by SQLAlchemy for the connection's dialect and each
    column's bind processor (the one SQLAlchemy would apply) runs once per distinct
    value, so a timestamp shared by every row is formatted once.
    """
    if not rows:
        return
    table = model.__table__
    keys = list(rows[0])
    connection = db.session.connection()
    dialect = connection.dialect
    if dialect.name == "postgresql" and dialect.driver == "psycopg":
        _copy(connection, table, keys, rows)
        return
    compiled = sa.insert(table).compile(dialect=dialect, column_keys=keys, for_executemany=True)
    names = list(compiled.positiontup) if compiled.positional else list(compiled.binds)
    if sorted(names) != sorted(keys):  # an unusual statement: let SQLAlchemy do it all
        db.session.execute(sa.insert(table), rows)
        return
    columns = [_processed(table.c[name].type, dialect, [row[name] for row in rows]) for name in names]
    if compiled.positional:
        params: list = list(zip(*columns))
    else:
        params = [dict(zip(names, values)) for values in zip(*columns)]
    connection.exec_driver_sql(str(compiled), params)


def _copy(connection, table: sa.Table, keys: list[str], rows: list[dict]) -> None:
    """Load ``rows`` into a PostgreSQL table with ``COPY … FROM STDIN`` (psycopg 3), in
    the connection's transaction: PostgreSQL's own bulk path."""
    import json

    preparer = connection.dialect.identifier_preparer
    columns = ", ".join(preparer.quote(k) for k in keys)
    json_keys = {k for k in keys if isinstance(table.c[k].type, sa.JSON)}
    driver = connection.connection.driver_connection
    with driver.cursor() as cursor, cursor.copy(f"COPY {preparer.format_table(table)} ({columns}) FROM STDIN") as copy:
        if json_keys:
            for row in rows:
                copy.write_row(
                    [
                        json.dumps(row[k], ensure_ascii=False) if k in json_keys and row[k] is not None else row[k]
                        for k in keys
                    ]
                )
        else:
            for row in rows:
                copy.write_row([row[k] for k in keys])


def _processed(type_, dialect, values: list) -> list:
    """Return ``values`` through the type's bind processor, computed once per value."""
    process = type_.dialect_impl(dialect).bind_processor(dialect)
    if process is None:
        return values
    seen: dict = {}
    out = []
    for value in values:
        try:
            done = seen[value]
        except KeyError:
            done = seen[value] = process(value)
        except TypeError:  # unhashable (JSON data)
            done = process(value)
        out.append(done)
    return out


def bulk_update(model, rows: list[dict], bump_version: bool = False) -> None:
    """Update rows by primary key; each dict has ``id`` and the columns to set.

    Rows are grouped by their set of columns so that every group is one executemany.

    :param bump_version: add 1 to ``version`` (the optimistic-lock counter), so that a
        clerk editing the same child in the web UI is told it changed.
    """
    table = model.__table__
    groups: dict[tuple, list[dict]] = defaultdict(list)
    for row in rows:
        groups[tuple(sorted(k for k in row if k != "id"))].append(row)
    for keys, group in groups.items():
        values: dict[str, Any] = {k: sa.bindparam(f"v_{k}") for k in keys}
        if bump_version:
            values["version"] = table.c.version + 1
        stmt = sa.update(table).where(table.c.id == sa.bindparam("v_id")).values(values)
        db.session.execute(stmt, [{f"v_{k}": v for k, v in row.items()} for row in group])

