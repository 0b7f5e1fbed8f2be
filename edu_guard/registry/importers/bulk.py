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
    """Insert ``rows`` (dicts with the same keys) into the model's table at once.

    Through SQLAlchemy's public Core API only: one ``Connection.execute(insert(table),
    rows)`` (an executemany; SQLAlchemy applies each column's type processing), so any
    SQLAlchemy 2.x runs it. On PostgreSQL with psycopg 3 the rows are loaded with
    ``COPY … FROM STDIN`` instead, PostgreSQL's own bulk path (psycopg's public API).
    """
    if not rows:
        return
    table = model.__table__
    connection = db.session.connection()
    if connection.dialect.name == "postgresql" and connection.dialect.driver == "psycopg":
        _copy(connection, table, list(rows[0]), rows)
        return
    connection.execute(sa.insert(table), rows)


def _copy(connection, table: sa.Table, keys: list[str], rows: list[dict]) -> None:
    """Load ``rows`` into a PostgreSQL table with ``COPY … FROM STDIN`` (psycopg 3), in
    the connection's transaction: PostgreSQL's own bulk path."""
    import json

    from psycopg import sql

    json_keys = {k for k in keys if isinstance(table.c[k].type, sa.JSON)}
    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(*([table.schema] if table.schema else []), table.name),
        sql.SQL(", ").join(sql.Identifier(k) for k in keys))
    driver = connection.connection.driver_connection
    with driver.cursor() as cursor, cursor.copy(statement) as copy:
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

