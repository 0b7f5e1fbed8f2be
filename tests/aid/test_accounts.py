"""Payee accounts and the bank's 代发 file: numbers checked (Luhn for cards), masked on
pages, imported from a clerk's workbook, full only in the bank file; a batch with
pupils lacking an account is refused, naming them."""

import io
from datetime import date

import openpyxl
import pytest
import sqlalchemy as sa

from edu_guard.aid import accounts, bank
from edu_guard.aid.models import PayeeAccount, Payment, PaymentBatch, Term
from edu_guard.auth.models import AuditLog
from edu_guard.db import db

# 4111 1111 1111 1111 is the card industry's Luhn-valid test number: doubling every
# second digit from the right gives 8+1+8+1+8+1+8+1+8+1+8+1+8+1+8+1 = 72 + … → 80 ≡ 0.
CARD = "4111111111111111"


def _valid_id(body: str) -> str:
    """``body`` (17 digits) with its GB 11643 check character."""
    from stdnum.cn import ric

    return body + ric.calc_check_digit(body + "0")  # it reads the first 17 characters


def _holder_id():
    return _valid_id("53280119950101001")  # 景洪市 (532801) since 1993


def test_numbers_are_checked_and_masked():
    assert accounts.clean_number("4111 1111-1111 1111", "银行卡") == CARD
    with pytest.raises(accounts.AccountError, match="校验位不符"):
        accounts.clean_number("4111111111111112", "银行卡")
    with pytest.raises(accounts.AccountError, match="社会保障卡卡号应为16–19位"):
        accounts.clean_number("41111111111111", "社会保障卡")
    # A 一卡通 account may be a passbook account without a check digit.
    assert accounts.clean_number("53050161513600000123", "一卡通") == "53050161513600000123"
    with pytest.raises(accounts.AccountError, match="只含数字"):
        accounts.clean_number("6217A0001", "一卡通")
    with pytest.raises(accounts.AccountError, match="应为10–30位"):
        accounts.clean_number("123456789", "一卡通")
    assert accounts.mask_account(CARD) == "4111****1111"


def _batch(make_child, amounts):
    term = Term(code="2021-spring", name="2021年春季学期", start=date(2021, 3, 1), end=date(2021, 7, 9),
                school_days=90)
    batch = PaymentBatch(term=term, scheme_code="compulsory_living", paid_on=date(2021, 3, 18))
    db.session.add(batch)
    kids = []
    for (name, idno), fen in zip((("岩温", "532801200901142694"), ("玉香", None), ("岩罕", None)), amounts):
        from stdnum.cn import ric

        if idno is None:
            body = f"53280120100301{len(kids) + 1:03d}"
            idno = body + ric.calc_check_digit(body + "0")  # it reads the first 17 characters
        child = make_child(name, idno)
        kids.append(child)
        db.session.add(Payment(child_id=child.id, scheme_code="compulsory_living", term=term, stage="小学",
                               amount_fen=fen, batch=batch, paid_on=batch.paid_on, channel="bank"))
    db.session.commit()
    return batch, kids


