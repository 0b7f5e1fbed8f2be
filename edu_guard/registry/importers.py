"""The importers, one per kind of file: which columns they read, the schema that
loads a row, and how loaded rows become registry rows (upsert by ID number).

The service hands an importer the loaded rows in chunks (5,000 rows for a roster,
the whole file for the small lists). Per chunk the importer loads the existing rows
for the chunk's keys in a few queries, decides per row whether it is created,
updated or unchanged, and writes with bulk statements; memory stays bounded however
long the file. Nothing is committed here (STYLE rule 5): the whole file is one
transaction of the caller.

Rules shared by all kinds:

- a blank cell never clears a stored value (it means "not given", not "none");
- a column the file does not have is left alone (the 勐罕镇 export has no guardians);
- a row that changes nothing writes nothing, not even an audit row;
- a key (ID number) seen earlier in the same file is refused as a repeat.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, ClassVar

import sqlalchemy as sa
from flask import current_app

from edu_guard.auth.models import AuditLog
from edu_guard.db import db, utcnow
from edu_guard.registry import normalize as nz
from edu_guard.registry import schemas
from edu_guard.registry.models import (
    Child,
    DisabilityRecord,
    Enrollment,
    FamilyStatus,
    Guardian,
    School,
    StatusChange,
    Township,
    Village,
)

#: Rows per chunk, and keys per ``IN (…)`` query.
CHUNK = 5000


@dataclass(slots=True)
class LoadedRow:
    """A row that passed its schema."""

    #: Row number as the clerk sees it (Excel row; CSV line).
    row: int
    #: The loaded values, by canonical field.
    data: dict[str, Any]
    #: The row's cells as read (for the rejects report).
    cells: list


@dataclass
class Outcome:
    """The counts of an import."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0


class Importer(ABC):
    """Base of the importers. Subclasses set the class attributes and :meth:`apply`."""

    #: The KIND of ``edu-guard import KIND``.
    kind: ClassVar[str]
    #: What the file is, in Chinese (for messages).
    label: ClassVar[str]
    schema_class: ClassVar[type[schemas.RowSchema]]
    #: Groups of fields of which the file must have at least one column each.
    required_columns: ClassVar[tuple[tuple[str, ...], ...]]
    #: Fields whose values are (nearly) all different: not memoised while loading.
    unique_fields: ClassVar[frozenset[str]] = frozenset({"id_number", "name"})
    #: Rows handed to :meth:`apply` at a time; ``None``: the whole file at once.
    chunk_size: ClassVar[int | None] = None

    def __init__(self, *, user_id: int | None = None, import_run_id: int | None = None) -> None:
        """Set up an import for one file.

        :param user_id: who imports (audit rows), ``None`` from the CLI.
        :param import_run_id: the :class:`ImportRun` the rows belong to.
        """
        self.user_id = user_id
        self.import_run_id = import_run_id
        self.county_code: str = current_app.config["EDU_GUARD_COUNTY_CODE"]
        self.now = utcnow()
        self.outcome = Outcome()
        #: ``(row, field, reason)`` of rows refused by :meth:`apply`; the service takes them.
        self.rejects: list[tuple[int, str, str]] = []
        self._first_row_of: dict[Any, int] = {}

    @classmethod
    def fields(cls) -> frozenset[str]:
        """Return the canonical fields this importer reads."""
        return frozenset(cls.schema_class().load_fields)

    @classmethod
    def adjust_errors(cls, raw: dict[str, Any], errors: dict[str, list[str]]) -> dict[str, list[str]]:
        """Return the reasons to report for a row that failed its schema (hook)."""
        return errors

    @abstractmethod
    def apply(self, rows: list[LoadedRow]) -> None:
        """Write a chunk of loaded rows; count them in :attr:`outcome`, refuse into
        :attr:`rejects`."""

    def finish(self) -> Outcome:
        """Run what waits for the whole file; return the counts."""
        return self.outcome

    # --- helpers for subclasses ---------------------------------------------------

    def reject(self, row: LoadedRow, field_name: str, reason: str) -> None:
        """Refuse ``row``: ``reason`` follows the name of the ``field_name`` column."""
        self.rejects.append((row.row, field_name, reason))

    def first_occurrences(self, rows: list[LoadedRow], key, field_name: str = "id_number") -> list[LoadedRow]:
        """Return the rows whose key was not seen earlier in the file; refuse repeats."""
        kept = []
        first = self._first_row_of
        for row in rows:
            k = key(row.data)
            if k in first:
                self.reject(row, field_name, f"与第{first[k]}行重复（同一人在文件中出现两次）")
                continue
            first[k] = row.row
            kept.append(row)
        return kept

    def audit_rows(self, rows: list[dict]) -> None:
        """Insert audit rows in bulk, shaped as :func:`edu_guard.auth.audit.record` makes
        them (who, when, action, entity, id, before, after)."""
        if rows:
            for row in rows:
                row["at"] = self.now
                row["user_id"] = self.user_id
            bulk_insert(AuditLog, rows)


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


