"""Money (金额): the one place where amounts are parsed, converted, rounded and written.

- In code an amount is :class:`~decimal.Decimal` **yuan** (元) with two decimals.
- In the database it is an **integer of fen** (分): :func:`to_fen` and :func:`from_fen`
  are the only conversions.
- Reports give 万元 (ten thousand yuan): the sum is taken in fen and turned into 万元
  **once, at the end**, rounded half up (:func:`wan`): two decimals in narrative lines,
  four in tables (exact to the yuan).
- Every rounding here is half up (四舍五入), the rule of the bureau's finance forms;
  there is no other rounding of money in the code.
- Letters write an amount twice: in figures with two decimals (:func:`yuan_text`) and
  in capital numerals, 大写 (:func:`capital`), as payment documents must (the People's
  Bank of China rules for writing amounts on payment instruments, 《支付结算办法》附件
  《正确填写票据和结算凭证的基本规定》). The capital form comes from the ``cn2an``
  library; see :func:`capital` for the rules it follows.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

import cn2an

#: One fen in yuan.
CENT = Decimal("0.01")
#: Fen in one 万元.
FEN_PER_WAN = 1_000_000

Amount = Decimal | str | int


def to_yuan(value: Amount) -> Decimal:
    """Return ``value`` as Decimal yuan with two decimals, rounded half up to the fen.

    :param value: yuan as ``Decimal``, a decimal string (``"12.345"``) or an integer.
        Floats are refused (they carry binary rounding errors into money).
    :raises ValueError: for a float, text that is not a number, NaN or infinity.
    """
    if isinstance(value, float):
        raise ValueError(f"money must not be a float: {value!r}")
    try:
        amount = Decimal(value.strip() if isinstance(value, str) else value)
    except (InvalidOperation, TypeError):
        raise ValueError(f"not an amount of yuan: {value!r}") from None
    if not amount.is_finite():
        raise ValueError(f"not an amount of yuan: {value!r}")
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def to_fen(value: Amount) -> int:
    """Return yuan as integer fen (the database's unit), rounded half up to the fen.

    :raises ValueError: as :func:`to_yuan`.
    """
    return int(to_yuan(value) * 100)


def from_fen(amount_fen: int | None) -> Decimal:
    """Return integer fen as Decimal yuan with two decimals (``None`` is 0.00)."""
    return (Decimal(amount_fen or 0) / 100).quantize(CENT)


def wan(amount_fen: int, places: int = 2) -> Decimal:
    """Return fen as 万元 rounded half up to ``places`` decimals.

    Call it once, on the final sum in fen — never add rounded 万元 figures.

    :param places: 2 for narrative lines, 4 for tables.
    """
    return (Decimal(amount_fen) / FEN_PER_WAN).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def yuan_text(value: Amount) -> str:
    """Return yuan in figures with two decimals: ``Decimal("500")`` → ``"500.00"``.

    :raises ValueError: as :func:`to_yuan`.
    """
    return f"{to_yuan(value):.2f}"


#: The capital form is checked for amounts below this (10¹⁶ yuan, cn2an's range).
CAPITAL_LIMIT = Decimal(10) ** 16


def capital(value: Amount) -> str:
    """Return yuan in capital numerals (人民币大写): ``12345.67`` →
    ``壹万贰仟叁佰肆拾伍元陆角柒分``, ``500`` → ``伍佰元整``, ``1050.5`` → ``壹仟零伍拾元伍角``.

    The rules (《正确填写票据和结算凭证的基本规定》): 元 after the yuan part; 整 when
    there is no 角 or 分; a zero between non-zero digits is written 零, one 零 for a run
    of zeros (``1005`` → 壹仟零伍元整, ``1000.05`` → 壹仟元零伍分); a 万 or 亿 group
    that is all zeros is not read. Where the rules allow the 零 to be left out (the 万
    digit zero and the 千 digit not: ``300004034`` → 叁亿肆仟零叁拾肆元整) cn2an leaves
    it out.

    :param value: yuan (rounded half up to the fen first).
    :raises ValueError: for a negative amount or one of 10¹⁶ yuan or more.
    """
    amount = to_yuan(value)
    if amount < 0 or amount >= CAPITAL_LIMIT:
        raise ValueError(f"amount out of range for capital numerals: {amount}")
    return cn2an.an2cn(f"{amount:.2f}", "rmb")
