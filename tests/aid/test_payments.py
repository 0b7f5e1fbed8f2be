"""Review, posting, approval and payments; the report line worked out by hand."""

from __future__ import annotations

import os
import threading
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

import pytest
import sqlalchemy as sa

from edu_guard.aid import services, stats
from edu_guard.aid.models import AidList, Payment
from edu_guard.auth.models import AuditLog
from edu_guard.db import db
from edu_guard.registry.models import Child

D = Decimal
ON_POSTGRES = os.environ.get("EDU_GUARD_TEST_DATABASE_URL", "").startswith("postgresql")
HALF_YEAR = {("小学", True): D("500"), ("初中", True): D("625"), ("小学", False): D("250"), ("初中", False): D("312.50")}


def lists(term, scheme_code):
    return db.session.execute(
        sa.select(AidList).where(AidList.term_id == term.id, AidList.scheme_code == scheme_code).order_by(AidList.id)
    ).scalars().all()


def approve_all(term, scheme_code, today_is):
    today_is(date(2021, 3, 10))
    for lst in lists(term, scheme_code):
        services.post(lst)
    db.session.commit()
    today_is(date(2021, 3, 18))
    batches = [services.approve(lst) for lst in lists(term, scheme_code)]
    db.session.commit()
    return batches


def wan2(yuan_amount: D) -> str:
    return str((yuan_amount / 10000).quantize(D("0.01"), rounding=ROUND_HALF_UP))


def test_posting_window_and_approval(county, spring, today_is):
    services.propose(spring, "compulsory_living")
    db.session.commit()
    lst = lists(spring, "compulsory_living")[0]
    with pytest.raises(services.AidError, match="不能办理"):
        services.approve(lst)
    today_is(date(2021, 3, 10))  # a Wednesday: five working days end on Wednesday 17th
    services.post(lst)
    db.session.commit()
    assert (lst.posted_on, lst.posting_ends_on) == (date(2021, 3, 10), date(2021, 3, 17))
    today_is(date(2021, 3, 17))
    with pytest.raises(services.AidError, match="公示期满后"):
        services.approve(lst)
    today_is(date(2021, 3, 18))
    batch = services.approve(lst)
    db.session.commit()
    assert lst.state == "approved"
    assert len(batch.payments) == len([e for e in lst.entries if e.included])
    assert db.session.execute(sa.select(AuditLog).where(AuditLog.entity == "aid_payment_batch")).scalar_one().after["payments"] == len(batch.payments)


def test_review_removes_and_adds_with_reason(county, spring, pupils, today_is):
    services.propose(spring, "compulsory_living")
    db.session.commit()
    lst = lists(spring, "compulsory_living")[0]
    entry = lst.entries[0]
    with pytest.raises(services.AidError, match="理由"):
        services.set_included(entry, False, "  ")
    services.set_included(entry, False, "家庭已搬离，经核实不再困难")
    # add a pupil of the same school the system did not propose: not eligible → amount needed
    on_list = {e.child_id for e in lst.entries}
    other = db.session.execute(
        sa.select(Child).where(Child.id.not_in(on_list)).where(
            Child.id.in_(sa.text(f"SELECT child_id FROM enrollment WHERE school_id = {lst.school_id}")))
    ).scalars().first()
    with pytest.raises(services.AidError, match="请填写金额"):
        services.add_entry(lst, other.id, "父亲重病，家庭突发困难")
    # The highest 2021 standard is a 初中 boarder's 1,250 yuan a year: 625.00 a term.
    for bad, why in (("99999999999", "超过义务教育家庭经济困难学生生活补助本学期的最高标准 625.00 元"),
                     ("1e3", "超过.*625.00 元"), ("250.125", "最多两位小数"), ("-5", "应大于零"),
                     ("NaN", "应大于零"), ("abc", "不是数字")):
        with pytest.raises(services.AidError, match=why):
            services.add_entry(lst, other.id, "父亲重病，家庭突发困难", amount=bad)
    added = services.add_entry(lst, other.id, "父亲重病，家庭突发困难", amount="250")
    db.session.commit()
    assert added.amount_fen == 25000 and added.added_by_school
    summary = services.list_summary(lst)
    assert summary["removed"] == 1
    batches = approve_all(spring, "compulsory_living", today_is)
    paid = {p.child_id for b in batches for p in b.payments}
    assert entry.child_id not in paid and other.id in paid


