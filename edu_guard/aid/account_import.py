"""The payee-accounts importer (资助收款账户, ``edu-guard import accounts``): the clerk's workbook,
one row per pupil — 学生身份证号 (and name), 户名, 户名身份证号, 开户行, 账号, 账户类型 —
checked as :func:`edu_guard.aid.accounts.clean_number` says; refused rows name their row,
column and reason. Aid contributes it as a built-in plugin's ``import_formats``
(:mod:`edu_guard.aid.hooks`): the registry imports no feature.
"""

from __future__ import annotations

from edu_guard.aid.accounts import AccountError, _snapshot, accounts_of, clean_number
from edu_guard.aid.models import ACCOUNT_KINDS, PayeeAccount
from edu_guard.db import db
from edu_guard.i18n import N_, Message
from edu_guard.registry.importers.base import Importer
from edu_guard.registry.importers.bulk import fetch_in
from edu_guard.registry.models import Child
from edu_guard.registry.schemas import Choice, IdNumber, Name, RowSchema, Text


class AccountNumber(Text):
    """An account number cell (kind from the row's 账户类型; checked by the importer)."""


class AccountRowSchema(RowSchema):
    """A row of the clerk's account workbook: the pupil (ID number, name) and the
    account (户名, 户名身份证号, 开户行, 账号, 账户类型)."""

    id_number = IdNumber(required=True)
    name = Name(max_length=64)
    account_holder = Name(required=True, max_length=64)
    holder_id_number = IdNumber(required=True)
    account_bank = Text(required=True, max_length=64)
    account_number = AccountNumber(required=True, max_length=40)
    account_kind = Choice(ACCOUNT_KINDS, aliases={"惠民惠农一卡通": "一卡通", "惠民惠农“一卡通”": "一卡通",
                                                  "一卡通账户": "一卡通", "借记卡": "银行卡", "社保卡": "社会保障卡"})


class AccountsImporter(Importer):
    """The clerk's workbook of payee accounts → :class:`PayeeAccount` per pupil, keyed
    by the pupil's ID number (the pupil must be in the registry)."""

    kind = "accounts"
    label = N_("资助收款账户")
    schema_class = AccountRowSchema
    required_columns = (("id_number",), ("account_holder",), ("holder_id_number",), ("account_bank",),
                        ("account_number",))
    unique_fields = frozenset({"id_number", "name", "account_number", "holder_id_number"})

    def apply(self, rows):
        rows = self.first_occurrences(rows, lambda d: d["id_number"])
        children = {r.id_number: r.id for r in fetch_in([Child.id, Child.id_number], Child.id_number,
                                                         [r.data["id_number"] for r in rows])}
        existing = accounts_of(children.values())
        for row in rows:
            d = row.data
            child_id = children.get(d["id_number"])
            if child_id is None:
                self.reject(row, "id_number", Message("不在学籍名册中：请先导入该生的学籍"))
                continue
            kind = d.get("account_kind") or "一卡通"
            try:
                number = clean_number(d["account_number"], kind)
            except AccountError as exc:
                self.reject(row, "account_number", exc.reason)
                continue
            values = {"holder_name": d["account_holder"], "holder_id_number": d["holder_id_number"],
                      "bank": d["account_bank"], "number": number, "kind": kind}
            old = existing.get(child_id)
            if old is not None and all(getattr(old, k) == v for k, v in values.items()):
                self.outcome.unchanged += 1
                continue
            before = _snapshot(old) if old is not None else None
            account = old or PayeeAccount(child_id=child_id)
            for key, value in values.items():
                setattr(account, key, value)
            db.session.add(account)
            db.session.flush()
            self.audit_rows([{"action": "update" if before else "create", "entity": PayeeAccount.__tablename__,
                              "entity_id": account.id, "before": before, "after": _snapshot(account)}])
            if old is None:
                self.outcome.created += 1
            else:
                self.outcome.updated += 1
