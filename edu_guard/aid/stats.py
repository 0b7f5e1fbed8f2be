"""Student-aid statistics (资助统计) in the bureau's reporting form (DOMAIN.md 2 "How aid
is reported").

人次 counts payments, 人数 counts children once, amounts are summed in fen by the
database (one GROUP BY over the payments, reversed payments left out) and turned into
万元 once, at the end, rounded half up: two decimals in the narrative lines, four in
the Excel table (exact to the yuan).
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

import sqlalchemy as sa

from edu_guard.aid.models import Payment, PaymentReversal, Term, yuan
from edu_guard.db import db

#: Fen in one 万元.
FEN_PER_WAN = Decimal(1_000_000)

#: The 其中 breakdowns of the tables (DOMAIN.md 2): flag column → label. 烈士子女 is not
#: recorded by the registry, so it has no column; "其他" is every payment with no flag.
BREAKDOWNS = {
    "is_poverty": "脱贫家庭（含监测对象）",
    "is_dibao": "低保家庭",
    "is_tekun": "特困供养",
    "is_orphan": "孤儿（含事实无人抚养）",
    "is_disabled": "残疾学生",
}


def wan(amount_fen: int, places: int = 2) -> Decimal:
    """Return fen as 万元 rounded half up to ``places`` decimals (rounded once, here)."""
    return (Decimal(amount_fen) / FEN_PER_WAN).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


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


def _flag_int(flag):
    return sa.cast(flag, sa.Integer)


def _sums(term_ids: list[int]) -> list[Figures]:
    """One GROUP BY scheme and stage over the payments of ``term_ids`` that are not
    reversed: 人次, fen and the 其中 counts (``persons`` left 0). It reads the covering
    index ``ix_aid_payment_report`` in order, so the database neither sorts nor visits
    the table."""
    flags = [getattr(Payment, f) for f in BREAKDOWNS]
    any_flag = _flag_int(sa.or_(*flags))
    cols = [
        sa.func.count().label("n"),
        sa.func.coalesce(sa.func.sum(Payment.amount_fen), 0).label("fen"),
        sa.func.coalesce(sa.func.sum(any_flag), 0).label("any_n"),
        sa.func.coalesce(sa.func.sum(any_flag * Payment.amount_fen), 0).label("any_fen"),
    ]
    for flag in flags:
        cols.append(sa.func.coalesce(sa.func.sum(_flag_int(flag)), 0).label(f"{flag.key}_n"))
        cols.append(sa.func.coalesce(sa.func.sum(_flag_int(flag) * Payment.amount_fen), 0).label(f"{flag.key}_fen"))
    stmt = (
        sa.select(Payment.scheme_code, Payment.stage, *cols)
        .where(*_live(term_ids))
        .group_by(Payment.scheme_code, Payment.stage)
    )
    out = []
    for row in db.session.execute(stmt).mappings():
        breakdown = {f: (int(row[f"{f}_n"]), int(row[f"{f}_fen"])) for f in BREAKDOWNS}
        breakdown["other"] = (int(row["n"]) - int(row["any_n"]), int(row["fen"]) - int(row["any_fen"]))
        out.append(Figures(row["scheme_code"], row["stage"], int(row["n"]), 0, int(row["fen"]), breakdown))
    return out


def _live(term_ids: list[int]):
    """The payments of the terms, reversed ones left out."""
    return (Payment.term_id.in_(term_ids), Payment.id.not_in(sa.select(PaymentReversal.payment_id)))


def _persons(term_ids: list[int], by_stage: bool) -> dict:
    """人数: distinct children by scheme (and stage), each query alone so that the
    database counts them in index order (``count(DISTINCT)`` with no other aggregate)."""
    keys = [Payment.scheme_code, Payment.stage] if by_stage else [Payment.scheme_code]
    stmt = sa.select(*keys, sa.func.count(sa.distinct(Payment.child_id))).where(*_live(term_ids)).group_by(*keys)
    return {tuple(row[:-1]): int(row[-1]) for row in db.session.execute(stmt)}


def figures(term_ids: list[int]) -> tuple[list[Figures], list[Figures]]:
    """The figures of the terms: ``(by scheme, by scheme and stage)``.

    One GROUP BY gives 人次, amounts and the 其中 counts by scheme and stage; the totals
    by scheme add them up. Within one term a child has at most one payment per scheme
    (the unique constraint on child, scheme and term), so there 人数 equals 人次 and no
    distinct count is run; over several terms the database counts children distinctly.
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
        raise ValueError("请指定学期或年度之一")
    if term_code is not None:
        terms = db.session.execute(sa.select(Term).where(Term.code == term_code)).scalars().all()
        if not terms:
            raise ValueError(f"没有学期 {term_code}")
        return list(terms)
    terms = db.session.execute(sa.select(Term).order_by(Term.start)).scalars().all()
    terms = [t for t in terms if t.start.year == year]
    if not terms:
        raise ValueError(f"{year}年没有学期")
    return terms


