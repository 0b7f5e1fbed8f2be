"""The three ledgers of dropout control (控辍保学台账, 教基厅函〔2024〕15号; docs/domain.md §1):

- 适龄儿童台账 (school-age children): the registry's children of compulsory-school age;
  an entry is closed when the child's 学籍 ends (毕业, 转出, 死亡注销), with that
  change's date and reason;
- 疑似辍学台账 (suspected dropouts): the flagged rows of the comparison runs; closed
  when a case is opened or by hand (:func:`edu_guard.comparisons.services.close_entry`);
- 辍学台账 (dropouts): one entry per case, closed with the case's 销号, with its 劝返
  log (the home visits).

Each function returns plain dicts (the templates and the Excel export get no ORM
objects); ID numbers are masked unless ``unmasked``.
"""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from edu_guard.auth.scoping import scope_cases, scope_children
from edu_guard.auth.services import mask_id_number
from edu_guard.cases import machine
from edu_guard.cases.models import DropoutCase
from edu_guard.comparisons.kinds import kinds, homebound_placements
from edu_guard.comparisons.models import ComparisonRow, ComparisonRun
from edu_guard.comparisons.rules import compulsory_birth_range, rule_from_config
from edu_guard.db import db
from edu_guard.registry.models import Child
from edu_guard.i18n import N_, Message

LEDGERS = {"school_age": N_("适龄儿童台账"), "suspected": N_("疑似辍学台账"), "dropouts": N_("辍学台账")}
#: The 学籍 changes that close a school-age entry.
_ENDING = ("毕业", "转出", "死亡注销")


def _mask(value: str | None, unmasked: bool) -> str:
    return (value or "") if unmasked else mask_id_number(value)


def school_age_ledger(on: date, config, user=None, unmasked: bool = False) -> list[dict]:
    """The children of the registry of compulsory-school age on ``on``
    (:func:`~edu_guard.comparisons.rules.compulsory_birth_range`), with their 学籍 and,
    if it has ended, the 销号 date and reason."""
    born_after, born_by = compulsory_birth_range(on, **rule_from_config(config))
    stmt = scope_children(
        sa.select(Child).where(Child.birth_date > born_after, Child.birth_date <= born_by)
        .options(selectinload(Child.enrollments), selectinload(Child.guardians), selectinload(Child.status_changes))
        .order_by(Child.township_id, Child.name), user)
    out = []
    for child in db.session.execute(stmt).scalars():
        e = child.current_enrollment
        ending = [c for c in child.status_changes if c.kind in _ENDING and c.changed_on <= on]
        closed = ending[-1] if ending and (e is None or e.status not in ("在读", "休学")) else None
        guardian = child.guardians[0] if child.guardians else None
        out.append({
            "name": child.name, "sex": child.sex, "id_number": _mask(child.id_number, unmasked),
            "birth_date": child.birth_date.isoformat(), "township": child.township.name if child.township else "",
            "school": e.school.name if e else "", "grade": (e.grade or "") if e else "", "status": e.status if e else Message("无学籍"),
            "guardian": guardian.name if guardian else "", "phone": (guardian.phone or "") if guardian else "",
            "closed_on": closed.changed_on.isoformat() if closed else "",
            "closed_reason": Message("%(kind)s：%(detail)s", kind=Message(closed.kind),
                                     detail=closed.to_school or closed.reason or "") if closed else "",
        })
    return out


def suspected_ledger(user=None, unmasked: bool = False) -> list[dict]:
    """The rows of flagged categories of every comparison run, newest run first, one
    entry per child (the latest run's row), with its 销号 if closed."""
    flagged = {(k, c) for k, kind in kinds().items() for c, cat in kind.categories.items() if cat.flagged}
    stmt = (sa.select(ComparisonRow, ComparisonRun).join(ComparisonRun, ComparisonRun.id == ComparisonRow.run_id)
            .order_by(ComparisonRun.id.desc(), ComparisonRow.line))
    seen, out = set(), []
    visible = None
    if user is not None and user.role in ("township", "school"):
        visible = set(db.session.execute(scope_children(sa.select(Child.id_number), user)).scalars())
    for row, run in db.session.execute(stmt):
        if (run.kind, row.category) not in flagged or row.id_number in seen:
            continue
        if visible is not None and row.id_number not in visible:
            continue
        seen.add(row.id_number)
        out.append({
            "row_id": row.id, "run": run.id, "source": kinds()[run.kind].label, "as_of": run.as_of.isoformat(),
            "name": row.name or "", "id_number": _mask(row.id_number, unmasked),
            "category": kinds()[run.kind].categories[row.category].label, "reason": row.reason,
            "case_id": row.case_id, "closed_on": row.closed_on.isoformat() if row.closed_on else "",
            "closed_reason": row.closed_reason or "",
        })
    return out


def dropout_ledger(user=None, unmasked: bool = False) -> list[dict]:
    """One entry per case (docs/domain.md §1 ledger row: name, sex, ID, school and grade, month
    of leaving, guardian and phone, address, 户籍, reason, help given, step, 销号) with
    its 劝返 log ``visits``: ``[{"attempt", "date", "persons", "form", "result"}]``."""
    stmt = scope_cases(
        sa.select(DropoutCase).options(selectinload(DropoutCase.visits), selectinload(DropoutCase.events))
        .order_by(DropoutCase.opened_on, DropoutCase.id), user)
    cases = db.session.execute(stmt).scalars().all()
    placed = homebound_placements([c.child.id_number for c in cases])
    out = []
    for case in cases:
        child = case.child
        e = child.current_enrollment
        guardian = child.guardians[0] if child.guardians else None
        help_given = "；".join(
            f"{ev.acted_on} {machine.EVENT_LABELS.get(ev.event, ev.event)}" for ev in case.events if ev.event != "open")
        out.append({
            "case_id": case.id, "name": child.name, "sex": child.sex, "id_number": _mask(child.id_number, unmasked),
            "school": case.school.name if case.school else "", "grade": (e.grade or "") if e else "",
            "left_month": case.opened_on.strftime("%Y-%m"),
            "guardian": guardian.name if guardian else "", "phone": (guardian.phone or "") if guardian else "",
            "address": child.address or "", "hukou": child.hukou or "", "reason": Message(case.reason) if case.reason else "",
            "help": help_given, "step": Message(machine.STATES[case.state].label),
            "homebound": Message("送教上门") if child.id_number in placed or case.outcome == "送教上门" else "",
            "closed_on": case.closed_on.isoformat() if case.closed_on else "",
            "closed_reason": case.closed_reason or "",
            "visits": [
                {"attempt": i, "date": v.visited_on.isoformat(), "persons": v.visitors, "form": v.form,
                 "result": v.outcome or v.findings}
                for i, v in enumerate(case.visits, start=1)
            ],
        })
    return out
