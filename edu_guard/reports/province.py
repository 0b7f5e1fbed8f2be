"""Figures above the county (州/市 and 省): the aggregates of the counties under a
prefecture or a province (docs/domain.md §6 "Above the county").

A prefecture or province user sees no child-level row (:mod:`edu_guard.auth.scoping`
answers ``false`` for every scoped model): these functions read past the scope, once,
with their reason, and return only counts and sums per county — no name, no ID number,
no row of a child leaves them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa

from edu_guard import money
from edu_guard.aid import stats
from edu_guard.aid.models import Payment, PaymentReversal
from edu_guard.auth.scoping import unscoped
from edu_guard.db import db
from edu_guard.hooks import contributions
from edu_guard.i18n import Message
from edu_guard.registry.models import Division, School
from edu_guard.reports.services import ReportError, period_bounds, periodic_report

#: The reason the aggregates read past the user's scope.
AGGREGATES = "aggregates of the counties under a prefecture or province: counts and sums only"


def scheme_names() -> dict[str, str]:
    """Scheme code → its name, for the tables' heads (the schemes plugins contribute)."""
    return {c: s.name for c, s in contributions().schemes.items()}


@dataclass
class County:
    """A county under the division: its code (GB/T 2260), name and prefecture's name."""

    code: str
    name: str
    prefecture: str | None


def counties_under(code: str) -> list[County]:
    """Return the counties under the division ``code`` (itself if it is a county), by code.

    :raises ReportError: no division has that code.
    """
    division = db.session.get(Division, code)
    if division is None:
        raise ReportError(Message("没有行政区划 %(code)s", code=code))
    if division.level == "county":
        rows = [(division, division.parent)]
    else:
        parent = sa.orm.aliased(Division)
        stmt = (sa.select(Division, parent).outerjoin(parent, parent.code == Division.parent_code)
                .where(Division.level == "county",
                       sa.or_(Division.parent_code == code, parent.parent_code == code)).order_by(Division.code))
        rows = db.session.execute(stmt).all()
    return [County(d.code, d.name, p.name if p is not None else None) for d, p in rows]


def _by_county(term_ids: list[int], codes: list[str], reversed_only: bool) -> list:
    stmt = sa.select(School.county_code, Payment.scheme_code, sa.func.count(), sa.func.sum(Payment.amount_fen),
                     sa.func.count().filter(Payment.is_poverty),
                     sa.func.sum(Payment.amount_fen).filter(Payment.is_poverty)).join(School, School.id == Payment.school_id)
    if reversed_only:
        stmt = stmt.join(PaymentReversal, PaymentReversal.payment_id == Payment.id)
    stmt = stmt.where(Payment.term_id.in_(term_ids), School.county_code.in_(codes)).group_by(
        School.county_code, Payment.scheme_code)
    return db.session.execute(stmt).all()


def _children(term_ids: list[int], codes: list[str], by_county: bool, by_scheme: bool) -> dict:
    """人数: the distinct children paid (reversed payments left out), grouped as asked;
    the key is a tuple of the grouping columns (``()`` for the grand total)."""
    keys = ([School.county_code] if by_county else []) + ([Payment.scheme_code] if by_scheme else [])
    stmt = (sa.select(*keys, sa.func.count(sa.distinct(Payment.child_id)))
            .join(School, School.id == Payment.school_id)
            .outerjoin(PaymentReversal, PaymentReversal.payment_id == Payment.id)
            .where(Payment.term_id.in_(term_ids), School.county_code.in_(codes), PaymentReversal.id.is_(None)))
    if keys:
        stmt = stmt.group_by(*keys)
    return {tuple(row[:-1]): int(row[-1]) for row in db.session.execute(stmt).all()}