def test_report_line_after_approval(county, spring, pupils, today_is):
    services.propose(spring, "compulsory_living")
    db.session.commit()
    approve_all(spring, "compulsory_living", today_is)
    hardship = [p for p in pupils.values() if p.kinds or p.disabled]
    total = sum(HALF_YEAR[(p.stage, p.boarding)] for p in hardship)
    poverty = [p for p in hardship if p.kinds & {"脱贫户", "监测户"}]
    pov_total = sum(HALF_YEAR[(p.stage, p.boarding)] for p in poverty)
    data = stats.report(stats.terms_for("2021-spring"))
    expected = (f"发放义务教育家庭经济困难学生生活补助{len(hardship)}人次{wan2(total)}万元，"
                f"其中：脱贫家庭学生{len(poverty)}人次{wan2(pov_total)}万元")
    assert data["lines"] == [expected]
    s = data["schemes"][0]
    assert (s["person_times"], s["persons"], D(s["amount_yuan"])) == (len(hardship), len(hardship), total)
    by_stage = {x["stage"]: x for x in s["by_stage"]}
    assert by_stage["初中"]["person_times"] == len([p for p in hardship if p.stage == "初中"])
    assert D(by_stage["小学"]["amount_yuan"]) == sum(HALF_YEAR[(p.stage, p.boarding)] for p in hardship if p.stage == "小学")
    # the year gives the same figures (one term in 2021)
    assert stats.report(stats.terms_for(year=2021))["lines"] == [expected]


def test_report_line_form_exactly(app_ctx):
    assert stats.narrative({"name": "义务教育家庭经济困难学生生活补助", "person_times": 24511, "amount_wan": "1121.05",
                            "poverty_person_times": 3491, "poverty_amount_wan": "81.63"}) == (
        "发放义务教育家庭经济困难学生生活补助24511人次1121.05万元，其中：脱贫家庭学生3491人次81.63万元")


def test_second_approval_pays_no_one_twice(county, spring, today_is):
    services.propose(spring, "compulsory_living")
    db.session.commit()
    approve_all(spring, "compulsory_living", today_is)
    count = db.session.scalar(sa.select(sa.func.count()).select_from(Payment))
    lst = lists(spring, "compulsory_living")[0]
    with pytest.raises(services.AidError):
        services.approve(lst)
    db.session.rollback()
    # a stale second approval that got past the state check: the database skips every child
    lst.state = "posted"
    db.session.commit()
    batch = services.approve(lst)
    db.session.commit()
    assert batch.payments == []
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Payment)) == count


def test_reversal_drops_out_of_stats(county, spring, today_is):
    services.propose(spring, "compulsory_living")
    db.session.commit()
    approve_all(spring, "compulsory_living", today_is)
    before = stats.report([spring])["schemes"][0]
    payment = db.session.execute(sa.select(Payment).order_by(Payment.id)).scalars().first()
    services.reverse(payment, "重复发放，已退回")
    db.session.commit()
    with pytest.raises(services.AidError, match="已冲正"):
        services.reverse(payment, "again")
    after = stats.report([spring])["schemes"][0]
    assert after["person_times"] == before["person_times"] - 1
    assert D(after["amount_yuan"]) == D(before["amount_yuan"]) - payment.amount
    assert db.session.get(Payment, payment.id) is not None  # never deleted


