"""The base of the importers (导入): the loaded row, the counts, the :class:`Importer`
contract and the county's places; the bulk writers are in :mod:`.bulk`.

The service hands an importer the loaded rows in chunks (5,000 rows for a roster,
the whole file for the small lists). Per chunk the importer loads the existing rows
for the chunk's keys in a few queries, decides per row whether it is created,
updated or unchanged, and writes with bulk statements; memory stays bounded however
long the file. Nothing is committed here: the whole file is one transaction of the
caller.

Rules shared by all kinds:

- a blank cell never clears a stored value (it means "not given", not "none");
- a column the file does not have is left alone (the 勐罕镇 export has no guardians);
- a row that changes nothing writes nothing, not even an audit row;
- a key (ID number) seen earlier in the same file is refused as a repeat.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, ClassVar

import sqlalchemy as sa
from flask import current_app

from edu_guard.auth.models import AuditLog
from edu_guard.db import db, utcnow
from edu_guard.i18n import Message
from edu_guard.registry import identity, schemas
from edu_guard.registry.importers.bulk import bulk_insert, fetch_in
from edu_guard.registry.models import Child, Township, Village


@dataclass(slots=True)
class LoadedRow:
    """A row that passed its schema."""

    #: Row number as the clerk sees it (Excel row; CSV line).
    row: int
    #: The loaded values, by canonical field.
    data: dict[str, Any]
    #: The row's cells as read (for the rejects report).
    cells: list
    #: The sheet of a workbook with several tables (``None`` for one table).
    sheet: str | None = None


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
        #: ``(sheet, row, field, reason)`` of rows refused by :meth:`apply`; the service
        #: takes them.
        self.rejects: list[tuple[str | None, int, str, str]] = []
        #: ``(sheet, row, field, message)`` of rows imported with a remark; the service
        #: takes them.
        self.warnings: list[tuple[str | None, int, str, str]] = []
        self._first_row_of: dict[Any, tuple[str | None, int]] = {}

    @classmethod
    def fields(cls) -> frozenset[str]:
        """Return the canonical fields this importer reads."""
        return frozenset(cls.schema_class().load_fields)

    @classmethod
    def adjust_errors(cls, raw: dict[str, Any], errors: dict[str, list[str]]) -> dict[str, list[str]]:
        """Return the reasons to report for a row that failed its schema (hook)."""
        return errors

    @classmethod
    def skip_reason(cls, errors: dict[str, list[str]]) -> tuple[str, str] | None:
        """``(field, remark)`` when a row that failed its schema is one the file holds
        by design and is skipped, not refused (hook; e.g. a household head's row
        without an ID number); ``None`` to refuse it as usual."""
        return None

    def precheck(self, data: dict[str, Any], errors: dict[str, list[str]]) -> dict[str, list[str]]:
        """Return the reasons a row fails that the importer knows without writing (hook).

        Called for every row, also one that failed its schema, so that a rejected row
        lists every error it has; ``data`` holds the fields that loaded.
        """
        return {}

    @abstractmethod
    def apply(self, rows: list[LoadedRow]) -> None:
        """Write a chunk of loaded rows; count them in :attr:`outcome`, refuse into
        :attr:`rejects`."""

    def finish(self) -> Outcome:
        """Run what waits for the whole file; return the counts."""
        return self.outcome

    # --- helpers for subclasses ---------------------------------------------------

    def reject(self, row: LoadedRow, field_name: str, reason: "str | Message") -> None:
        """Refuse ``row``: ``reason`` follows the name of the ``field_name`` column."""
        self.rejects.append((row.sheet, row.row, field_name, reason))

    def warn(self, row: LoadedRow, field_name: str, message: "str | Message") -> None:
        """Import ``row`` with a remark: ``message`` follows the name of the column."""
        self.warnings.append((row.sheet, row.row, field_name, message))

    def first_occurrences(self, rows: list[LoadedRow], key, field_name: str = "id_number") -> list[LoadedRow]:
        """Return the rows whose key was not seen earlier in the file; refuse repeats."""
        kept = []
        first = self._first_row_of
        for row in rows:
            k = key(row.data)
            if k in first:
                sheet, number = first[k]
                if sheet and sheet != row.sheet:
                    why = Message("与工作表“%(sheet)s”第%(row)s行重复（同一人在文件中出现两次）", sheet=sheet, row=number)
                else:
                    why = Message("与第%(row)s行重复（同一人在文件中出现两次）", row=number)
                self.reject(row, field_name, why)
                continue
            first[k] = (row.sheet, row.row)
            kept.append(row)
        return kept

    def hold_back_truncated(self, rows: list[LoadedRow], known: set[str] | None = None) -> list[LoadedRow]:
        """Return the rows whose number Excel cannot have cut; refuse the others.

        A 公民身份号码 ending in ``000`` may be a number that went through a numeric
        cell (:func:`edu_guard.registry.identity.may_be_truncated`): it is held back
        unless the same child is already known by that number: in the registry, in
        ``known``, or by the row's own 全国学籍号 ``G`` + the number (the 学籍 system
        keeps it as text, so it never went through a numeric cell).
        """
        suspects = {
            r.data["id_number"]
            for r in rows
            if identity.may_be_truncated(r.data.get("id_number") or "")
            and r.data.get("student_number") != "G" + r.data["id_number"]
        }
        if not suspects:
            return rows
        suspects -= set(known or ())
        if suspects:
            suspects -= {n for (n,) in fetch_in([Child.id_number], Child.id_number, suspects)}
        kept = []
        for row in rows:
            if row.data.get("id_number") in suspects:
                self.reject(row, "id_number", Message("（%(number)s）%(reason)s", number=row.data["id_number"],
                                                      reason=Message(identity.TRUNCATED_REASON)))
            else:
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