@unscoped(AGGREGATES)
def aid_by_county(code: str, year: int) -> dict:
    """The aid paid in ``year`` (the terms starting in it) by county and scheme, reversed
    payments left out (docs/domain.md §2 "How aid is reported").

    :param code: the prefecture's or province's division code.
    :return: ``{"year", "terms": [codes], "schemes": [codes], "rows": [{"code", "name",
        "prefecture", "schemes": {scheme: {"persons", "person_times", "amount_wan", "poverty_person_times",
        "poverty_amount_wan"}}, "persons", "person_times", "amount_wan"}], "total": {same, no code}}``;
        万元 as strings with four decimals, rounded half up once from the summed fen.
        人次 (``person_times``) counts payments; 人数 (``persons``) counts the distinct
        children paid, so a child paid twice (two schemes, two terms) is one 人数 in the
        county's total and in the grand total (全国学生资助管理中心's 人数/人次 distinction).
    :raises ReportError: an unknown division; :raises ValueError: no term in ``year``.
    """
    counties = counties_under(code)
    terms = stats.terms_for(year=year)
    codes = [c.code for c in counties]
    sums: dict[tuple[str, str], list[int]] = {}
    for sign, rows in ((1, _by_county([t.id for t in terms], codes, False)),
                       (-1, _by_county([t.id for t in terms], codes, True))):
        for county, scheme, n, fen, pov_n, pov_fen in rows:
            acc = sums.setdefault((county, scheme), [0, 0, 0, 0])
            for i, v in enumerate((n, fen, pov_n, pov_fen)):
                acc[i] += sign * int(v or 0)
    term_ids = [t.id for t in terms]
    per_scheme = _children(term_ids, codes, True, True)
    per_county = _children(term_ids, codes, True, False)
    per_total_scheme = _children(term_ids, codes, False, True)
    everyone = _children(term_ids, codes, False, False).get((), 0)
    known = list(scheme_names())
    schemes = sorted({s for _c, s in sums}, key=lambda c: (known.index(c) if c in known else len(known), c))

    def cell(acc, persons: int) -> dict:
        return {"persons": persons, "person_times": acc[0], "amount_wan": str(money.wan(acc[1], places=4)),
                "poverty_person_times": acc[2], "poverty_amount_wan": str(money.wan(acc[3], places=4))}

    rows, grand = [], {s: [0, 0, 0, 0] for s in schemes}
    for c in counties:
        per = {s: sums.get((c.code, s), [0, 0, 0, 0]) for s in schemes}
        for s, acc in per.items():
            grand[s] = [a + b for a, b in zip(grand[s], acc)]
        rows.append({"code": c.code, "name": c.name, "prefecture": c.prefecture,
                     "schemes": {s: cell(acc, per_scheme.get((c.code, s), 0)) for s, acc in per.items()},
                     "persons": per_county.get((c.code,), 0),
                     "person_times": sum(acc[0] for acc in per.values()),
                     "amount_wan": str(money.wan(sum(acc[1] for acc in per.values()), places=4))})
    total = {"schemes": {s: cell(acc, per_total_scheme.get((s,), 0)) for s, acc in grand.items()},
             "persons": everyone,
             "person_times": sum(acc[0] for acc in grand.values()),
             "amount_wan": str(money.wan(sum(acc[1] for acc in grand.values()), places=4))}
    return {"year": year, "terms": [t.code for t in terms], "schemes": schemes, "rows": rows, "total": total}


@unscoped(AGGREGATES)
def monthly_by_county(code: str, month: str) -> dict:
    """The dropout monthly report (控辍保学月报) of the counties under ``code``: one row
    per county, the columns and reconciliation of
    :func:`edu_guard.reports.services.periodic_report`.

    :param month: ``YYYY-MM``.
    :return: ``periodic_report``'s dict, each row with its county's ``code`` and ``name``.
    :raises ReportError: an unknown division or a malformed month.
    """
    try:
        first = date.fromisoformat(f"{month}-01")
    except ValueError:
        raise ReportError(Message("月份“%(month)s”应为 YYYY-MM", month=month)) from None
    counties = counties_under(code)
    start, end = period_bounds("month", first)
    report = periodic_report(start, end, by="county", counties=[c.code for c in counties])
    names = {c.code: c.name for c in counties}
    for row in report["rows"]:
        row["code"], row["name"] = row["name"], names.get(row["name"], row["name"])
    return report