def test_workbook_has_four_decimals(county, spring, pupils, today_is):
    import io

    import openpyxl

    services.propose(spring, "compulsory_living")
    db.session.commit()
    approve_all(spring, "compulsory_living", today_is)
    ws = openpyxl.load_workbook(io.BytesIO(stats.workbook([spring]))).active
    rows = {r[0]: r for r in ws.iter_rows(min_row=4, values_only=True)}
    primary = [p for p in pupils.values() if (p.kinds or p.disabled) and p.stage == "小学"]
    amount = sum(HALF_YEAR[(p.stage, p.boarding)] for p in primary)
    assert rows["小学"][2] == len(primary)
    assert D(str(rows["小学"][4])) == (amount / 10000).quantize(D("0.0001"))
    assert ws.cell(4, 5).number_format == "0.0000"


@pytest.mark.skipif(not ON_POSTGRES, reason="SQLite serialises writers: two concurrent approvals need PostgreSQL")
def test_concurrent_approvals_pay_once(app, county, spring, today_is, pupils):
    services.propose(spring, "compulsory_living")
    db.session.commit()
    today_is(date(2021, 3, 10))
    for lst in lists(spring, "compulsory_living"):
        services.post(lst)
    db.session.commit()
    today_is(date(2021, 3, 18))
    list_ids = [lst.id for lst in lists(spring, "compulsory_living")]
    db.session.remove()
    barrier = threading.Barrier(2)
    outcomes = []

    def run():
        with app.app_context():
            loaded = [db.session.get(AidList, i) for i in list_ids]
            for lst in loaded:
                _ = lst.entries
            barrier.wait()
            try:
                for lst in loaded:
                    services.approve(lst)
                db.session.commit()
                outcomes.append("ok")
            except services.AidError as exc:
                db.session.rollback()
                outcomes.append(str(exc))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert outcomes.count("ok") == 1, outcomes
    rows = db.session.execute(sa.select(Payment.child_id, Payment.amount_fen)).all()
    hardship = [p for p in pupils.values() if p.kinds or p.disabled]
    assert len(rows) == len({r.child_id for r in rows}) == len(hardship)
    assert D(sum(r.amount_fen for r in rows)) / 100 == sum(HALF_YEAR[(p.stage, p.boarding)] for p in hardship)


def pay_both_terms(spring, today_is):
    """Add the 2021 autumn term, then propose, post and approve compulsory_living for
    both 2021 terms; return the autumn term."""
    autumn = services.add_term("2021-autumn", date(2021, 9, 1), date(2022, 1, 14), 95)
    db.session.commit()
    services.propose(spring, "compulsory_living")
    services.propose(autumn, "compulsory_living")
    db.session.commit()
    today_is(date(2021, 9, 6))
    for lst in db.session.execute(sa.select(AidList)).scalars():
        services.post(lst)
    db.session.commit()
    today_is(date(2021, 9, 20))
    for lst in db.session.execute(sa.select(AidList)).scalars():
        services.approve(lst)
    db.session.commit()
    return autumn


def test_year_counts_children_once(county, spring, pupils, today_is):
    autumn = pay_both_terms(spring, today_is)
    # one pupil moved up to 初中 in the autumn: two stages, still one child
    moved = db.session.execute(sa.select(Payment).where(Payment.term_id == autumn.id, Payment.stage == "小学")
                               .order_by(Payment.id)).scalars().first()
    moved.stage = "初中"
    db.session.commit()
    hardship = [p for p in pupils.values() if p.kinds or p.disabled]
    primary = [p for p in hardship if p.stage == "小学"]
    s = stats.report(stats.terms_for(year=2021))["schemes"][0]
    assert (s["person_times"], s["persons"]) == (2 * len(hardship), len(hardship))
    by_stage = {x["stage"]: x for x in s["by_stage"]}
    assert (by_stage["小学"]["person_times"], by_stage["小学"]["persons"]) == (2 * len(primary) - 1, len(primary))
    assert by_stage["初中"]["persons"] == len(hardship) - len(primary) + 1