def jsonable(value: Any) -> Any:
    """Return ``value`` as JSON-ready data (dates as ISO strings)."""
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    return value


class Places:
    """The county's townships and villages by name, created when first named."""

    def __init__(self, county_code: str) -> None:
        self.county_code = county_code
        self.townships = dict(
            db.session.execute(sa.select(Township.name, Township.id).where(Township.county_code == county_code)).all()
        )
        self.villages = {
            (t, n): i
            for t, n, i in db.session.execute(
                sa.select(Village.township_id, Village.name, Village.id)
                .join(Township)
                .where(Township.county_code == county_code)
            ).all()
        }

    def township_ids(self, names: set[str]) -> dict[str, int]:
        """Return ``{name: id}``, creating the townships not known yet."""
        missing = sorted(n for n in names if n not in self.townships)
        if missing:
            created = [Township(county_code=self.county_code, name=n) for n in missing]
            db.session.add_all(created)
            db.session.flush()
            self.townships.update({t.name: t.id for t in created})
        return self.townships

    def village_ids(self, pairs: set[tuple[int, str]]) -> dict[tuple[int, str], int]:
        """Return ``{(township id, name): id}``, creating the villages not known yet."""
        missing = sorted(p for p in pairs if p not in self.villages)
        if missing:
            created = [Village(township_id=t, name=n) for t, n in missing]
            db.session.add_all(created)
            db.session.flush()
            self.villages.update({(v.township_id, v.name): v.id for v in created})
        return self.villages


# --- schools ------------------------------------------------------------------------


class SchoolsImporter(Importer):
    """The bureau's school list → townships and schools, upserted by 学校标识码."""

    kind = "schools"
    label = "学校名单"
    schema_class = schemas.SchoolRowSchema
    required_columns = (("school_code",), ("school_name",), ("stage",), ("township",))
    unique_fields = frozenset({"school_code", "school_name"})

    def apply(self, rows):
        rows = self.first_occurrences(rows, lambda d: d["school_code"], "school_code")
        places: dict[str, Places] = {}
        towns: dict[str, dict[str, int]] = {}
        by_county: dict[str, set[str]] = defaultdict(set)
        for row in rows:
            by_county[row.data.get("county_code") or self.county_code].add(row.data["township"])
        for county, names in by_county.items():
            places[county] = Places(county)
            towns[county] = places[county].township_ids(names)
        columns = [School.id, School.code, School.name, School.stage, School.township_id, School.county_code]
        existing = {r.code: r for r in fetch_in(columns, School.code, [r.data["school_code"] for r in rows])}
        new, changed = [], []
        for row in rows:
            d = row.data
            county = d.get("county_code") or self.county_code
            values = {
                "code": d["school_code"],
                "name": d["school_name"],
                "stage": d["stage"],
                "township_id": towns[county][d["township"]],
                "county_code": county,
            }
            old = existing.get(d["school_code"])
            if old is None:
                new.append(values)
            elif any(getattr(old, k) != v for k, v in values.items()):
                changed.append({"id": old.id, **values})
            else:
                self.outcome.unchanged += 1
        bulk_insert(School, new)
        bulk_update(School, changed)
        self.outcome.created += len(new)
        self.outcome.updated += len(changed)


# --- roster -------------------------------------------------------------------------

