"""The monitored-households importer (脱贫户和防止返贫监测对象名单)."""

from __future__ import annotations

from edu_guard.i18n import N_, Message
from edu_guard.registry import normalize as nz
from edu_guard.registry import schemas
from edu_guard.registry.importers.base import Importer
from edu_guard.registry.importers.bulk import bulk_insert, bulk_update, fetch_in
from edu_guard.registry.models import FamilyStatus


class FamiliesImporter(Importer):
    """The rural revitalisation bureau's list of 脱贫户 and 防止返贫监测对象 → family
    statuses keyed by ID number (source ``monitoring_households``).

    监测对象类别 gives the kind: 脱贫户, or 监测户 with its category (脱贫不稳定户,
    边缘易致贫户, 突发严重困难户). 是否风险消除 applies to monitored households only; a
    脱贫户 stays one whatever that column says (the list marks every 脱贫户 是).

    Household heads are listed without an ID number; since statuses are keyed by ID
    number, their rows are skipped with a remark (not refused: the file holds them by
    design; the children of the household come on their own rows). A person no longer
    on the list keeps the status recorded earlier.
    """

    kind = "families"
    label = N_("脱贫户和防止返贫监测对象名单")
    schema_class = schemas.FamilyRowSchema
    required_columns = (("name",), ("id_number",), ("category",))
    unique_fields = frozenset({"id_number", "name", "household_code", "head_name"})
    source = "monitoring_households"
    FIELDS = ("name", "category", "household_code", "risk_type", "risk_removed", "township", "village")

    @classmethod
    def adjust_errors(cls, raw, errors):
        """Explain a household head's row, which has no ID number by design."""
        relation, head, name = (nz.clean_name(raw.get(k)) for k in ("relation_to_head", "head_name", "name"))
        said = [getattr(m, "msgid", m) for m in errors.get("id_number", ())]  # the Chinese id, whatever the language
        if said == ["不能为空"] and (relation == "户主" or (head and head == name)):
            errors = dict(errors, id_number=[Message(schemas.HEAD_WITHOUT_ID_REASON)])
        return errors

    @classmethod
    def skip_reason(cls, errors):
        """A household head's row (only the ID number missing, by design) is skipped
        with a remark: the household's children come on their own rows."""
        if list(errors) == ["id_number"] and [getattr(m, "msgid", m) for m in errors["id_number"]] == [
                schemas.HEAD_WITHOUT_ID_REASON]:
            return "id_number", Message("户主行，已跳过（家庭类型按成员的身份证件号登记，户主行无证件号码，不需导入）")
        return None

    def apply(self, rows):
        outcome = self.outcome
        rows = self.first_occurrences(rows, lambda d: d["id_number"])
        rows = self.hold_back_truncated(rows)
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

