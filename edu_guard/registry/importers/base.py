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
from edu_guard.registry import schemas
from edu_guard.registry.importers.bulk import bulk_insert
from edu_guard.registry.models import Township, Village


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