#: Child columns a roster sets; row field → column.
CHILD_FIELDS = {
    "name": "name",
    "sex": "sex",
    "birth_date": "birth_date",
    "ethnicity": "ethnicity",
    "hukou": "hukou",
    "township_id": "township_id",
    "village_id": "village_id",
    "disabled": "is_disabled",
}
ENROLLMENT_FIELDS = ("student_number", "grade", "class_name", "boarding")
_CHILD_KEYS = ("id", "id_number", *CHILD_FIELDS.values())
_ENROLLMENT_KEYS = ("id", "school_id", *ENROLLMENT_FIELDS)
_GUARDIAN_KEYS = ("id", "name", "phone", "relation")
_STATUS_KEYS = ("id", "kind", "category")
_CHILD_COLUMNS = tuple(c.key for c in Child.__table__.columns)


def child_snapshot(values: dict, now_iso: str | None = None) -> dict:
    """Return the audit snapshot of a child from its column values (JSON-ready), as
    :func:`edu_guard.auth.audit.snapshot` gives it for an ORM object.

    :param now_iso: the ISO form of ``created_at``/``updated_at`` when already known.
    """
    snapshot = {key: values.get(key) for key in _CHILD_COLUMNS}
    snapshot["birth_date"] = jsonable(snapshot["birth_date"])
    for key in ("created_at", "updated_at"):
        snapshot[key] = now_iso if now_iso is not None else jsonable(snapshot[key])
    return snapshot


class _Changes:
    """The before/after values of an updated row, for its audit row."""

    __slots__ = ("before", "after")

    def __init__(self) -> None:
        self.before: dict[str, Any] = {}
        self.after: dict[str, Any] = {}

    def note(self, key: str, old: Any, new: Any) -> None:
        self.before[key] = jsonable(old)
        self.after[key] = jsonable(new)


@dataclass
class _Batch:
    """Rows of one chunk to write in bulk."""

    child_updates: list[dict] = field(default_factory=list)
    new_enrollments: list[dict] = field(default_factory=list)
    enrollment_updates: list[dict] = field(default_factory=list)
    new_guardians: list[dict] = field(default_factory=list)
    guardian_updates: list[dict] = field(default_factory=list)
    new_statuses: list[dict] = field(default_factory=list)
    status_updates: list[dict] = field(default_factory=list)
    audits: list[dict] = field(default_factory=list)


