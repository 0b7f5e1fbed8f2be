"""Payee accounts (资助收款账户): recorded by hand on the child's page or imported from a
clerk's workbook (``edu-guard import accounts``), checked, masked on every page, and
given in full only to the bank's 代发 file (:mod:`edu_guard.aid.bank`). The workbook's
importer is :mod:`edu_guard.aid.account_import`.

Checks on an account number: digits only (spaces and dashes typed between groups are
dropped), 10 to 30 of them; a bank card (银行卡) or the financial account of a social
security card (社会保障卡) is a payment card number of 16 to 19 digits whose last digit
is the Luhn check digit (ISO/IEC 7812-1; python-stdnum's ``luhn``). A 惠民惠农"一卡通"
account may be a passbook or settlement account without a check digit, so only its
length and digits are checked.
"""

from __future__ import annotations

import re

import sqlalchemy as sa
from stdnum import luhn

from edu_guard.aid.models import ACCOUNT_KINDS, PayeeAccount
from edu_guard.auth import audit
from edu_guard.db import db
from edu_guard.i18n import Message, message_of
from edu_guard.registry.models import Child
from edu_guard.registry.schemas import validate_id_number

#: Kinds whose numbers are payment card numbers with a Luhn check digit.
CARD_KINDS = ("银行卡", "社会保障卡")
_SEPARATORS = re.compile(r"[\s\-－—]")


class AccountError(ValueError):
    """An account was refused; ``str(exc)`` says why in the reader's language.

    :ivar reason: what is wrong with the number itself, without the leading "账号"
        (an import names the column first), or ``None``.
    """

    def __init__(self, message, reason=None):
        super().__init__(message)
        self.reason = reason if reason is not None else message


def clean_number(number: str | None, kind: str) -> str:
    """Return the account number as digits, checked for ``kind`` (see the module).

    :raises AccountError: not digits, a wrong length, or a card number failing Luhn.
    """
    text = _SEPARATORS.sub("", str(number or ""))
    if not text:
        raise AccountError(Message("账号不能为空"), Message("不能为空"))
    if not text.isdigit():
        raise AccountError(Message("账号“%(number)s”应只含数字", number=text),
                           Message("“%(number)s”应只含数字", number=text))
    if not 10 <= len(text) <= 30:
        raise AccountError(Message("账号“%(number)s”为%(n)s位，应为10–30位数字", number=text, n=len(text)),
                           Message("“%(number)s”为%(n)s位，应为10–30位数字", number=text, n=len(text)))
    if kind in CARD_KINDS:
        if not 16 <= len(text) <= 19:
            raise AccountError(Message("账号“%(number)s”为%(n)s位，%(kind)s卡号应为16–19位", number=text, n=len(text),
                                       kind=Message(kind)),
                               Message("“%(number)s”为%(n)s位，%(kind)s卡号应为16–19位", number=text, n=len(text),
                                       kind=Message(kind)))
        if not luhn.is_valid(text):
            raise AccountError(Message("账号“%(number)s”校验位不符（%(kind)s卡号的 Luhn 校验未通过），请核对是否抄错",
                                       number=text, kind=Message(kind)),
                               Message("“%(number)s”校验位不符（%(kind)s卡号的 Luhn 校验未通过），请核对是否抄错",
                                       number=text, kind=Message(kind)))
    return text


def mask_account(number: str | None) -> str:
    """``6217 …`` → ``6217****1234``: the first and last four digits (lists, pages)."""
    if not number:
        return ""
    return number[:4] + "****" + number[-4:] if len(number) > 8 else "****"


def set_account(child: Child, *, holder_name: str, holder_id_number: str, bank: str, number: str,
                kind: str = "一卡通", user=None) -> PayeeAccount:
    """Record (or replace) the child's payee account; audited with the number masked.

    :raises AccountError: an empty field, an unknown kind, a bad ID number or account
        number (see :func:`clean_number`).
    """
    if kind not in ACCOUNT_KINDS:
        raise AccountError(Message("账户类型应为：%(kinds)s", kinds=Message.join([Message(k) for k in ACCOUNT_KINDS], "、")))
    holder_name, bank = (holder_name or "").strip(), (bank or "").strip()
    if not holder_name or not bank:
        raise AccountError(Message("户名和开户行不能为空"))
    try:
        holder_id = validate_id_number((holder_id_number or "").strip().upper())
    except ValueError as exc:
        raise AccountError(Message("户名身份证号：%(reason)s", reason=message_of(exc))) from None
    digits = clean_number(number, kind)
    account = db.session.execute(sa.select(PayeeAccount).where(PayeeAccount.child_id == child.id)).scalar()
    before = _snapshot(account) if account else None
    if account is None:
        account = PayeeAccount(child_id=child.id)
        db.session.add(account)
    account.holder_name, account.holder_id_number, account.bank, account.number, account.kind = (
        holder_name, holder_id, bank, digits, kind)
    db.session.flush()
    audit.record("update" if before else "create", account, before=before, after=_snapshot(account), user=user)
    return account


def _snapshot(account: PayeeAccount) -> dict:
    """The audit view of an account: the number masked (the log is read widely)."""
    data = audit.snapshot(account, ["child_id", "holder_name", "bank", "kind"])
    data["number"] = mask_account(account.number)
    return data


def accounts_of(child_ids) -> dict[int, PayeeAccount]:
    """The payee accounts of the children ``child_ids``, by child id."""
    ids = list(child_ids)
    if not ids:
        return {}
    rows = db.session.execute(sa.select(PayeeAccount).where(PayeeAccount.child_id.in_(ids))).scalars()
    return {a.child_id: a for a in rows}
