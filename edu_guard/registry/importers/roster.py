"""The roster importer (学籍花名册): children, guardians, enrollments, villages and the
family statuses of the 家庭类型 column."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from edu_guard.db import db
from edu_guard.i18n import N_, Message
from edu_guard.registry import identity, schemas
from edu_guard.registry.importers.base import Importer, LoadedRow, Places, jsonable
from edu_guard.registry.importers.bulk import CHUNK, bulk_insert, bulk_update
from edu_guard.registry.models import Child, Enrollment, FamilyStatus, Guardian, School, StatusChange

#: Child columns a roster sets; row field → column.
CHILD_FIELDS = {
    "name": "name",
    "id_type": "id_type",
    "sex": "sex",
    "birth_date": "birth_date",
    "ethnicity": "ethnicity",
    "hukou": "hukou",
    "address": "address",
    "township_id": "township_id",
    "village_id": "village_id",
    "disabled": "is_disabled",
}
ENROLLMENT_FIELDS = ("student_number", "grade", "class_name", "boarding")
_CHILD_KEYS = ("id", "id_number", *CHILD_FIELDS.values())
_ENROLLMENT_KEYS = ("id", "school_id", *ENROLLMENT_FIELDS)
_GUARDIAN_KEYS = ("id", "name", "phone", "relation", "address")
_STATUS_KEYS = ("id", "kind", "category")
_CHILD_COLUMNS = tuple(c.key for c in Child.__table__.columns)


def _row_key(d: dict):
    """A row's key in the file: its document number, or its 学籍号 when it has none."""
    return d.get("id_number") or ("学籍号", d.get("student_number"))


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
    label = N_("学籍花名册")
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

    def precheck(self, data, errors):
        """Find the row's school (``data["school_id"]``): it must be in the school list."""
        code, name = data.get("school_code"), data.get("school_name")
        if code:
            school_id = self.schools_by_code.get(code)
            if school_id is None:
                return {"school_code": [Message("（%(code)s）不在学校名单中；请核对，或先导入学校名单", code=code)]}
        elif name:
            found = self.schools_by_name.get(name, ())
            if len(found) != 1:
                if not found:
                    why = Message("（%(name)s）不在学校名单中；请填写学校标识码，或先导入学校名单", name=name)
                else:
                    why = Message("（%(name)s）有重名学校；请填写学校标识码", name=name)
                return {"school_name": [why]}
            school_id = found[0]
        else:
            return {}
        data["school_id"] = school_id
        return {}

    def apply(self, rows):
        rows = self.first_occurrences(rows, _row_key, "id_number")
        rows = self.hold_back_truncated(rows)
        rows = self._resolve_places(rows)
        for row in rows:
            self._document(row)
        without = [r for r in rows if not r.data.get("id_number")]
        rows = [r for r in rows if r.data.get("id_number")]
        if without:
            self._apply_without_number(without)
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
                if len(number) == 18:
                    values.setdefault("sex", identity.sex_from_number(number))
                    values.setdefault("birth_date", identity.birth_date_from_number(number))
                values.setdefault("is_disabled", False)
                new_children.append(
                    {
                        "id_number": number,
                        "id_type": identity.RESIDENT,
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
            if "address" in diff and old["address"]:
                # An address on record (typed on a form, or from the household register)
                # is never replaced silently: the clerk is told and changes it by hand.
                self.warn(row, "address", Message("“%(given)s”与系统登记的住址“%(known)s”不同，"
                                                  "未覆盖：如需更改，请在学生页面或用 edu-guard cases guardian 修改",
                                                  given=diff.pop("address"), known=old["address"]))
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

    def _document(self, row: LoadedRow) -> None:
        """Set the row's document type from its number; note what the clerk should know:
        a 港澳台 number typed as 居民身份证, a G-number that differs from the number
        (both kept), a pupil with no number (to be followed up)."""
        d = row.data
        number = d.get("id_number")
        if not number:
            d["id_type"] = identity.NO_DOCUMENT
            self.warn(row, "id_number", Message("为空：无证件号码，仅以全国学籍号登记，请跟进办理证件后补录"))
            return
        kind = identity.type_of_number(number)
        if d.get("id_type") == identity.RESIDENT and kind == identity.HMT_PERMIT:
            self.warn(row, "id_type", Message("填为居民身份证，但号码以%(area)s开头，已按港澳台居民居住证登记", area=number[:6]))
        d["id_type"] = kind
        student_number = d.get("student_number")
        if student_number and student_number[0] == "G" and student_number[1:] != number:
            self.warn(row, "student_number", Message("（%(student_number)s）与身份证件号（%(number)s）不一致：两者均已保存，请核对学籍系统",
                                                     student_number=student_number, number=number))

    def _apply_without_number(self, rows: list[LoadedRow]) -> None:
        """Register pupils with no document number by their 学籍号 (rare rows: one at a
        time through the ORM)."""
        for row in rows:
            d = row.data
            enrollment = db.session.execute(
                sa.select(Enrollment)
                .join(Child, Child.id == Enrollment.child_id)
                .where(Enrollment.student_number == d["student_number"], Child.id_number.is_(None))
            ).scalars().first()
            values = {column: d[key] for key, column in CHILD_FIELDS.items() if d.get(key) is not None}
            if enrollment is None:
                child = Child(id_number=None, **{"is_disabled": False, **values})
                db.session.add(child)
                db.session.flush()
                self._enrollment_orm(child, d)
                self._guardian_orm(child, d)
                self.audit_rows([{"action": "create", "entity": "child", "entity_id": child.id, "before": None,
                                  "after": child_snapshot({c: getattr(child, c) for c in _CHILD_COLUMNS},
                                                          self.now.isoformat())}])
                self.outcome.created += 1
                continue
            child = enrollment.child
            changes = _Changes()
            for key, value in values.items():
                if getattr(child, key) != value:
                    changes.note(key, getattr(child, key), value)
                    setattr(child, key, value)
            for key in ENROLLMENT_FIELDS:
                if d.get(key) is not None and getattr(enrollment, key) != d[key]:
                    changes.note(f"enrollment.{key}", getattr(enrollment, key), d[key])
                    setattr(enrollment, key, d[key])
            if changes.after:
                db.session.flush()
                self.audit_rows([{"action": "update", "entity": "child", "entity_id": child.id,
                                  "before": changes.before, "after": changes.after}])
                self.outcome.updated += 1
            else:
                self.outcome.unchanged += 1

    def _enrollment_orm(self, child: Child, d: dict) -> None:
        values = {k: d[k] for k in ENROLLMENT_FIELDS if d.get(k) is not None}
        db.session.add(Enrollment(child_id=child.id, school_id=d["school_id"], status="在读",
                                  **{"boarding": False, **values}))

    def _guardian_orm(self, child: Child, d: dict) -> None:
        if d.get("guardian_name") or d.get("guardian_phone"):
            db.session.add(Guardian(child_id=child.id, name=d.get("guardian_name"), phone=d.get("guardian_phone"),
                                    relation=d.get("guardian_relation"), address=d.get("address")))
        db.session.flush()

    def _resolve_places(self, rows: list[LoadedRow]) -> list[LoadedRow]:
        """Set ``township_id`` and ``village_id`` in each row's data (the school was
        found by :meth:`precheck`)."""
        kept = list(rows)
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
        """Add the row's guardian to the child, or update the one of that name. A phone
        given without a name is kept as a guardian without a name (matched by the
        phone)."""
        name = d.get("guardian_name")
        if not name and not d.get("guardian_phone"):
            return
        values = {k: d[f"guardian_{k}"] for k in ("phone", "relation") if d.get(f"guardian_{k}") is not None}
        if name:
            old = next((g for g in existing.get(child_id, ()) if g["name"] == name), None)
        else:
            old = next((g for g in existing.get(child_id, ()) if g["phone"] == d["guardian_phone"]), None)
        if old is None:
            batch.new_guardians.append({"child_id": child_id, "name": name, "phone": None, "relation": None,
                                        "address": d.get("address"), "id_number": None, **values})
            if changes is not None:
                changes.note("guardian.name" if name else "guardian.phone", None, name or d["guardian_phone"])
            return
        diff = {k: v for k, v in values.items() if old[k] != v}
        if d.get("address") and not old.get("address"):
            # An existing guardian's empty address is filled from the roster's 家庭住址
            # (the party's address of the penalty letters); one on record is kept.
            diff["address"] = d["address"]
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