class RosterImporter(Importer):
    """A 学籍花名册 (whole county or one township) → children, guardians, enrollments,
    villages, and the family statuses of its 家庭类型 column (source ``roster``).

    Upsert by ID number. A child already enrolled at the row's school keeps that
    enrollment (grade, class, 学籍号 and boarding are updated); at another school a new
    enrollment is added (the status history, not the roster, ends the old one). New
    enrollments start as 在读; an existing one's status is never touched here. The
    guardian is matched by name among the child's guardians. Townships and villages
    named in the file are created when missing; a school must be in the school list.
    """

    kind = "roster"
    label = "学籍花名册"
    schema_class = schemas.RosterRowSchema
    required_columns = (("name",), ("id_number",), ("school_code", "school_name"))
    unique_fields = frozenset({"id_number", "name", "student_number", "guardian_name", "guardian_phone"})
    chunk_size = CHUNK
    #: FamilyStatus.source of the statuses read from the 家庭类型 column.
    source = "roster"

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.schools_by_code = dict(db.session.execute(sa.select(School.code, School.id)).all())
        self.schools_by_name: dict[str, list[int]] = defaultdict(list)
        for name, school_id in db.session.execute(sa.select(School.name, School.id)).all():
            self.schools_by_name[name].append(school_id)
        self.places = Places(self.county_code)

    def apply(self, rows):
        rows = self.first_occurrences(rows, lambda d: d["id_number"])
        rows = self._resolve_places(rows)
        children, enrollments, guardians, statuses = self._existing([r.data["id_number"] for r in rows])

        batch = _Batch()
        new_children: list[dict] = []
        new_rows: list[LoadedRow] = []
        for row in rows:
            d = row.data
            number = d["id_number"]
            values = {column: d[key] for key, column in CHILD_FIELDS.items() if d.get(key) is not None}
            old = children.get(number)
            if old is None:
                values.setdefault("sex", schemas.sex_from_id(number))
                values.setdefault("birth_date", schemas.birth_date_from_id(number))
                values.setdefault("is_disabled", False)
                new_children.append(
                    {
                        "id_number": number,
                        "ethnicity": None,
                        "hukou": None,
                        "township_id": None,
                        "village_id": None,
                        "address": None,
                        **values,
                        "version": 1,
                        "created_at": self.now,
                        "updated_at": self.now,
                    }
                )
                new_rows.append(row)
                continue
            changes = _Changes()
            diff = {k: v for k, v in values.items() if old[k] != v}
            if diff:
                batch.child_updates.append({"id": old["id"], **diff, "updated_at": self.now})
                for k, v in diff.items():
                    changes.note(k, old[k], v)
            self._enrollment(batch, old["id"], d, enrollments, changes)
            self._guardian(batch, old["id"], d, guardians, changes)
            self._statuses(batch, d, statuses, changes)
            if changes.after:
                self.outcome.updated += 1
                batch.audits.append(
                    {
                        "action": "update",
                        "entity": "child",
                        "entity_id": old["id"],
                        "before": changes.before,
                        "after": changes.after,
                    }
                )
            else:
                self.outcome.unchanged += 1

        if new_children:
            # The new rows get ids above the highest one now visible: read them back by
            # that range (no IN list), keeping this chunk's ID numbers.
            last_id = db.session.execute(sa.select(sa.func.max(Child.id))).scalar() or 0
            bulk_insert(Child, new_children)
            wanted = {c["id_number"] for c in new_children}
            new_ids = {
                n: i
                for n, i in db.session.execute(sa.select(Child.id_number, Child.id).where(Child.id > last_id))
                if n in wanted
            }
            now_iso = self.now.isoformat()
            for child, row in zip(new_children, new_rows):
                child_id = child["id"] = new_ids[child["id_number"]]
                self._enrollment(batch, child_id, row.data, {}, None)
                self._guardian(batch, child_id, row.data, {}, None)
                self._statuses(batch, row.data, {}, None)
                batch.audits.append(
                    {
                        "action": "create",
                        "entity": "child",
                        "entity_id": child_id,
                        "before": None,
                        "after": child_snapshot(child, now_iso),
                    }
                )
            self.outcome.created += len(new_children)
        self._write(batch)

    def _existing(self, ids: list[str]) -> tuple[dict, dict, dict, dict]:
        """Load the chunk's known children with their enrollments, guardians and roster
        family statuses: one query (outer joins) per :data:`CHUNK` ID numbers.

        :return: as dicts of column values: children by ID number, enrollments by
            (child id, school id), guardians (lists) by child id, family statuses by
            (ID number, kind).
        """
        c, e, g, f = Child.__table__, Enrollment.__table__, Guardian.__table__, FamilyStatus.__table__
        parts = (
            [c.c[k] for k in _CHILD_KEYS],
            [e.c[k] for k in _ENROLLMENT_KEYS],
            [g.c[k] for k in _GUARDIAN_KEYS],
            [f.c[k] for k in _STATUS_KEYS],
        )
        query = (
            sa.select(*[column for part in parts for column in part])
            .select_from(c)
            .outerjoin(e, e.c.child_id == c.c.id)
            .outerjoin(g, g.c.child_id == c.c.id)
            .outerjoin(f, sa.and_(f.c.id_number == c.c.id_number, f.c.source == self.source))
        )
        a, b, d = (
            len(_CHILD_KEYS),
            len(_CHILD_KEYS) + len(_ENROLLMENT_KEYS),
            len(_CHILD_KEYS) + len(_ENROLLMENT_KEYS) + len(_GUARDIAN_KEYS),
        )
        children: dict[str, dict] = {}
        enrollments: dict[tuple[int, int], dict] = {}
        guardians: dict[int, dict[int, dict]] = defaultdict(dict)
        statuses: dict[tuple[str, str], dict] = {}
        connection = db.session.connection()
        for start in range(0, len(ids), CHUNK):
            for t in connection.execute(query.where(c.c.id_number.in_(ids[start : start + CHUNK]))):
                child_id, number = t[0], t[1]
                if number not in children:
                    children[number] = dict(zip(_CHILD_KEYS, t[:a]))
                if t[a] is not None:
                    enrollments[(child_id, t[a + 1])] = dict(zip(_ENROLLMENT_KEYS, t[a:b]))
                if t[b] is not None:
                    guardians[child_id][t[b]] = dict(zip(_GUARDIAN_KEYS, t[b:d]))
                if t[d] is not None:
                    statuses[(number, t[d + 1])] = dict(zip(_STATUS_KEYS, t[d:]))
        return children, enrollments, {k: list(v.values()) for k, v in guardians.items()}, statuses

    def _write(self, batch: _Batch) -> None:
        bulk_update(Child, batch.child_updates, bump_version=True)
        bulk_insert(Enrollment, batch.new_enrollments)
        bulk_update(Enrollment, batch.enrollment_updates)
        bulk_insert(Guardian, batch.new_guardians)
        bulk_update(Guardian, batch.guardian_updates)
        bulk_insert(FamilyStatus, batch.new_statuses)
        bulk_update(FamilyStatus, batch.status_updates)
        self.audit_rows(batch.audits)

    def _resolve_places(self, rows: list[LoadedRow]) -> list[LoadedRow]:
        """Set ``school_id``, ``township_id`` and ``village_id`` in each row's data;
        refuse rows whose school is not in the school list."""
        kept = []
        for row in rows:
            d = row.data
            code, name = d.get("school_code"), d.get("school_name")
            if code:
                school_id = self.schools_by_code.get(code)
                if school_id is None:
                    self.reject(row, "school_code", f"（{code}）不在学校名单中；请核对，或先导入学校名单")
                    continue
            else:
                found = self.schools_by_name.get(name, ())
                if len(found) != 1:
                    why = (
                        "不在学校名单中；请填写学校标识码，或先导入学校名单"
                        if not found
                        else "有重名学校；请填写学校标识码"
                    )
                    self.reject(row, "school_name", f"（{name}）{why}")
                    continue
                school_id = found[0]
            d["school_id"] = school_id
            kept.append(row)
        towns = self.places.township_ids({r.data["township"] for r in kept if r.data.get("township")})
        pairs = set()
        for row in kept:
            d = row.data
            if d.get("township"):
                d["township_id"] = towns[d["township"]]
                if d.get("village"):
                    pairs.add((d["township_id"], d["village"]))
        villages = self.places.village_ids(pairs)
        for row in kept:
            d = row.data
            if d.get("village") and d.get("township_id"):
                d["village_id"] = villages[(d["township_id"], d["village"])]
        return kept

    def _enrollment(self, batch: _Batch, child_id: int, d: dict, existing: dict, changes: _Changes | None) -> None:
        """Add or update the child's enrollment at the row's school."""
        values = {k: d[k] for k in ENROLLMENT_FIELDS if d.get(k) is not None}
        old = existing.get((child_id, d["school_id"]))
        if old is None:
            batch.new_enrollments.append(
                {
                    "child_id": child_id,
                    "school_id": d["school_id"],
                    "status": "在读",
                    "student_number": None,
                    "grade": None,
                    "class_name": None,
                    "boarding": False,
                    **values,
                    "created_at": self.now,
                    "updated_at": self.now,
                }
            )
            if changes is not None:
                changes.note("enrollment.school_id", None, d["school_id"])
            return
        diff = {k: v for k, v in values.items() if old[k] != v}
        if diff:
            batch.enrollment_updates.append({"id": old["id"], **diff, "updated_at": self.now})
            for k, v in diff.items():
                changes.note(f"enrollment.{k}", old[k], v)

    @staticmethod
    def _guardian(batch: _Batch, child_id: int, d: dict, existing: dict, changes: _Changes | None) -> None:
        """Add the row's guardian to the child, or update the one of that name."""
        name = d.get("guardian_name")
        if not name:
            return
        values = {k: d[f"guardian_{k}"] for k in ("phone", "relation") if d.get(f"guardian_{k}") is not None}
        old = next((g for g in existing.get(child_id, ()) if g["name"] == name), None)
        if old is None:
            batch.new_guardians.append({"child_id": child_id, "name": name, "phone": None, "relation": None, **values})
            if changes is not None:
                changes.note("guardian.name", None, name)
            return
        diff = {k: v for k, v in values.items() if old[k] != v}
        if diff:
            batch.guardian_updates.append({"id": old["id"], **diff})
            for k, v in diff.items():
                changes.note(f"guardian.{k}", old[k], v)

    def _statuses(self, batch: _Batch, d: dict, existing: dict, changes: _Changes | None) -> None:
        """Add the family statuses of the 家庭类型 cell that the child does not have yet.

        A blank cell removes nothing: the monitoring list, not the roster, says when a
        status ends.
        """
        for kind, category in d.get("family_type") or ():
            old = existing.get((d["id_number"], kind))
            if old is None:
                batch.new_statuses.append(
                    {
                        "id_number": d["id_number"],
                        "name": d["name"],
                        "kind": kind,
                        "category": category,
                        "source": self.source,
                        "household_code": None,
                        "risk_type": None,
                        "risk_removed": False,
                        "valid_from": None,
                        "valid_to": None,
                        "township": d.get("township"),
                        "village": d.get("village"),
                    }
                )
                if changes is not None:
                    changes.note(f"family_status.{kind}", None, category or kind)
            elif category is not None and old["category"] != category:
                batch.status_updates.append({"id": old["id"], "category": category})
                changes.note(f"family_status.{kind}", old["category"], category)

    def finish(self):
        """Link the status changes imported before their child was in the registry."""
        if self.outcome.created:
            child = sa.select(Child.id).where(Child.id_number == StatusChange.id_number)
            db.session.execute(
                sa.update(StatusChange)
                .where(StatusChange.child_id.is_(None), child.exists())
                .values(child_id=child.scalar_subquery()),
                execution_options={"synchronize_session": False},
            )
        return self.outcome


