"""Student-aid statistics (资助统计) in the bureau's reporting form (docs/domain.md §2 "How aid
is reported").

人次 counts payments, 人数 counts children once, amounts are summed in fen by the
database (one GROUP BY over the payments, reversed payments left out) and turned into
万元 once, at the end, rounded half up: two decimals in the narrative lines, four in
the Excel table (exact to the yuan).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from edu_guard import excel, money
from edu_guard.aid.models import Payment, PaymentReversal, Term
from edu_guard.db import db
from edu_guard.hooks import collect, contributions
from edu_guard.i18n import N_, Message

#: The 其中 breakdowns of the tables (docs/domain.md §2): flag column → label. 烈士子女 is not
#: recorded by the registry, so it has no column; "其他" is every payment with no flag.
#: The Excel table prints them as they are; the page translates them (N_).
BREAKDOWNS = {
    "is_poverty": N_("脱贫家庭（含监测对象）"),
    "is_dibao": N_("低保家庭"),
    "is_tekun": N_("特困供养"),
    "is_orphan": N_("孤儿（含事实无人抚养）"),
    "is_disabled": N_("残疾学生"),
}


@dataclass
class Figures:
    """Payments of one scheme (and stage): 人次, 人数, fen, and the 其中 counts.

    :ivar breakdown: flag (:data:`BREAKDOWNS` and ``"other"``) → ``(人次, fen)``.
    """

    scheme_code: str
    stage: str | None
    person_times: int
    persons: int
    amount_fen: int
    breakdown: dict[str, tuple[int, int]] = field(default_factory=dict)


def _grouped_sums(term_ids: list[int], reversed_only: bool) -> list:
    """Rows ``(scheme, stage, *flags, 人次, fen)`` grouped by scheme, stage and the 其中
    flags, of every payment of the terms or of the reversed ones only."""
    flags = [getattr(Payment, f) for f in BREAKDOWNS]
    stmt = sa.select(Payment.scheme_code, Payment.stage, *flags, sa.func.count(), sa.func.sum(Payment.amount_fen))
    if reversed_only:
        stmt = stmt.join(PaymentReversal, PaymentReversal.payment_id == Payment.id)
    stmt = stmt.where(Payment.term_id.in_(term_ids)).group_by(Payment.scheme_code, Payment.stage, *flags)
    return db.session.execute(stmt).all()


def _sums(term_ids: list[int]) -> list[Figures]:
    """人次, fen and the 其中 counts by scheme and stage of the payments not reversed
    (``persons`` left 0).

    One GROUP BY over every payment of the terms (it reads ``ix_aid_payment_report`` in
    order: no sort, no visit of the table), less the same figures of the reversed
    payments (a join from the few reversals) — cheaper than testing every payment
    against the reversals.
    """
    out: dict[tuple, Figures] = {}
    keys = [*BREAKDOWNS, "other"]
    for sign, rows in ((1, _grouped_sums(term_ids, False)), (-1, _grouped_sums(term_ids, True))):
        for scheme_code, stage, *rest in rows:
            *flag_values, n, fen = rest
            n, fen = sign * int(n), sign * int(fen or 0)
            f = out.setdefault((scheme_code, stage), Figures(scheme_code, stage, 0, 0, 0, {k: (0, 0) for k in keys}))
            f.person_times += n
            f.amount_fen += fen
            hit = [k for k, v in zip(BREAKDOWNS, flag_values) if v] or ["other"]
            for k in hit:
                f.breakdown[k] = (f.breakdown[k][0] + n, f.breakdown[k][1] + fen)
    return [f for f in out.values() if f.person_times]


def _persons(term_ids: list[int], by_stage: bool) -> dict:
    """人数 over several terms: distinct children by scheme (and stage) with a payment
    not reversed.

    The children of every payment are counted in index order (``count(DISTINCT)`` alone
    reads ``ix_aid_payment_stage_child`` / ``ix_aid_payment_scheme_child``), less the
    children whose every payment of the key was reversed (found from the reversals).
    """
    keys = [Payment.scheme_code, Payment.stage] if by_stage else [Payment.scheme_code]
    stmt = sa.select(*keys, sa.func.count(sa.distinct(Payment.child_id))).where(
        Payment.term_id.in_(term_ids)).group_by(*keys)
    counted = {tuple(row[:-1]): int(row[-1]) for row in db.session.execute(stmt)}
    other = aliased(Payment)
    live = sa.select(other.id).where(
        other.child_id == Payment.child_id, other.scheme_code == Payment.scheme_code, other.term_id.in_(term_ids),
        other.id.not_in(sa.select(PaymentReversal.payment_id)),
        *([other.stage == Payment.stage] if by_stage else []),
    )
    lost = (
        sa.select(*keys, sa.func.count(sa.distinct(Payment.child_id)))
        .join(PaymentReversal, PaymentReversal.payment_id == Payment.id)
        .where(Payment.term_id.in_(term_ids), ~sa.exists(live))
        .group_by(*keys)
    )
    for row in db.session.execute(lost):
        counted[tuple(row[:-1])] -= int(row[-1])
    return counted


def figures(term_ids: list[int]) -> tuple[list[Figures], list[Figures]]:
    """The figures of the terms: ``(by scheme, by scheme and stage)``.

    The totals by scheme add up the rows by stage. Within one term a child has at most
    one payment per scheme (the unique constraint on child, scheme and term), so there
    人数 equals 人次 and no distinct count is run; over several terms the database
    counts the children distinctly (:func:`_persons`).
    """
    stages = _sums(term_ids)
    single = len(term_ids) == 1
    by_stage = {} if single else _persons(term_ids, by_stage=True)
    for f in stages:
        f.persons = f.person_times if single else by_stage[(f.scheme_code, f.stage)]
    totals: dict[str, Figures] = {}
    for f in stages:
        t = totals.setdefault(f.scheme_code, Figures(f.scheme_code, None, 0, 0, 0, {k: (0, 0) for k in f.breakdown}))
        t.person_times += f.person_times
        t.amount_fen += f.amount_fen
        t.breakdown = {k: (t.breakdown[k][0] + n, t.breakdown[k][1] + v) for k, (n, v) in f.breakdown.items()}
    by_scheme = {} if single else _persons(term_ids, by_stage=False)
    for code, t in totals.items():
        t.persons = t.person_times if single else by_scheme[(code,)]
    return list(totals.values()), stages


def terms_for(term_code: str | None = None, year: int | None = None) -> list[Term]:
    """The terms of a report: one term by code, or every term starting in ``year``.

    :raises ValueError: neither or both given, or no such term.
    """
    if (term_code is None) == (year is None):
        raise ValueError(Message("请指定学期或年度之一"))
    if term_code is not None:
        terms = db.session.execute(sa.select(Term).where(Term.code == term_code)).scalars().all()
        if not terms:
            raise ValueError(Message("没有学期 %(code)s", code=term_code))
        return list(terms)
    terms = db.session.execute(sa.select(Term).order_by(Term.start)).scalars().all()
    terms = [t for t in terms if t.start.year == year]
    if not terms:
        raise ValueError(Message("%(year)s年没有学期", year=year))
    return terms


def _order(codes) -> list[str]:
    known = list(contributions().schemes)
    return sorted(codes, key=lambda c: (known.index(c) if c in known else len(known), c))


def report(terms: list[Term]) -> dict:
    """Return the figures of ``terms`` as plain data.

    :return: ``{"terms": [codes], "period": name, "schemes": [{"code", "name",
        "person_times", "persons", "amount_yuan", "amount_wan", "poverty_person_times",
        "poverty_amount_yuan", "poverty_amount_wan", "breakdown": {flag: {"person_times",
        "amount_yuan"}}, "by_stage": [{"stage", …same keys}]}], "lines": [narrative]}``;
        amounts are strings (yuan with two decimals; 万元 with two).
    """
    names = {c: s.name for c, s in contributions().schemes.items()}
    ids = [t.id for t in terms]
    scheme_rows, stage_rows = figures(ids)
    totals = {f.scheme_code: f for f in scheme_rows}
    stages: dict[str, list[Figures]] = {}
    for f in stage_rows:
        stages.setdefault(f.scheme_code, []).append(f)

    def dump(f: Figures) -> dict:
        pov_n, pov_fen = f.breakdown["is_poverty"]
        return {
            "person_times": f.person_times, "persons": f.persons,
            "amount_yuan": str(money.from_fen(f.amount_fen)), "amount_wan": str(money.wan(f.amount_fen)),
            "poverty_person_times": pov_n, "poverty_amount_yuan": str(money.from_fen(pov_fen)),
            "poverty_amount_wan": str(money.wan(pov_fen)),
            "breakdown": {k: {"person_times": n, "amount_yuan": str(money.from_fen(v))} for k, (n, v) in f.breakdown.items()},
        }

    schemes = []
    for code in _order(totals):
        f = totals[code]
        entry = {"code": code, "name": names.get(code, code), **dump(f)}
        entry["by_stage"] = [{"stage": s.stage, **dump(s)} for s in sorted(stages.get(code, []), key=lambda s: s.stage)]
        schemes.append(entry)
    data = {
        "terms": [t.code for t in terms],
        "term": terms[0].code if len(terms) == 1 else None,
        "period": "、".join(t.name for t in terms),
        "schemes": schemes,
    }
    data["lines"] = [narrative(s) for s in schemes]
    return data


def narrative(s: dict) -> str:
    """The report line of one scheme in the seed documents' form:
    ``发放{name}{人次}人次{万元}万元，其中：脱贫家庭学生{人次}人次{万元}万元``."""
    return (f"发放{s['name']}{s['person_times']}人次{s['amount_wan']}万元，"
            f"其中：脱贫家庭学生{s['poverty_person_times']}人次{s['poverty_amount_wan']}万元")


def plugin_sections(data: dict) -> tuple[list[dict], list]:
    """Extra sections from the plugins' ``report_sections`` hook for the aid report.

    A plugin whose implementation raises is left out (and logged with its traceback);
    the other plugins' sections are still given (:func:`edu_guard.hooks.collect`).

    :param data: :func:`report`'s figures.
    :return: ``(sections, failures)``: ``[{"title", "lines"}]`` in plugin order, and a
        :class:`edu_guard.hooks.PluginFailure` for each plugin that failed (the page
        and the CLI name it).
    """
    figures = {"term": data["term"], "terms": data["terms"], "schemes": data["schemes"]}
    results, failures = collect("report_sections", report="aid", figures=figures)
    sections = []
    for result in results:
        sections.extend(result or [])
    return sections, failures


def workbook(terms: list[Term]) -> bytes:
    """The Excel table (资助发放统计表) by stage and scheme: 人次, 人数, 万元 (four
    decimals) and the 其中 columns (人次, 万元) of :data:`BREAKDOWNS` and 其他, then the
    合计 row (人次 and 万元 of the whole table, summed in fen and rounded once; 人数 is
    left empty there, as one child may have aid from several schemes).

    :return: the .xlsx file as bytes (through :mod:`edu_guard.excel`).
    """
    names = {c: s.name for c, s in contributions().schemes.items()}
    rows = figures([t.id for t in terms])[1]
    groups = [*BREAKDOWNS.values(), "其他"]
    head = ["学段", "资助项目", "人次", "人数", "金额"]
    sub = ["", "", "", "", ""]
    for g in groups:
        head += [f"其中：{g}", ""]
        sub += ["人次", "金额"]
    book = excel.Workbook()
    sheet = book.sheet("资助发放统计")
    sheet.title(f"{'、'.join(t.name for t in terms)}学生资助发放统计表（金额单位：万元）", len(head))
    sheet.header(head).header(sub)
    for col in range(6, len(head), 2):
        sheet.merge(2, col, col + 1)
    flags = [*BREAKDOWNS, "other"]
    order = _order({f.scheme_code for f in rows})
    for f in sorted(rows, key=lambda f: (f.stage, order.index(f.scheme_code))):
        line = [f.stage, names.get(f.scheme_code, f.scheme_code), f.person_times, f.persons, money.wan(f.amount_fen, 4)]
        for flag in flags:
            n, v = f.breakdown[flag]
            line += [n, money.wan(v, 4)]
        sheet.row(line)
    total = ["合计", "", sum(f.person_times for f in rows), None, money.wan(sum(f.amount_fen for f in rows), 4)]
    for flag in flags:
        total += [sum(f.breakdown[flag][0] for f in rows), money.wan(sum(f.breakdown[flag][1] for f in rows), 4)]
    sheet.total(total)
    return book.to_bytes()
