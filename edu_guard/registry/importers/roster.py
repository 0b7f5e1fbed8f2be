"""The roster importer (学籍花名册): children, guardians, enrollments, villages and the
family statuses of the 家庭类型 column."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from edu_guard.db import db
from edu_guard.registry import schemas
from edu_guard.registry.importers.base import Importer, LoadedRow, Places, jsonable
from edu_guard.registry.importers.bulk import CHUNK, bulk_insert, bulk_update
from edu_guard.registry.models import Child, Enrollment, FamilyStatus, Guardian, School, StatusChange

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