# --- status changes -----------------------------------------------------------------

#: The enrollment status a status change leaves behind (DOMAIN 4).
STATUS_AFTER_CHANGE = {
    "转出": "转出",
    "休学": "休学",
    "死亡注销": "死亡注销",
    "毕业": "毕业",
    "复学": "在读",
    "转入": "在读",
}


class StatusChangesImporter(Importer):
    """The 学籍变动 list → the append-only status history, keyed by (ID number, kind,
    date); the enrollment's status follows the newest change.

    A change is linked to its child when the child is in the registry (and later, when
    the roster brings the child). The enrollment updated is the one at the row's 原学校,
    else the child's latest. A row that repeats a recorded change with other details
    is refused: the history is never rewritten by an import.
    """

    kind = "status-changes"
    label = "学籍变动名单"
    schema_class = schemas.StatusChangeRowSchema
    required_columns = (("id_number",), ("name",), ("change_kind",), ("changed_on",))

    def apply(self, rows):
        outcome = self.outcome
        rows = self.first_occurrences(rows, lambda d: (d["id_number"], d["change_kind"], d["changed_on"]))
        ids = [r.data["id_number"] for r in rows]
        recorded = {
            (r.id_number, r.kind, r.changed_on): r
            for r in fetch_in(
                [
                    StatusChange.id_number,
                    StatusChange.kind,
                    StatusChange.changed_on,
                    StatusChange.name,
                    StatusChange.from_school,
                    StatusChange.to_school,
                    StatusChange.reason,
                ],
                StatusChange.id_number,
                ids,
            )
        }
        latest: dict[str, date] = {}
        for key in recorded:
            latest[key[0]] = max(latest.get(key[0], key[2]), key[2])
        children = dict(fetch_in([Child.id_number, Child.id], Child.id_number, ids))
        enrollments: dict[int, list] = defaultdict(list)
        for e in fetch_in(
            [Enrollment.id, Enrollment.child_id, Enrollment.status, School.name.label("school_name")],
            Enrollment.child_id,
            list(children.values()),
            Enrollment.school_id == School.id,
        ):
            enrollments[e.child_id].append(e)

        new, status_of, audits = [], {}, []
        for row in sorted(rows, key=lambda r: r.data["changed_on"]):
            d = row.data
            details = {
                "name": d["name"],
                "from_school": d.get("from_school"),
                "to_school": d.get("to_school"),
                "reason": d.get("reason"),
            }
            old = recorded.get((d["id_number"], d["change_kind"], d["changed_on"]))
            if old is not None:
                if all(getattr(old, k) == v for k, v in details.items() if v is not None):
                    outcome.unchanged += 1
                else:
                    self.reject(
                        row,
                        "change_kind",
                        "（同一人、同一日期的同类变动）已登记且内容不同；学籍变动只追加不修改，如需更正请联系管理员",
                    )
                continue
            child_id = children.get(d["id_number"])
            new.append(
                {
                    "id_number": d["id_number"],
                    "child_id": child_id,
                    "kind": d["change_kind"],
                    "changed_on": d["changed_on"],
                    "import_run_id": self.import_run_id,
                    "created_at": self.now,
                    **details,
                }
            )
            if child_id is None or d["changed_on"] < latest.get(d["id_number"], d["changed_on"]):
                continue
            latest[d["id_number"]] = d["changed_on"]
            mine = enrollments.get(child_id, [])
            target = next((e for e in mine if e.school_name == d.get("from_school")), None) or (
                max(mine, key=lambda e: e.id) if mine else None
            )
            if target is not None:
                status_of[target.id] = (target, STATUS_AFTER_CHANGE[d["change_kind"]])
        bulk_insert(StatusChange, new)
        outcome.created += len(new)
        updates = []
        for target, status in status_of.values():
            if target.status != status:
                updates.append({"id": target.id, "status": status, "updated_at": self.now})
                audits.append(
                    {
                        "action": "update",
                        "entity": "enrollment",
                        "entity_id": target.id,
                        "before": {"status": target.status},
                        "after": {"status": status},
                    }
                )
        bulk_update(Enrollment, updates)
        self.audit_rows(audits)


