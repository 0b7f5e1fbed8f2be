"""``edu-guard aid …`` end to end on the sample county."""

from __future__ import annotations

import io
import json
from datetime import date
from decimal import Decimal

import openpyxl

from edu_guard.cli import cli

D = Decimal
HALF_YEAR = {("小学", True): D("500"), ("初中", True): D("625"), ("小学", False): D("250"), ("初中", False): D("312.50")}


def invoke(app, *args):
    result = app.test_cli_runner().invoke(cli, list(args), catch_exceptions=False)
    return result


def test_term_propose_post_approve_report_gaps(app, county, pupils, tmp_path):
    assert invoke(app, "aid", "terms", "add", "2021-spring", "--start", "2021-03-01", "--end", "2021-07-09",
                  "--school-days", "90").exit_code == 0
    out = invoke(app, "aid", "terms", "add", "2021-spring", "--start", "2021-03-01", "--end", "2021-07-09",
                 "--school-days", "90")
    assert out.exit_code == 1 and "已存在" in out.output
    terms = json.loads(invoke(app, "aid", "terms", "list", "--json").output)
    assert terms[0]["name"] == "2021年春季学期"
    proposed = json.loads(invoke(app, "aid", "propose", "--term", "2021-spring", "--all", "--json").output)
    by = {r["scheme"]: r for r in proposed}
    hardship = [p for p in pupils.values() if p.kinds or p.disabled]
    assert by["compulsory_living"]["proposed"] == len(hardship)
    assert by["nutrition"]["proposed"] == len(pupils)
    assert by["high_school_grant"]["proposed"] == 0
    assert invoke(app, "aid", "post", "--term", "2021-spring", "--scheme", "compulsory_living", "--on", "2021-03-10").exit_code == 0
    early = invoke(app, "aid", "approve", "--term", "2021-spring", "--scheme", "compulsory_living", "--on", "2021-03-17")
    assert early.exit_code == 1 and "公示期满" in early.output
    unknown = invoke(app, "aid", "approve", "--term", "2021-spring", "--scheme", "nope", "--on", "2021-03-18")
    assert unknown.exit_code == 2 and "没有资助项目“nope”" in unknown.output
    ok = invoke(app, "aid", "approve", "--term", "2021-spring", "--scheme", "compulsory_living", "--on", "2021-03-18")
    assert ok.exit_code == 0, ok.output
    text = invoke(app, "aid", "report", "--term", "2021-spring", "--xlsx", str(tmp_path / "t.xlsx")).output
    total = sum(HALF_YEAR[(p.stage, p.boarding)] for p in hardship)
    assert f"发放义务教育家庭经济困难学生生活补助{len(hardship)}人次{(total / 10000).quantize(D('0.01'))}万元" in text
    data = json.loads(invoke(app, "aid", "report", "--term", "2021-spring", "--json").output)
    assert data["schemes"][0]["persons"] == len(hardship)
    assert openpyxl.load_workbook(tmp_path / "t.xlsx").active["A1"].value.startswith("2021年春季学期")
    found = json.loads(invoke(app, "aid", "gaps", "--term", "2021-spring", "--json").output)
    assert found == []  # every poverty pupil was paid
    bank = tmp_path / "bank.xlsx"
    with app.app_context():
        from edu_guard.aid.models import PaymentBatch
        from edu_guard.db import db

        paid = sorted((p.child.id_number, p.child.name) for p in db.session.get(PaymentBatch, 1).payments)
    refused = invoke(app, "aid", "export-batch", "1", "--out", str(bank))
    assert refused.exit_code == 1 and f"以下{len(paid)}名学生没有登记收款账户" in refused.output
    assert all(name in refused.output for _, name in paid)
    # The clerk's account workbook, one row per paid pupil (a 一卡通 account each).
    from tests.aid.test_accounts import _holder_id

    book = openpyxl.Workbook()
    book.active.append(["学生姓名", "学生身份证号", "户名", "户名身份证号", "开户行", "账号", "账户类型"])
    numbers = {}
    for n, (id_number, name) in enumerate(paid, start=1):
        numbers[id_number] = f"5305016151360{n:07d}"
        book.active.append([name, id_number, f"{name}家长", _holder_id(), "景洪农村商业银行", numbers[id_number], "一卡通"])
    book.save(tmp_path / "accounts.xlsx")
    imported = invoke(app, "import", "accounts", str(tmp_path / "accounts.xlsx"))
    assert imported.exit_code == 0, imported.output
    assert invoke(app, "aid", "export-batch", "1", "--out", str(bank), "--preparer", "王芳").exit_code == 0
    rows = [[c.value for c in row] for row in openpyxl.load_workbook(io.BytesIO(bank.read_bytes())).active.iter_rows()]
    header = rows.index(["序号", "户名", "账号", "金额（元）", "身份证号", "备注"])
    body = rows[header + 1:header + 1 + len(paid)]
    assert sorted(r[2] for r in body) == sorted(numbers.values())  # the full numbers, as text
    total = rows[header + 1 + len(paid)]
    assert total[:2] == ["合计", f"{len(paid)}笔"]
    with app.app_context():
        from edu_guard.aid.models import PaymentBatch
        from edu_guard.db import db

        batch = db.session.get(PaymentBatch, 1)
        assert D(str(total[3])) == sum(p.amount for p in batch.payments)
        assert batch.paid_on == date(2021, 3, 18)
    assert rows[header + 2 + len(paid)][0].startswith("合计金额（大写）：人民币")
    assert rows[header + 3 + len(paid)][0] == "制表人：王芳"
