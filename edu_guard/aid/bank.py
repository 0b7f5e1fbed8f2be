"""The bank's payment workbook (银行代发文件) of a payment batch.

One row per payment not reversed: name, full ID number (the bank matches the account
holder by it), the account as recorded (masked; the bank fills the account from its own
records when empty), channel, amount in yuan with two decimals; a total row at the end.
The file carries personal data: only admin and clerk may export it.
"""

from __future__ import annotations

from edu_guard import excel, money
from edu_guard.aid.models import CHANNELS, PaymentBatch
from edu_guard.aid.services import schemes

HEADER = ["序号", "姓名", "身份证号码", "账号", "发放渠道", "金额（元）", "资助项目", "学校", "学期"]


def workbook(batch: PaymentBatch) -> bytes:
    """Return the batch's payment workbook (.xlsx bytes, through :mod:`edu_guard.excel`):
    a title row, the header, one row per payment not reversed, the 合计 row."""

    names = {c: s.name for c, s in schemes().items()}
    book = excel.Workbook()
    sheet = book.sheet("代发明细", widths=(6, 10, 22, 22, 12, 12, 30, 16, 16))
    sheet.title(f"学生资助代发明细 批次 {batch.id}（{batch.paid_on}）", len(HEADER)).header(HEADER, text_columns=[2, 3])
    total_fen = 0
    n = 0
    for p in batch.payments:
        if p.reversal is not None:
            continue
        n += 1
        total_fen += p.amount_fen
        school = p.batch.aid_list.school.name if p.batch.aid_list else ""
        sheet.row([n, p.child.name, p.child.id_number, p.account_masked or "", CHANNELS.get(p.channel, p.channel),
                   money.from_fen(p.amount_fen), names.get(p.scheme_code, p.scheme_code), school, p.term.name])
    sheet.total(["合计", f"{n}笔", "", "", "", money.from_fen(total_fen)])
    return book.to_bytes()