# --- monitored households -----------------------------------------------------------


class FamiliesImporter(Importer):
    """The rural revitalisation bureau's list of 脱贫户 and 防止返贫监测对象 → family
    statuses keyed by ID number (source ``monitoring_households``).

    监测对象类别 gives the kind: 脱贫户, or 监测户 with its category (脱贫不稳定户,
    边缘易致贫户, 突发严重困难户). 是否风险消除 applies to monitored households only; a
    脱贫户 stays one whatever that column says (the list marks every 脱贫户 是).

    Household heads are listed without an ID number; since statuses are keyed by ID
    number, their rows are refused with a reason saying so (the children of the
    household come on their own rows). A person no longer on the list keeps the
    status recorded earlier.
    """

    kind = "families"
    label = "脱贫户和防止返贫监测对象名单"
    schema_class = schemas.FamilyRowSchema
    required_columns = (("name",), ("id_number",), ("category",))
    unique_fields = frozenset({"id_number", "name", "household_code", "head_name"})
    source = "monitoring_households"
    FIELDS = ("name", "category", "household_code", "risk_type", "risk_removed", "township", "village")

    @classmethod
    def adjust_errors(cls, raw, errors):
        """Explain a household head's row, which has no ID number by design."""
        relation, head, name = (nz.clean_name(raw.get(k)) for k in ("relation_to_head", "head_name", "name"))
        if errors.get("id_number") == ["不能为空"] and (relation == "户主" or (head and head == name)):
            errors = dict(errors, id_number=[schemas.HEAD_WITHOUT_ID_REASON])
        return errors

    def apply(self, rows):
        outcome = self.outcome
        rows = self.first_occurrences(rows, lambda d: d["id_number"])
        kinds = ("脱贫户", "监测户")
        existing = {
            (s.id_number, s.kind): s
            for s in fetch_in(
                [
                    FamilyStatus.id,
                    FamilyStatus.id_number,
                    FamilyStatus.kind,
                    *[FamilyStatus.__table__.c[k] for k in self.FIELDS],
                ],
                FamilyStatus.id_number,
                [r.data["id_number"] for r in rows],
                FamilyStatus.source == self.source,
                FamilyStatus.kind.in_(kinds),
            )
        }
        new, updates = [], []
        for row in rows:
            d = row.data
            kind = "脱贫户" if d["category"] == "脱贫户" else "监测户"
            values = {
                "name": d["name"],
                "category": None if kind == "脱贫户" else d["category"],
                "household_code": d.get("household_code"),
                "risk_type": d.get("risk_type"),
                "risk_removed": bool(d.get("risk_removed")) and kind == "监测户",
                "township": d.get("township"),
                "village": d.get("village"),
            }
            old = existing.get((d["id_number"], kind))
            if old is None:
                new.append(
                    {
                        "id_number": d["id_number"],
                        "kind": kind,
                        "source": self.source,
                        "valid_from": None,
                        "valid_to": None,
                        **values,
                    }
                )
                continue
            diff = {k: v for k, v in values.items() if (v is not None or k == "category") and getattr(old, k) != v}
            if diff:
                updates.append({"id": old.id, **diff})
            else:
                outcome.unchanged += 1
        bulk_insert(FamilyStatus, new)
        bulk_update(FamilyStatus, updates)
        outcome.created += len(new)
        outcome.updated += len(updates)


