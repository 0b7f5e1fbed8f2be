"""The sample county's payee accounts (示例收款账户): so a newcomer can walk the whole
aid path in the demo — approve a list, then export the bank's 代发 file
(:mod:`edu_guard.aid.bank`), which refuses a batch whose pupils have no account.

The accounts are a clerk's workbook (CSV) made from the registry and imported through
the real account import (:class:`edu_guard.aid.account_import.AccountsImporter`), so the
demo also shows the file a county sends. They are SAMPLES, made deterministically from
each pupil's ID number (the same registry gives the same file, byte for byte):

- 户名: the pupil's first guardian (监护人) with a name, else the pupil;
- 户名身份证号: the pupil's own number for the pupil; for a guardian a made-up but valid
  resident ID number (GB 11643-1999: the pupil's area code, a birth date 30 years before
  the pupil's, a sequence number, the ISO 7064 MOD 11-2 check character computed by
  python-stdnum's ``cn.ric``);
- 账号: a 19-digit card number starting 6230 whose last digit is the Luhn check digit
  (ISO/IEC 7812-1, python-stdnum's ``luhn``), so it passes :func:`clean_number`;
- 开户行 and 账户类型: one pupil in three a bank card (银行卡) at 示例银行景洪支行, the rest
  a 惠民惠农"一卡通" at 示例农村信用社景洪支行 (both names say 示例).
"""

from __future__ import annotations

import csv
import hashlib
import io

import sqlalchemy as sa
from stdnum import luhn
from stdnum.cn import ric

from edu_guard.aid.models import PayeeAccount
from edu_guard.db import db
from edu_guard.registry.models import Child
from edu_guard.registry.services import import_file

#: The file name the sample accounts are imported under (shown on the imports page).
DEMO_ACCOUNTS_FILE = "示例收款账户_2021.csv"
HEADER = ["学生身份证号", "学生姓名", "户名", "户名身份证号", "开户行", "账号", "账户类型"]


def _digits(seed: str, n: int) -> str:
    """``n`` decimal digits drawn from the SHA-256 of ``seed`` (deterministic)."""
    value = int.from_bytes(hashlib.sha256(seed.encode()).digest(), "big")
    return str(value).zfill(n)[-n:]


def sample_card_number(seed: str) -> str:
    """A 19-digit sample card number (6230 + 14 digits from ``seed`` + Luhn check digit)."""
    body = "6230" + _digits("card:" + seed, 14)
    return body + luhn.calc_check_digit(body)


def sample_guardian_id(child_id_number: str, birth_year: int) -> str:
    """A valid made-up resident ID number for a pupil's guardian (see the module)."""
    d = _digits("guardian:" + child_id_number, 6)
    body = f"{child_id_number[:6]}{birth_year - 30:04d}{int(d[:2]) % 12 + 1:02d}{int(d[2:4]) % 28 + 1:02d}{d[4:]}0"
    return body + ric.calc_check_digit(body + "0")  # stdnum takes the number with a place for the check digit


def demo_accounts_csv() -> bytes:
    """The sample accounts workbook of every pupil in the registry, in ID-number order,
    as UTF-8 CSV with a byte-order mark (what Excel opens).

    :return: the file's bytes (a header row and one row per pupil with an ID number).
    """
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(HEADER)
    children = db.session.execute(
        sa.select(Child).where(Child.id_number.is_not(None)).order_by(Child.id_number)).scalars()
    for n, child in enumerate(children):
        guardian = next((g for g in child.guardians if g.name), None)
        if guardian is not None:
            year = child.birth_date.year if child.birth_date else int(child.id_number[6:10])
            holder, holder_id = guardian.name, sample_guardian_id(child.id_number, year)
        else:
            holder, holder_id = child.name, child.id_number
        card = n % 3 == 0
        writer.writerow([child.id_number, child.name, holder, holder_id,
                         "示例银行景洪支行" if card else "示例农村信用社景洪支行",
                         sample_card_number(child.id_number), "银行卡" if card else "一卡通"])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def load_demo_accounts(user=None):
    """Import the sample accounts (:func:`demo_accounts_csv`) through the accounts
    importer, once: nothing is done when any payee account is recorded already.
    Flush, never commit.

    :return: the import's :class:`~edu_guard.registry.importers.base.ImportResult`, or
        ``None`` when skipped.
    """
    if db.session.execute(sa.select(PayeeAccount.id).limit(1)).first() is not None:
        return None
    return import_file("accounts", demo_accounts_csv(), DEMO_ACCOUNTS_FILE, user=user)
