"""The bank's 代发 file (银行代发文件) of a payment batch: a workbook a bank can pay from.

Layout (the common 代发 layout of the banks that carry 惠民惠农"一卡通" and 代发工资):
a title row, the paying unit, batch and date; then one row per payment to an account —
户名, 账号 (full: the only place the full number leaves the system), 金额（元）,
身份证号 (the account holder's: the bank matches the holder by it), 备注 (the pupil,
school and scheme) —, the 合计 row with the count and the total in figures, the total in
capital numerals (大写, :func:`edu_guard.money.capital`), and the preparer's line.

Payments made in kind (实物, the nutrition meals) are not in the file. A batch with a
payment whose pupil has no payee account is refused, naming the pupils. The file
carries personal data: only admin and clerk may export it.
"""

from __future__ import annotations

from datetime import date

from edu_guard import excel, money
from edu_guard.aid.accounts import accounts_of
from edu_guard.aid.models import PaymentBatch
from edu_guard.aid.services import schemes
from edu_guard.i18n import Message
from edu_guard.letters.render import chinese_date

HEADER = ["序号", "户名", "账号", "金额（元）", "身份证号", "备注"]
#: Channels paid into an account (the rest, 实物, are not in the bank's file).
ACCOUNT_CHANNELS = ("bank", "social_card")


class BankFileError(ValueError):
    """The batch cannot be exported; ``str(exc)`` says why in the reader's language (the
    workbook itself is always Chinese: the bank reads it)."""


def workbook(batch: PaymentBatch, *, unit: str, preparer: str, made_on: date) -> bytes:
    """Return the batch's 代发 workbook (.xlsx bytes, through :mod:`edu_guard.excel`).

    :param unit: the paying unit (代发单位, the bureau's name).
    :param preparer: who made the file (制表人).
    :param made_on: the date printed as 制表日期.
    :raises BankFileError: some pupil paid into an account has none recorded (all named),
        or the batch has nothing to pay into accounts.
    """
    names = {c: s.name for c, s in schemes().items()}
    payments = [p for p in batch.payments if p.reversal is None and p.channel in ACCOUNT_CHANNELS]
    if not payments:
        raise BankFileError(Message("批次 %(batch)s 没有需打入账户的发放记录", batch=batch.id))
    accounts = accounts_of(p.child_id for p in payments)
    missing = sorted({p.child_id: p.child.name for p in payments if p.child_id not in accounts}.values())
    if missing:
        raise BankFileError(Message("以下%(n)s名学生没有登记收款账户，不能导出代发文件：%(names)s（请在学生页面登记或导入"
                                    "收款账户后再导出）", n=len(missing), names="、".join(missing)))
    scheme = names.get(batch.scheme_code, batch.scheme_code)
    book = excel.Workbook()
    sheet = book.sheet("代发明细", widths=(6, 12, 24, 14, 22, 40))
    sheet.title(f"{unit}学生资助资金代发明细表", len(HEADER))
    sheet.row([f"代发单位：{unit}", "", "", f"发放日期：{chinese_date(batch.paid_on)}", "",
               f"{batch.term.name}{scheme}（批次 {batch.id}）"])
    sheet.header(HEADER, text_columns=[2, 4])
    total_fen = 0
    for n, p in enumerate(sorted(payments, key=lambda p: (p.child.name, p.id)), start=1):
        account = accounts[p.child_id]
        total_fen += p.amount_fen
        school = p.batch.aid_list.school.name if p.batch.aid_list else ""
        sheet.row([n, account.holder_name, account.number, money.from_fen(p.amount_fen), account.holder_id_number,
                   f"学生{p.child.name}，{school}，{scheme}"])
    sheet.total(["合计", f"{len(payments)}笔", "", money.from_fen(total_fen), "", ""])
    sheet.row([f"合计金额（大写）：人民币{money.capital(money.from_fen(total_fen))}"])
    sheet.row([f"制表人：{preparer}", "", "审核人：", "", f"制表日期：{chinese_date(made_on)}"])
    return book.to_bytes()