# --- disability certificates --------------------------------------------------------


class DisabledImporter(Importer):
    """The disabled persons' federation list → disability records keyed by ID number.

    Category and level come from the 残疾人证号 (ID + category digit 1–7 + level digit
    1–4); 能否到校就读 = 否 marks a homebound candidate (送教上门). A listed child who
    is in the registry is marked ``is_disabled`` (an audited change of the child).
    """

    kind = "disabled"
    label = "残疾儿童名单"
    schema_class = schemas.DisabilityRowSchema
    required_columns = (("name",), ("id_number",), ("certificate_number",))
    unique_fields = frozenset({"id_number", "name", "certificate_number"})
    FIELDS = ("name", "certificate_number", "category", "level", "township", "village", "can_attend_school")

    def apply(self, rows):
        outcome = self.outcome
        rows = self.first_occurrences(rows, lambda d: d["id_number"])
        ids = [r.data["id_number"] for r in rows]
        existing = {
            r.id_number: r
            for r in fetch_in(
                [
                    DisabilityRecord.id,
                    DisabilityRecord.id_number,
                    *[DisabilityRecord.__table__.c[k] for k in self.FIELDS],
                ],
                DisabilityRecord.id_number,
                ids,
            )
        }
        new, updates = [], []
        for row in rows:
            d = row.data
            category, level = schemas.parse_certificate(d["certificate_number"])
            values = {
                "name": d["name"],
                "certificate_number": d["certificate_number"],
                "category": category,
                "level": level,
                "township": d.get("township"),
                "village": d.get("village"),
                "can_attend_school": d.get("can_attend_school"),
            }
            old = existing.get(d["id_number"])
            if old is None:
                if values["can_attend_school"] is None:
                    values["can_attend_school"] = True
                new.append({"id_number": d["id_number"], **values})
                continue
            diff = {k: v for k, v in values.items() if v is not None and getattr(old, k) != v}
            if diff:
                updates.append({"id": old.id, **diff})
            else:
                outcome.unchanged += 1
        bulk_insert(DisabilityRecord, new)
        bulk_update(DisabilityRecord, updates)
        outcome.created += len(new)
        outcome.updated += len(updates)
        self._mark_children(ids)

    def _mark_children(self, ids: list[str]) -> None:
        """Set ``is_disabled`` on the listed children who are in the registry."""
        rows = fetch_in([Child.id, Child.is_disabled], Child.id_number, ids, Child.is_disabled.is_(False))
        bulk_update(Child, [{"id": r.id, "is_disabled": True, "updated_at": self.now} for r in rows], bump_version=True)
        self.audit_rows(
            [
                {
                    "action": "update",
                    "entity": "child",
                    "entity_id": r.id,
                    "before": {"is_disabled": False},
                    "after": {"is_disabled": True},
                }
                for r in rows
            ]
        )


#: The importers by KIND.
IMPORTERS: dict[str, type[Importer]] = {
    cls.kind: cls
    for cls in (SchoolsImporter, RosterImporter, StatusChangesImporter, FamiliesImporter, DisabledImporter)
}
# The payee accounts' workbook is aid's (it imports Importer from here, hence the late import).
from edu_guard.aid.account_import import AccountsImporter  # noqa: E402

IMPORTERS[AccountsImporter.kind] = AccountsImporter


def importers() -> dict[str, type[Importer]]:
    """Return the built-in importers and, inside an app, its plugins' ``import_formats``."""
    from flask import current_app, has_app_context

    if not has_app_context():
        return IMPORTERS
    contrib = current_app.extensions.get("edu_guard.contributions")
    if contrib is None or not contrib.import_formats:
        return IMPORTERS
    return {**IMPORTERS, **contrib.import_formats}
