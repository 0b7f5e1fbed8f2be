"""A newcomer on the demo county (2021 spring term, entered years later) walks the aid
path in the browser: the list's dates default into the term, a date in the closed term
is noted, not silently accepted; the approval pays; the payments page sums them; the
bank's 代发 file exports (the demo has sample payee accounts); the comparison's as-of
date defaults to the term's first day with the same note."""

import io
from datetime import date
from decimal import Decimal
from pathlib import Path

import openpyxl
import sqlalchemy as sa

from edu_guard.aid import services
from edu_guard.aid.demo import load_demo_accounts
from edu_guard.aid.models import AidList, Payment
from edu_guard.db import db
from edu_guard.registry.services import load_demo

NOTE = "属于已结束的2021年春季学期：按补录办理，期限和条件按该日期计算"


def test_demo_aid_path_after_the_fact(app_ctx, make_user, page, sign_in):
    load_demo()
    services.load_demo_term()
    load_demo_accounts()
    db.session.commit()
    lst = db.session.execute(sa.select(AidList).where(AidList.scheme_code == "compulsory_living")
                             .order_by(AidList.id)).scalars().first()
    make_user("clerk", username="clerk")
    sign_in(page, "clerk")
    page.on("dialog", lambda d: d.accept())

    page.goto(f"/aid/lists/{lst.id}")
    # The term (1 March – 9 July 2021) has ended: posting is proposed on its first day, noted.
    assert page.input_value("input[name=on]") == "2021-03-01"
    assert f"2021-03-01 {NOTE}" in page.inner_text("main")
    page.fill("input[name=on]", "2021-03-10")
    page.click("button:has-text('审核完毕，开始公示')")
    body = page.inner_text("body")
    # Five working days counted from the next day: 11, 12, 15, 16, 17 March 2021.
    assert "已公示：2021-03-10 至 2021-03-17" in body and f"2021-03-10 {NOTE}" in body
    # Approval: proposed on the first working day after the posting period (18 March).
    assert page.input_value("form[action$='/approve'] input[name=on]") == "2021-03-18"
    page.click("button:has-text('审批并发放')")
    body = page.inner_text("body")
    assert "已审批，发放批次" in body and f"2021-03-18 {NOTE}" in body

    db.session.expire_all()
    paid = db.session.execute(sa.select(Payment).where(Payment.scheme_code == "compulsory_living")).scalars().all()
    assert paid and {p.paid_on for p in paid} == {date(2021, 3, 18)}
    total = sum(Decimal(p.amount_fen) for p in paid) / 100

    page.goto("/aid/terms/2021-spring/payments?scheme=compulsory_living")
    foot = page.inner_text("table.data tfoot")
    assert foot.startswith("合计") and f"{len(paid)} 人次" in foot and f"{total:.2f}" in foot
    with page.expect_download() as info:
        page.click(f"a[href$='/batches/{paid[0].batch_id}/bank.xlsx']")
    ws = openpyxl.load_workbook(io.BytesIO(Path(info.value.path()).read_bytes())).active
    rows = [tuple(r) for r in ws.iter_rows(values_only=True)]
    assert ("序号", "户名", "账号", "金额（元）", "身份证号", "备注") in rows
    assert any(r[0] == "合计" and Decimal(str(r[3])) == total for r in rows)
    assert any(str(r[0]).startswith("合计金额（大写）：人民币") for r in rows)

    # The comparison: as of the latest imported term's first day, with the note.
    page.goto("/comparisons")
    assert page.input_value("input[name=as_of]") == "2021-03-01"
    assert f"2021-03-01 {NOTE}" in page.inner_text("main")