def _order(codes) -> list[str]:
    from edu_guard.plugins import contributions

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
    from edu_guard.plugins import contributions

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
            "amount_yuan": str(yuan(f.amount_fen)), "amount_wan": str(wan(f.amount_fen)),
            "poverty_person_times": pov_n, "poverty_amount_yuan": str(yuan(pov_fen)),
            "poverty_amount_wan": str(wan(pov_fen)),
            "breakdown": {k: {"person_times": n, "amount_yuan": str(yuan(v))} for k, (n, v) in f.breakdown.items()},
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


def plugin_sections(data: dict) -> list[dict]:
    """Extra sections from the plugins' ``report_sections`` hook for the aid report."""
    from edu_guard.plugins import manager

    figures = {"term": data["term"], "terms": data["terms"], "schemes": data["schemes"]}
    sections = []
    for result in manager().hook.report_sections(report="aid", figures=figures):
        sections.extend(result or [])
    return sections


def workbook(terms: list[Term]) -> bytes:
    """The Excel table (资助发放统计表) by stage and scheme: 人次, 人数, 万元 (four
    decimals) and the 其中 columns (人次, 万元) of :data:`BREAKDOWNS` and 其他.

    :return: the .xlsx file as bytes.
    """
    import openpyxl
    from openpyxl.styles import Alignment, Font

    from edu_guard.plugins import contributions

    names = {c: s.name for c, s in contributions().schemes.items()}
    rows = figures([t.id for t in terms])[1]
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "资助发放统计"
    title = f"{'、'.join(t.name for t in terms)}学生资助发放统计表（金额单位：万元）"
    groups = [*BREAKDOWNS.values(), "其他"]
    width = 6 + 2 * len(groups)
    ws.append([title])
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=width)
    ws["A1"].font = Font(bold=True, size=14)
    ws["A1"].alignment = Alignment(horizontal="center")
    head = ["学段", "资助项目", "人次", "人数", "金额"]
    sub = ["", "", "", "", ""]
    for g in groups:
        head += [f"其中：{g}", ""]
        sub += ["人次", "金额"]
    ws.append(head)
    ws.append(sub)
    col = 6
    for _ in groups:
        ws.merge_cells(start_row=2, start_column=col, end_row=2, end_column=col + 1)
        col += 2
    order = _order({f.scheme_code for f in rows})
    for f in sorted(rows, key=lambda f: (f.stage, order.index(f.scheme_code))):
        line = [f.stage, names.get(f.scheme_code, f.scheme_code), f.person_times, f.persons, wan(f.amount_fen, 4)]
        for flag in [*BREAKDOWNS, "other"]:
            n, v = f.breakdown[flag]
            line += [n, wan(v, 4)]
        ws.append(line)
    for row in ws.iter_rows(min_row=4):
        for cell in row:
            if isinstance(cell.value, Decimal):
                cell.number_format = "0.0000"
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
