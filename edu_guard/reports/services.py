"""Periodic reports (控辍保学日报、周报、月报) by township or school, and the dashboard.

Every figure is counted from the cases' history (their events, home visits and
letters), so a report can be made for any past period. A case is *open* on a day
when it was opened on or before it and not yet closed (销号) on it. For each row and in
total the figures reconcile: open at start + new − closed = open at end
(docs/domain.md §1 "Reporting and ledgers"; docs/domain.md §1).
"""

from __future__ import annotations

import calendar
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta

import sqlalchemy as sa

from edu_guard.auth.scoping import scope_cases
from edu_guard.cases import machine
from edu_guard.cases.models import CaseEvent, DropoutCase, HomeVisit
from edu_guard.db import db
from edu_guard.letters.models import Letter, letter_case
from edu_guard.registry.models import School, Township
from edu_guard.i18n import N_, Message

#: Report periods and their labels.
PERIODS = {"day": N_("日报"), "week": N_("周报"), "month": N_("月报")}
#: Columns of a report row, in order, with their labels.
COLUMNS = {
    "open_at_start": N_("期初在册"),
    "new": N_("本期新增"),
    "closed": N_("本期销号"),
    "open_at_end": N_("期末在册"),
    "returned": N_("本期复学"),
    "placed": N_("本期安置"),
    "still_out": N_("期末仍未返校"),
    "step1": N_("第一步 宣传教育"),
    "step2": N_("第二步 责令改正"),
    "step3": N_("第三步 行政处罚"),
    "step4": N_("第四步 申请强制执行"),
    "following_up": N_("复学跟踪中"),
    "home_visits": N_("家访（人次）"),
    "letters": N_("制发文书（份）"),
}
_STEP_COLUMN = {"persuasion": "step1", "order_to_correct": "step2", "penalty": "step3", "enforcement": "step4",
                "following_up": "following_up"}
NO_TOWNSHIP, NO_SCHOOL = "未定乡镇", "无学籍学校"


class ReportError(ValueError):
    """A report request was refused; ``str(exc)`` is the reason in Chinese."""


def period_bounds(period: str, on: date) -> tuple[date, date]:
    """Return the first and last day of the day, ISO week (Monday–Sunday) or calendar
    month that contains ``on``.

    :raises ReportError: an unknown period.
    """
    if period == "day":
        return on, on
    if period == "week":
        start = on - timedelta(days=on.weekday())
        return start, start + timedelta(days=6)
    if period == "month":
        return on.replace(day=1), on.replace(day=calendar.monthrange(on.year, on.month)[1])
    raise ReportError(Message("未知的报表周期“%(period)s”（可选：%(choices)s）", period=period, choices='、'.join(PERIODS)))


@dataclass
class CaseHistory:
    """What the reports need of one case: its row key and dated states."""

    id: int
    key: str
    opened_on: date
    closed_on: date | None
    #: ``(date, event, to_state)`` in order.
    events: list[tuple[date, str, str]]

    def state_on(self, day: date) -> str | None:
        """The case's state at the end of ``day`` (``None`` before it was opened)."""
        if self.opened_on > day:
            return None
        state = "persuasion"
        for acted_on, _event, to_state in self.events:
            if acted_on > day:
                break
            state = to_state
        return state

    def is_open_on(self, day: date) -> bool:
        """Open at the end of ``day``: opened on or before it, not closed on or before it."""
        return self.opened_on <= day and (self.closed_on is None or self.closed_on > day)


def _histories(by: str, user, counties: list[str] | None = None) -> list[CaseHistory]:
    if by not in ("township", "school", "county"):
        raise ReportError(Message("分组须为 township（乡镇）或 school（学校）"))
    if by == "county":  # a case belongs to its township's county, else to its school's
        label = sa.func.coalesce(Township.county_code, School.county_code)
        stmt = (sa.select(DropoutCase.id, DropoutCase.opened_on, DropoutCase.closed_on, label.label("key"))
                .outerjoin(Township, Township.id == DropoutCase.township_id)
                .outerjoin(School, School.id == DropoutCase.school_id))
        if counties is not None:
            stmt = stmt.where(label.in_(counties))
    else:
        label = Township.name if by == "township" else School.name
        join_col = DropoutCase.township_id if by == "township" else DropoutCase.school_id
        model = Township if by == "township" else School
        stmt = sa.select(DropoutCase.id, DropoutCase.opened_on, DropoutCase.closed_on, label.label("key")).outerjoin(
            model, model.id == join_col)
    stmt = scope_cases(stmt, user)
    cases = db.session.execute(stmt).all()
    events: dict[int, list] = defaultdict(list)
    ids = [c.id for c in cases]
    if ids:
        for e in db.session.execute(
            sa.select(CaseEvent.case_id, CaseEvent.acted_on, CaseEvent.event, CaseEvent.to_state)
            .where(CaseEvent.case_id.in_(ids), CaseEvent.event != "open")
            .order_by(CaseEvent.acted_on, CaseEvent.id)
        ):
            events[e.case_id].append((e.acted_on, e.event, e.to_state))
    out = []
    for c in cases:
        history = events[c.id]
        closed_on = next((d for d, _e, s in history if s == "closed"), None) or c.closed_on
        out.append(CaseHistory(c.id, c.key or (NO_TOWNSHIP if by == "township" else NO_SCHOOL), c.opened_on, closed_on, history))
    return out