def test_bank_file_is_refused_without_accounts_then_in_the_daifa_layout(make_child, app_ctx):
    batch, kids = _batch(make_child, [50000, 62500])  # 500.00 + 625.00 yuan
    with pytest.raises(bank.BankFileError, match="以下2名学生没有登记收款账户.*岩温、玉香|以下2名学生没有登记收款账户.*玉香、岩温"):
        bank.workbook(batch, unit="景洪市教育体育局", preparer="王芳", made_on=date(2021, 3, 18))
    accounts.set_account(kids[0], holder_name="岩温之父", holder_id_number=_holder_id(), bank="景洪农村商业银行",
                         number=CARD, kind="银行卡")
    db.session.commit()
    with pytest.raises(bank.BankFileError, match="以下1名学生没有登记收款账户，不能导出代发文件：玉香（"):
        bank.workbook(batch, unit="景洪市教育体育局", preparer="王芳", made_on=date(2021, 3, 18))
    accounts.set_account(kids[1], holder_name="玉香之母", holder_id_number=_holder_id(), bank="景洪农村商业银行",
                         number="53050161513600000123", kind="一卡通")
    db.session.commit()

    ws = openpyxl.load_workbook(io.BytesIO(bank.workbook(batch, unit="景洪市教育体育局", preparer="王芳",
                                                          made_on=date(2021, 3, 18)))).active
    rows = [[c.value for c in row] for row in ws.iter_rows()]
    assert rows[0][0] == "景洪市教育体育局学生资助资金代发明细表"
    header = rows.index(["序号", "户名", "账号", "金额（元）", "身份证号", "备注"])
    body = rows[header + 1:header + 3]
    by_holder = {r[1]: r for r in body}
    assert by_holder["岩温之父"][2] == CARD and isinstance(by_holder["岩温之父"][2], str)  # full number, as text
    assert by_holder["玉香之母"][2] == "53050161513600000123"
    assert by_holder["岩温之父"][4] == _holder_id()
    assert float(by_holder["岩温之父"][3]) == 500.0 and float(by_holder["玉香之母"][3]) == 625.0
    assert "学生岩温" in by_holder["岩温之父"][5]
    assert rows[header + 3][:4] == ["合计", "2笔", None, 1125]
    assert rows[header + 4][0] == "合计金额（大写）：人民币壹仟壹佰贰拾伍元整"
    assert rows[header + 5][0] == "制表人：王芳" and rows[header + 5][4] == "制表日期：2021年3月18日"

    # The audit log keeps the number masked; pages show it masked.
    trail = db.session.execute(sa.select(AuditLog).where(AuditLog.entity == "aid_payee_account")).scalars().all()
    assert [a.after["number"] for a in trail] == ["4111****1111", "5305****0123"]


def test_accounts_workbook_import(make_child, app_ctx, tmp_path):
    from edu_guard.registry.services import import_file

    pupil, stranger = _valid_id("53280120090114269"), _valid_id("53280120120101002")
    kid = make_child("岩温", pupil)
    other = make_child("岩罕", _valid_id("53280120100505003"))
    book = openpyxl.Workbook()
    ws = book.active
    ws.append(["资助收款账户登记表"])
    ws.append(["学生姓名", "学生身份证号", "户名", "户名身份证号", "开户行", "账号", "账户类型"])
    ws.append(["岩温", pupil, "岩温之父", _holder_id(), "景洪农商行", CARD, "银行卡"])
    ws.append(["玉香", stranger, "玉香之母", _holder_id(), "景洪农商行", CARD, "银行卡"])
    ws.append(["岩罕", other.id_number, "岩罕之母", _holder_id(), "景洪农商行", "4111111111111112", "银行卡"])
    path = tmp_path / "accounts.xlsx"
    book.save(path)
    result = import_file("accounts", path)
    db.session.commit()
    assert result.created == 1, (result.rejects, result)
    account = db.session.execute(sa.select(PayeeAccount)).scalar_one()
    assert (account.child_id, account.number, account.kind) == (kid.id, CARD, "银行卡")
    reasons = {(r["row"], r["column"]): r["reason"] for r in result.rejects}
    assert reasons == {
        (4, "学生身份证号"): "学生身份证号不在学籍名册中：请先导入该生的学籍",
        (5, "账号"): "账号“4111111111111112”校验位不符（银行卡卡号的 Luhn 校验未通过），请核对是否抄错",
    }


def test_account_recorded_on_the_childs_page_and_shown_masked(make_child, make_user, login):
    kid = make_child("岩温", _valid_id("53280120090114269"))
    client = login(make_user("clerk"))
    form = {"holder_name": "岩温之父", "holder_id_number": _holder_id(), "bank": "景洪农商行", "kind": "银行卡",
            "number": "4111111111111112"}
    refused = client.post(f"/aid/children/{kid.id}/account", data=form, follow_redirects=True).text
    assert "校验位不符" in refused and db.session.execute(sa.select(PayeeAccount)).first() is None
    saved = client.post(f"/aid/children/{kid.id}/account", data=dict(form, number=CARD), follow_redirects=True).text
    assert "已保存收款账户" in saved and "4111****1111" in saved and CARD not in saved
