"""The comparison kinds (比对类型): one class each, with a common interface, kept in
:func:`kinds` (the app's kinds: these built-in ones and the plugins', all through the ``comparison_kinds`` hook).

Every kind has a ``name``, a Chinese ``label``, its ``categories`` (each with a label,
whether it is *flagged* — cases may be opened from it — and whether its rows are
stored) and ``run(...)``, which sorts every input row into exactly one category with
its reason and returns a :class:`Outcome`.
"""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from edu_guard.comparisons.base import ENROLLED_STATUSES, Category, Comparison, ComparisonError, Outcome  # noqa: F401 (the kinds' names)
from edu_guard.comparisons.rules import age_category, rule_from_config
from edu_guard.db import db
from edu_guard import hooks
from edu_guard.hookspecs import hookimpl
from edu_guard.i18n import N_, Message
from edu_guard.registry.models import Child, DisabilityRecord, Enrollment, StatusChange
from edu_guard.registry.schemas import birth_date_from_id
from edu_guard.homebound.services import placed_id_numbers

class HouseholdComparison(Comparison):
    """户籍–学籍比对: every row of the household register (户籍) against the registry."""

    name = "household"
    label = N_("户籍与学籍比对")
    needs_file = True
    categories = {
        "out_of_school": Category(N_("适龄未入学（疑似失学辍学）"), flagged=True, case_reason="其他"),
        "transferred": Category(N_("已转出（核实转学）")),
        "deceased": Category(N_("已死亡注销")),
        "invalid": Category(N_("行数据无效")),
        "enrolled": Category(N_("在本县就读"), stored=False),
        "too_young": Category(N_("未到入学年龄"), stored=False),
        "too_old": Category(N_("超过义务教育年龄"), stored=False),
    }

    def run(self, *, as_of, settings, data=None, filename=None):
        """See :meth:`Comparison.run` and :func:`edu_guard.comparisons.household.compare`. Categories, in order of precedence: invalid row,
        deceased (死亡注销 in the registry or the status changes), enrolled (a 在读 or 休学
        学籍 anywhere in the county), too young / too old (:func:`compulsory_birth_range`),
        transferred out to a named school (the latest change is a 转出 with a
        destination), else out of school."""
        from edu_guard.comparisons.household import compare  # polars: loaded when needed

        return compare(as_of=as_of, settings=settings, data=data, filename=filename)


# --- status changes (学籍变动) ----------------------------------------------------------


class StatusComparison(Comparison):
    """学籍变动核查: 转出 with no receiving school, 休学 past its end, 死亡注销 (docs/domain.md §4).

    One row per ID number with a 转出, 休学 or 死亡注销 up to the as-of date; the latest
    change decides (a later 转入 or 复学 resolves it).
    """

    name = "status"
    label = N_("学籍变动核查")
    categories = {
        "transfer_no_destination": Category(N_("转出无接收学校（疑似辍学）"), flagged=True, case_reason="其他"),
        "suspension_overdue": Category(N_("休学期满未复学"), flagged=True, case_reason="疾病"),
        "deceased": Category(N_("死亡注销")),
        "transfer_pending": Category(N_("转出待接收（未超期）")),
        "transfer_named": Category(N_("转出至外校（核实转学）")),
        "suspended": Category(N_("休学中")),
        "resolved": Category(N_("已复学或已转入")),
    }

    def run(self, *, as_of, settings, data=None, filename=None):
        """See :meth:`Comparison.run`."""
        arrival = int(settings.get("EDU_GUARD_TRANSFER_ARRIVAL_DAYS", 30))
        suspension = int(settings.get("EDU_GUARD_SUSPENSION_DAYS", 365))
        changes = db.session.execute(
            sa.select(StatusChange).where(StatusChange.changed_on <= as_of).order_by(StatusChange.changed_on, StatusChange.id)
        ).scalars().all()
        latest: dict[str, StatusChange] = {}
        flagged_ids = set()
        for change in changes:
            latest[change.id_number] = change
            if change.kind in ("转出", "休学", "死亡注销"):
                flagged_ids.add(change.id_number)
        enrolled_since = _enrolled_ids()
        rows = []
        for number in sorted(flagged_ids):
            change = latest[number]
            days = (as_of - change.changed_on).days
            data_ = {"changed_on": change.changed_on.isoformat(), "from_school": change.from_school, "kind": change.kind}
            if change.kind == "死亡注销":
                cat, reason = "deceased", Message("%(date)s死亡注销（%(reason)s），相关个案应销号", date=change.changed_on, reason=change.reason or Message("未注明原因"))
            elif change.kind == "转出" and change.to_school:
                cat, reason = "transfer_named", Message("%(date)s转出至%(school)s，请核实转学", date=change.changed_on, school=change.to_school)
            elif change.kind == "转出" and number in enrolled_since:
                cat, reason = "resolved", Message("%(date)s转出，现已在本县在读", date=change.changed_on)
            elif change.kind == "转出" and days > arrival:
                cat, reason = "transfer_no_destination", Message("%(date)s自%(school)s转出，无接收学校，已%(days)s天（超过%(limit)s天）", date=change.changed_on,
                                                            school=change.from_school or Message("原校"), days=days, limit=arrival)
            elif change.kind == "转出":
                cat, reason = "transfer_pending", Message("%(date)s转出，无接收学校，%(days)s天（未超过%(limit)s天）", date=change.changed_on, days=days,
                                                     limit=arrival)
            elif change.kind == "休学" and days > suspension:
                cat, reason = "suspension_overdue", Message("%(date)s休学，已%(days)s天（休学期%(limit)s天）仍未复学", date=change.changed_on, days=days,
                                                       limit=suspension)
            elif change.kind == "休学":
                end = change.changed_on + timedelta(days=suspension)
                cat, reason = "suspended", Message("%(date)s休学（%(reason)s），休学期至%(end)s", date=change.changed_on,
                                              reason=change.reason or Message("未注明原因"), end=end)
            else:
                cat, reason = "resolved", Message("%(date)s%(kind)s", date=change.changed_on, kind=Message(change.kind))
            rows.append({"line": change.id, "id_number": number, "name": change.name, "category": cat, "reason": reason, "data": data_})
        return Outcome(rows, params={"transfer_arrival_days": arrival, "suspension_days": suspension})