def _units(by: str, user) -> list[str]:
    """The names of the townships (``by="township"``) or schools in ``user``'s area: a
    report lists each of them, with zeros when it has no case (superiors read the
    absence of a row as a township that did not report)."""
    if by == "township":
        stmt = sa.select(Township.name)
        if user is not None and getattr(user, "township_id", None):
            stmt = stmt.where(Township.id == user.township_id)
        elif user is not None and getattr(user, "school_id", None):
            stmt = stmt.join(School, School.township_id == Township.id).where(School.id == user.school_id)
    else:
        stmt = sa.select(School.name)
        if user is not None and getattr(user, "school_id", None):
            stmt = stmt.where(School.id == user.school_id)
        elif user is not None and getattr(user, "township_id", None):
            stmt = stmt.where(School.township_id == user.township_id)
    return list(db.session.execute(stmt).scalars())


def periodic_report(start: date, end: date, *, by: str = "township", user=None,
                    counties: list[str] | None = None) -> dict:
    """Return the report of the cases ``user`` may see for the days ``start``–``end``.

    :param by: ``township`` or ``school``: one row per township (乡镇) or school;
        ``county``: one row per county code of ``counties`` (the province's report,
        :mod:`edu_guard.reports.province`), a case counted in its township's county.
    :param counties: with ``by="county"``: the county codes (GB/T 2260) reported.
    :return: ``{"start", "end", "by", "columns": {key: label}, "rows": [{"name", key:
        int…}], "total": {key: int…}}``; rows sorted by name, one for every township
        (school) of the user's area even when it has no case. ``home_visits`` counts
        visits (人次) in the period, ``letters`` the letters issued in it naming a case
        of the row (a letter naming cases of two rows counts in both, once in total).
    :raises ReportError: ``start`` after ``end`` or an unknown grouping.
    """
    if start > end:
        raise ReportError(Message("开始日期不能晚于结束日期"))
    histories = _histories(by, user, counties)
    before = start - timedelta(days=1)
    rows: dict[str, dict] = {}
    key_of_case = {}

    def row(key: str) -> dict:
        return rows.setdefault(key, {"name": key, **dict.fromkeys(COLUMNS, 0)})

    for key in (counties or []) if by == "county" else _units(by, user):  # every township (school) the user answers for, even with no case
        row(key)

    for h in histories:
        key_of_case[h.id] = h.key
        if h.opened_on > end:
            continue
        r = row(h.key)
        r["open_at_start"] += h.is_open_on(before)
        r["new"] += start <= h.opened_on <= end
        r["closed"] += h.closed_on is not None and start <= h.closed_on <= end
        if h.is_open_on(end):
            r["open_at_end"] += 1
            state = h.state_on(end)
            r[_STEP_COLUMN[state]] += 1
            r["still_out"] += state in machine.OUT_OF_SCHOOL
        for acted_on, event, _s in h.events:
            if start <= acted_on <= end:
                r["returned"] += event == "return_to_school"
                r["placed"] += event == "place"
    ids = list(key_of_case)
    letter_ids_total = set()
    if ids:
        for case_id, visits in db.session.execute(
            sa.select(HomeVisit.case_id, sa.func.count()).where(
                HomeVisit.case_id.in_(ids), HomeVisit.visited_on.between(start, end)).group_by(HomeVisit.case_id)
        ):
            row(key_of_case[case_id])["home_visits"] += visits
        per_row: dict[str, set] = defaultdict(set)
        for letter_id, case_id in db.session.execute(
            sa.select(Letter.id, letter_case.c.case_id).join(letter_case, letter_case.c.letter_id == Letter.id)
            .where(letter_case.c.case_id.in_(ids), Letter.issued_on.between(start, end))
        ):
            per_row[key_of_case[case_id]].add(letter_id)
            letter_ids_total.add(letter_id)
        for key, letters in per_row.items():
            row(key)["letters"] += len(letters)
    ordered = [rows[k] for k in sorted(rows)]
    total = {k: sum(r[k] for r in ordered) for k in COLUMNS}
    total["letters"] = len(letter_ids_total)
    return {"start": start, "end": end, "by": by, "columns": COLUMNS, "rows": ordered, "total": {"name": "合计", **total}}


def dashboard(user=None, *, today: date, weeks: int = 20, term_start: date | None = None,
              term_end: date | None = None) -> dict:
    """Return the county's open cases by step and township, and the weekly trend.

    :param term_start: the first day of the term the trend covers (本学期, from the
        county's term records); the trend then runs from that day to
        ``min(term_end, today)``: its first point is the term's first day, then each
        Sunday (周末), then the last day. Without it, the last ``weeks`` weeks up to ``today``.
    :return: ``{"by_step": {state label: n}, "by_township": [(name, n)], "trend":
        [(day ISO, open, still out)]}``.
    """
    histories = _histories("township", user)
    by_step: dict[str, int] = {machine.STATES[s].label: 0 for s in machine.OPEN}
    by_township: dict[str, int] = defaultdict(int)
    for h in histories:
        if h.is_open_on(today):
            by_step[machine.STATES[h.state_on(today)].label] += 1
            by_township[h.key] += 1
    trend = []
    if term_start is not None and term_start <= today:  # 本学期 from the term records
        final = min(term_end or today, today)
        days = [term_start]
        day = term_start + timedelta(days=6 - term_start.weekday())
        while day < final:
            if day > term_start:
                days.append(day)
            day += timedelta(weeks=1)
        if final > term_start:
            days.append(final)
    else:
        last = today + timedelta(days=6 - today.weekday())
        days = [min(last - timedelta(weeks=i), today) for i in range(weeks - 1, -1, -1)]
    for day in days:
        open_ = [h for h in histories if h.is_open_on(day)]
        trend.append((day.isoformat(), len(open_), sum(h.state_on(day) in machine.OUT_OF_SCHOOL for h in open_)))
    return {"by_step": by_step, "by_township": sorted(by_township.items()), "trend": trend}
