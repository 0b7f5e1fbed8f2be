"""The status-change importer (学籍变动名单)."""

from __future__ import annotations

from collections import defaultdict
from datetime import date

from edu_guard.i18n import N_, Message
from edu_guard.registry import schemas
from edu_guard.registry.importers.base import Importer
from edu_guard.registry.importers.bulk import bulk_insert, bulk_update, fetch_in
from edu_guard.registry.models import Child, Enrollment, School, StatusChange

#: The enrollment status a status change leaves behind (docs/domain.md §4).
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
    label = N_("学籍变动名单")
    schema_class = schemas.StatusChangeRowSchema
    required_columns = (("id_number",), ("name",), ("change_kind",), ("changed_on",))

    def apply(self, rows):
        outcome = self.outcome
        rows = self.first_occurrences(rows, lambda d: (d["id_number"], d["change_kind"], d["changed_on"]))
        rows = self.hold_back_truncated(rows)
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
                        Message("（同一人、同一日期的同类变动）已登记且内容不同；学籍变动只追加不修改，如需更正请联系管理员"),
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