def test_year_persons_after_reversals(county, spring, pupils, today_is):
    pay_both_terms(spring, today_is)
    children = db.session.execute(sa.select(Payment.child_id).distinct().order_by(Payment.child_id)).scalars().all()
    one, both = children[0], children[1]
    # `one` loses one of two payments (still a person), `both` loses both (no longer one)
    services.reverse(db.session.execute(sa.select(Payment).where(Payment.child_id == one, Payment.term_id == spring.id)).scalar_one(), "错发")
    for p in db.session.execute(sa.select(Payment).where(Payment.child_id == both)).scalars():
        services.reverse(p, "错发")
    db.session.commit()
    hardship = [p for p in pupils.values() if p.kinds or p.disabled]
    s = stats.report(stats.terms_for(year=2021))["schemes"][0]
    assert (s["person_times"], s["persons"]) == (2 * len(hardship) - 3, len(hardship) - 1)
    assert sum(x["persons"] for x in s["by_stage"]) == len(hardship) - 1
    term = stats.report([spring])["schemes"][0]
    assert (term["person_times"], term["persons"]) == (len(hardship) - 2, len(hardship) - 2)
    assert sum(v["person_times"] for v in term["by_stage"][0]["breakdown"].values()) >= term["by_stage"][0]["person_times"]


def test_three_schemes_report_lines(county, spring, pupils, today_is):
    """compulsory_living, nutrition and minority_allowance approved for the whole county:
    every line worked out from the sample files."""
    for code in ("compulsory_living", "nutrition", "minority_allowance"):
        services.propose(spring, code)
    db.session.commit()
    for code in ("compulsory_living", "nutrition", "minority_allowance"):
        approve_all(spring, code, today_is)
    small = {"独龙族", "德昂族", "基诺族", "怒族", "阿昌族", "普米族", "布朗族", "景颇族"}

    def line(name, paid):
        poverty = [(p, a) for p, a in paid if p.kinds & {"脱贫户", "监测户"}]
        return (f"发放{name}{len(paid)}人次{wan2(sum(a for _, a in paid))}万元，"
                f"其中：脱贫家庭学生{len(poverty)}人次{wan2(sum(a for _, a in poverty))}万元")

    everyone = list(pupils.values())
    want = [
        line("义务教育家庭经济困难学生生活补助",
             [(p, HALF_YEAR[(p.stage, p.boarding)]) for p in everyone if p.kinds or p.disabled]),
        line("农村义务教育学生营养改善计划膳食补助", [(p, D(4) * 90) for p in everyone]),
        line("较少民族学生生活补助", [(p, D(500)) for p in everyone if p.ethnicity in small]),
    ]
    assert stats.report([spring])["lines"] == want
    assert want[1] == "发放农村义务教育学生营养改善计划膳食补助1195人次43.02万元，其中：脱贫家庭学生237人次8.53万元"


def test_terms_never_overlap_and_start_in_their_season(app_ctx):
    services.add_term("2021-spring", date(2021, 3, 1), date(2021, 7, 9), 90)
    with pytest.raises(services.AidError, match="不在2022年春季学期"):
        services.add_term("2022-spring", date(2021, 3, 1), date(2021, 7, 9), 90)
    with pytest.raises(services.AidError, match="不在2021年秋季学期"):
        services.add_term("2021-autumn", date(2021, 3, 1), date(2021, 7, 1), 80)
    with pytest.raises(services.AidError, match="与已有学期 2021-spring（2021-03-01 至 2021-07-09）时间重叠"):
        services.add_term("2021-autumn", date(2021, 7, 5), date(2022, 1, 14), 95)
    autumn = services.add_term("2021-autumn", date(2021, 9, 1), date(2022, 1, 14), 95)
    assert autumn.name == "2021年秋季学期"