def _enrolled_ids() -> set[str]:
    return set(db.session.execute(
        sa.select(Child.id_number).join(Enrollment, Enrollment.child_id == Child.id).where(Enrollment.status == "在读")
    ).scalars())


# --- disabled children (残疾儿童) --------------------------------------------------------


def homebound_placements(id_numbers: list[str], as_of=None) -> set[str]:
    """Return the ID numbers among ``id_numbers`` that have a 送教上门 (homebound)
    placement active on ``as_of`` (today by default).

    The one place the comparisons and ledgers ask about placements; the rule of what
    is active is :func:`edu_guard.homebound.services.placed_id_numbers`.
    """

    return placed_id_numbers(id_numbers, as_of)


class DisabledComparison(Comparison):
    """残疾儿童与学籍比对: the disabled persons' federation's list (imported as
    :class:`~edu_guard.registry.models.DisabilityRecord`) against the registry and the
    送教上门 placements (残疾人教育条例 2017; docs/domain.md §3)."""

    name = "disabled"
    label = N_("残疾儿童与学籍、送教上门比对")
    categories = {
        "needs_placement": Category(N_("不能到校且未安置（送教上门候选）"), flagged=False),
        "placed": Category(N_("已安置送教上门")),
        "attends_enrolled": Category(N_("能到校，已在读")),
        "attends_not_enrolled": Category(N_("能到校，但无在读学籍"), flagged=True, case_reason="残疾"),
        "out_of_age": Category(N_("不在义务教育年龄段")),
    }

    def run(self, *, as_of, settings, data=None, filename=None):
        """See :meth:`Comparison.run`."""
        rule = rule_from_config(settings)
        records = db.session.execute(sa.select(DisabilityRecord).order_by(DisabilityRecord.id)).scalars().all()
        placed = homebound_placements([r.id_number for r in records], as_of)
        enrolled = _enrolled_ids()
        rows = []
        for r in records:
            data_ = {"certificate": r.certificate_number, "disability": f"{r.category or ''}{r.level or ''}级",
                     "township": r.township, "village": r.village}
            too = age_category(birth_date_from_id(r.id_number), as_of, **rule)
            if r.id_number in placed:
                cat, reason = "placed", Message("已有送教上门安置")
            elif too:
                cat, reason = "out_of_age", Message("未到入学年龄") if too == "too_young" else Message("超过义务教育年龄")
            elif not r.can_attend_school:
                cat, reason = "needs_placement", Message("残联名单注明不能到校就读（%(category)s%(level)s级），尚无送教上门安置",
                                                  category=r.category or "", level=r.level or "")
            elif r.id_number in enrolled:
                cat, reason = "attends_enrolled", Message("能到校就读，已在本县在读")
            else:
                cat, reason = "attends_not_enrolled", Message("能到校就读，但全县无在读学籍；疑似失学辍学")
            rows.append({"line": r.id, "id_number": r.id_number, "name": r.name, "category": cat, "reason": reason, "data": data_})
        return Outcome(rows, params={"rule": {**rule, "cutoff": list(rule["cutoff"])}})


@hookimpl
def comparison_kinds() -> list[Comparison]:
    """The built-in comparisons, contributed through the same hook as a plugin's."""
    return [HouseholdComparison(), StatusComparison(), DisabledComparison()]


def kinds() -> dict[str, Comparison]:
    """Return the current app's comparison kinds by name: the built-in ones and those
    of its plugins (``comparison_kinds`` hook), in registration order."""
    return hooks.contributions().comparison_kinds
