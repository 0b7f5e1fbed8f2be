"""The disabled children importer (残疾儿童名单, from the disabled persons' federation)."""

from __future__ import annotations

from edu_guard.i18n import N_
from edu_guard.registry import schemas
from edu_guard.registry.importers.base import Importer
from edu_guard.registry.importers.bulk import bulk_insert, bulk_update, fetch_in
from edu_guard.registry.models import Child, DisabilityRecord


class DisabledImporter(Importer):
    """The disabled persons' federation list → disability records keyed by ID number.

    Category and level come from the 残疾人证号 (ID + category digit 1–7 + level digit
    1–4); 能否到校就读 = 否 marks a homebound candidate (送教上门). A listed child who
    is in the registry is marked ``is_disabled`` (an audited change of the child).
    """

    kind = "disabled"
    label = N_("残疾儿童名单")
    schema_class = schemas.DisabilityRowSchema
    required_columns = (("name",), ("id_number",), ("certificate_number",))
    unique_fields = frozenset({"id_number", "name", "certificate_number"})
    FIELDS = ("name", "certificate_number", "category", "level", "township", "village", "can_attend_school")

    def apply(self, rows):
        outcome = self.outcome
        rows = self.first_occurrences(rows, lambda d: d["id_number"])
        rows = self.hold_back_truncated(rows)
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

