"""The demo county has sample payee accounts, imported through the real account import,
so a newcomer approves a list and exports the bank's 代发 workbook without typing a
single account: 户名, 账号, 金额, 身份证号, 备注, the unit, the preparer, the total in
figures and in 大写."""

import io
from datetime import date
from decimal import Decimal

import openpyxl
import sqlalchemy as sa

from edu_guard.aid import services
from edu_guard.aid.demo import demo_accounts_csv, load_demo_accounts, sample_card_number
from edu_guard.aid.models import AidList, PayeeAccount
from edu_guard.db import db
from edu_guard.registry.models import Child, ImportRun
from edu_guard.registry.services import load_demo

from .conftest import gb11643_check


def _luhn_ok(number: str) -> bool:
    """ISO/IEC 7812-1 worked by hand: from the right, double every second digit, add
    the digits; the sum is a multiple of 10."""
    total = 0
    for i, d in enumerate(int(c) for c in reversed(number)):
        if i % 2:
            d *= 2
            d = d - 9 if d > 9 else d
        total += d
    return total % 10 == 0


def test_sample_numbers_are_valid_and_deterministic():
    number = sample_card_number("532801200901142694")
    assert len(number) == 19 and number.startswith("6230") and _luhn_ok(number)
    assert number == sample_card_number("532801200901142694")
    assert number != sample_card_number("532801201012124219")


def test_demo_accounts_imported_and_the_bank_file_exported(app_ctx, make_user, login, today_is):
    load_demo()
    services.load_demo_term()
    result = load_demo_accounts()
    db.session.commit()
    children = db.session.execute(sa.select(sa.func.count()).select_from(Child)).scalar_one()
    assert (result.created, len(result.rejects)) == (children, 0)  # every pupil, nothing refused
    assert load_demo_accounts() is None  # once
    assert db.session.execute(sa.select(ImportRun.kind).where(ImportRun.filename.like("示例收款账户%"))).scalar() == "accounts"
    rows = db.session.execute(sa.select(PayeeAccount)).scalars().all()
    assert all(_luhn_ok(a.number) and len(a.number) == 19 for a in rows)
    assert all(gb11643_check(a.holder_id_number) == a.holder_id_number[-1] for a in rows)
    assert demo_accounts_csv() == demo_accounts_csv()  # the same registry gives the same file

    today_is(date(2026, 11, 30))
    lst = db.session.execute(sa.select(AidList).where(AidList.scheme_code == "compulsory_living")
                             .order_by(AidList.id)).scalars().first()
    services.post(lst, on=date(2021, 3, 10))  # five working days from the next: 11, 12, 15, 16, 17 March
    batch = services.approve(lst, on=date(2021, 3, 18))
    db.session.commit()
    paid = [(p.child_id, p.amount_fen) for p in batch.payments]
    assert paid

    client = login(make_user("clerk", username="clerk"))
    resp = client.get(f"/aid/batches/{batch.id}/bank.xlsx")
    assert resp.status_code == 200, resp.text[:300]
    ws = openpyxl.load_workbook(io.BytesIO(resp.data)).active
    values = [tuple(r) for r in ws.iter_rows(values_only=True)]
    header = next(i for i, r in enumerate(values) if r[0] == "序号")
    assert values[header] == ("序号", "户名", "账号", "金额（元）", "身份证号", "备注")
    body = values[header + 1: header + 1 + len(paid)]
    accounts = {a.child_id: a for a in rows}
    assert sorted(r[2] for r in body) == sorted(accounts[c].number for c, _ in paid)  # full numbers, text
    total = sum(Decimal(f) for _, f in paid) / 100
    total_row = values[header + 1 + len(paid)]
    assert total_row[0] == "合计" and total_row[1] == f"{len(paid)}笔" and Decimal(str(total_row[3])) == total
    assert str(values[header + 2 + len(paid)][0]).startswith("合计金额（大写）：人民币")
    assert "代发单位：" in str(values[1][0]) and any("制表人：" in str(r[0]) for r in values)
