"""The bank's payment workbook (银行代发文件) of a payment batch.

One row per payment not reversed: name, full ID number (the bank matches the account
holder by it), the account as recorded (masked; the bank fills the account from its own
records when empty), channel, amount in yuan with two decimals; a total row at the end.
The file carries personal data: only admin and clerk may export it.
"""

from __future__ import annotations

import io
from decimal import Decimal

from edu_guard import money
from edu_guard.aid.models import CHANNELS, PaymentBatch

HEADER = ["序号", "姓名", "身份证号码", "账号", "发放渠道", "金额（元）", "资助项目", "学校", "学期"]


def workbook(batch: PaymentBatch) -> bytes:
    """Return the batch's payment workbook (.xlsx bytes)."""
    import openpyxl
    from openpyxl.styles import Font

    from edu_guard.aid.services import schemes

    names = {c: s.name for c, s in schemes().items()}
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "代发明细"
    ws.append([f"学生资助代发明细 批次 {batch.id}（{batch.paid_on}）"])
    ws["A1"].font = Font(bold=True)
    ws.append(HEADER)
    total = Decimal("0.00")
    n = 0
    for p in batch.payments:
        if p.reversal is not None:
            continue
        n += 1
        amount = money.from_fen(p.amount_fen)
        total += amount
        school = p.batch.aid_list.school.name if p.batch.aid_list else ""
        ws.append([n, p.child.name, p.child.id_number, p.account_masked or "", CHANNELS.get(p.channel, p.channel),
                   amount, names.get(p.scheme_code, p.scheme_code), school, p.term.name])
        ws.cell(ws.max_row, 3).number_format = "@"
        ws.cell(ws.max_row, 6).number_format = "0.00"
    ws.append(["合计", f"{n}笔", "", "", "", total])
    ws.cell(ws.max_row, 6).number_format = "0.00"
    for col, width in zip("ABCDEFGHI", (6, 10, 22, 22, 12, 12, 30, 16, 16)):
        ws.column_dimensions[col].width = width
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
