"""Identity documents (身份证件) of the children a county registers: the one place for
how a typed number is normalised, which document types exist, how each is checked,
and which numbers Excel may have damaged.

Used by every importer (through :class:`edu_guard.registry.schemas.IdNumber`), the
household comparison, the CLI, the forms and the search; the rules and their sources
are written down in ``docs/domain.md`` ("Registry and identity").

Document types (证件类型) of the 学籍 system:

- 居民身份证: the 公民身份号码 of GB 11643-1999 (6-digit area code, birth date,
  sequence, MOD 11-2 check character), checked with python-stdnum ``stdnum.cn.ric``;
  the area code must be one that existed at any time (a child registered late may
  carry a code created after the birth year; an abolished code stays valid).
- 港澳台居民居住证: numbered as a 公民身份号码 with the area code 810000 (Hong
  Kong), 820000 (Macao) or 830000 (Taiwan); same check.
- 外国人永久居留身份证: since 2023-12-01 18 characters, ``9`` + 2-digit province
  code of the issuing office + 3-digit nationality code (GB/T 2659 numeric) + birth
  date + 3-digit sequence + MOD 11-2 check character (the same check as GB 11643);
  the 2017 card: 3 Latin letters (GB/T 2659 alpha-3) + 12 digits, checked for form.
- 无证件: a pupil with no ID number yet, known by the 学籍号 only and flagged for
  follow-up.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from datetime import date

from stdnum import numdb
from stdnum.cn import ric
from stdnum.exceptions import ValidationError as StdnumError

from edu_guard import clock
from edu_guard.i18n import N_, Message

#: Document types (证件类型).
RESIDENT = N_("居民身份证")
HMT_PERMIT = N_("港澳台居民居住证")
FOREIGN_PR = N_("外国人永久居留身份证")
NO_DOCUMENT = N_("无证件")
DOCUMENT_TYPES = (RESIDENT, HMT_PERMIT, FOREIGN_PR, NO_DOCUMENT)

#: Other words clerks write in a 证件类型 column.
DOCUMENT_ALIASES = {
    "身份证": RESIDENT,
    "居民身份证号": RESIDENT,
    "身份证号": RESIDENT,
    "中华人民共和国居民身份证": RESIDENT,
    "户口簿": RESIDENT,
    "居民户口簿": RESIDENT,
    "港澳居民居住证": HMT_PERMIT,
    "台湾居民居住证": HMT_PERMIT,
    "港澳台居住证": HMT_PERMIT,
    "港澳台居民居住证号": HMT_PERMIT,
    "外国人永久居留证": FOREIGN_PR,
    "外国人永久居留身份证号": FOREIGN_PR,
    "永居证": FOREIGN_PR,
    "无": NO_DOCUMENT,
    "无身份证": NO_DOCUMENT,
    "无证件号码": NO_DOCUMENT,
    "未办理": NO_DOCUMENT,
    "暂无": NO_DOCUMENT,
}

#: Area codes of the 港澳台居民居住证 numbers (国办发〔2018〕81号 and its numbering rule).
HMT_AREAS = {"810000": "香港", "820000": "澳门", "830000": "台湾"}

#: The reason for an ID that ends in 000 and may have been cut by Excel.
TRUNCATED_REASON = N_("末三位为000，可能被 Excel 截断，请核对原始数据")

_SPACES = re.compile(r"[\s\u200b\u200c\u200d\u2060\ufeff]+")
_FOREIGN_2017 = re.compile(r"^[A-Z]{3}\d{12}$")


class IdNumberError(ValueError):
    """An ID number is not valid for its document type; its argument (a
    :class:`~edu_guard.i18n.Message`) follows the column's name."""


def normalize_id(text: object) -> str:
    """Return a typed document number in its one canonical form.

    Unicode NFKC (full-width ``５３２８`` → ``5328``), every space and zero-width
    character removed, letters upper-case (GB 11643 writes the check value 10 as
    ``X``). The importers, the household comparison, the CLI, the forms and the
    search all use this function.

    :param text: what was typed (``None`` gives ``""``).
    :return: the normalised text (possibly empty).
    """
    if text is None:
        return ""
    value = str(text)
    if not value.isascii():
        value = unicodedata.normalize("NFKC", value)
    return _SPACES.sub("", value).upper()


def document_type(value: object) -> str | None:
    """Return the document type named in a 证件类型 cell, or ``None`` when blank.

    :raises IdNumberError: for a name that is not a known document type.
    """
    text = _SPACES.sub("", unicodedata.normalize("NFKC", str(value))) if value is not None else ""
    if not text:
        return None
    if text in DOCUMENT_TYPES:
        return text
    if text in DOCUMENT_ALIASES:
        return DOCUMENT_ALIASES[text]
    raise IdNumberError(Message("“%(value)s”不是可选的证件类型（%(choices)s）", value=text,
                                choices=Message.join([Message(t) for t in DOCUMENT_TYPES], "、")))


def type_of_number(number: str) -> str:
    """Return the document type a normalised number's form belongs to.

    ``9`` + 17 characters or 3 letters + 12 digits: 外国人永久居留身份证; area code
    810000/820000/830000: 港澳台居民居住证; anything else: 居民身份证.
    """
    if len(number) == 18 and number[0] == "9":
        return FOREIGN_PR
    if _FOREIGN_2017.match(number):
        return FOREIGN_PR
    if number[:6] in HMT_AREAS:
        return HMT_PERMIT
    return RESIDENT


@functools.lru_cache(maxsize=8192)
def area_code_existed(area: str) -> bool:
    """Return whether a 6-digit area code (GB/T 2260) was assigned at any time, or is one
    of the 港澳台 codes :data:`HMT_AREAS`.

    The table is python-stdnum's ``cn/loc`` (every code with the years it was in
    use); the years are not compared with the birth year: a child registered after
    a county was renamed carries the new code, one registered before it was
    abolished keeps the old.
    """
    if area in HMT_AREAS:
        return True
    return any("county" in props for _part, props in numdb.get("cn/loc").info(area))


@functools.lru_cache(maxsize=65536)
def birth_date(digits: str) -> date | None:
    """Return the date of 8 birth-date digits ``YYYYMMDD`` (via ``ric.get_birth_date``),
    or ``None`` when no such day exists."""
    try:
        return ric.get_birth_date(f"000000{digits}0000")
    except StdnumError:
        return None


def check_character(number: str) -> str:
    """Return the MOD 11-2 check character (ISO 7064, GB 11643) of the first 17 digits."""
    return ric.calc_check_digit(number[:17] + "0")


def _check_18(number: str, today: date, *, what: str | Message) -> date:
    """Check the parts common to the 18-character numbers: digits, birth date, check."""
    if len(number) != 18:
        raise IdNumberError(Message("应为18位（现为%(n)s位）", n=len(number)))
    if not number[:17].isdigit() or number[17] not in "0123456789X":
        raise IdNumberError(Message("含有数字和末位X以外的字符"))
    birth = birth_date(number[6:14])
    if birth is None:
        raise IdNumberError(Message("第7–14位的出生日期（%(digits)s）不存在", digits=number[6:14]))
    if birth > today:
        raise IdNumberError(Message("第7–14位的出生日期（%(day)s）晚于今天", day=birth.isoformat()))
    if number[17] != check_character(number):
        raise IdNumberError(Message("校验位错误（%(rule)s），号码有误，请核对后重新录入", rule=what))
    return birth


def validate_resident(number: str, today: date) -> str:
    """Return a 公民身份号码 (居民身份证 or 港澳台居民居住证) checked per GB 11643-1999.

    :raises IdNumberError: old 15-digit form, length, characters, birth date, check
        character, or an area code that never existed.
    """
    if len(number) == 15 and number.isdigit():
        raise IdNumberError(Message("为旧版15位号码；请改为现行18位居民身份证号码"))
    _check_18(number, today, what="GB 11643")
    if not area_code_existed(number[:6]):
        raise IdNumberError(Message("前6位行政区划代码（%(area)s）不存在", area=number[:6]))
    return number


def validate_foreign(number: str, today: date) -> str:
    """Return a 外国人永久居留身份证 number, checked by its version.

    2023 card: ``9``, a province code that exists (stdnum ``cn/loc``), a 3-digit
    nationality code other than 156 (China), the birth date, the sequence and the
    MOD 11-2 check character. 2017 card: 3 letters and 12 digits (form only).

    :raises IdNumberError: with the reason.
    """
    if _FOREIGN_2017.match(number):
        return number
    if len(number) != 18 or number[0] != "9":
        raise IdNumberError(Message("不是外国人永久居留身份证号码（应为“9”开头的18位，或3位字母加12位数字的2017版号码）"))
    _check_18(number, today, what=Message("外国人永久居留身份证，MOD 11-2"))
    province = number[1:3]
    if not any("province" in props for _p, props in numdb.get("cn/loc").info(province + "0000")):
        raise IdNumberError(Message(
            "前6位行政区划代码（%(area)s）不存在（以9开头的号码也不是有效的外国人永久居留身份证号码："
            "第2–3位受理地省级代码%(province)s不存在）", area=number[:6], province=province))
    if number[3:6] in ("000", "156"):
        raise IdNumberError(Message("第4–6位国籍代码（%(code)s）不是外国的国籍代码", code=number[3:6]))
    return number


def validate_document(number: str, declared: str | None = None, *,
                      today: date | None = None) -> tuple[str, str, Message | None]:
    """Check a normalised document number against its declared type.

    The number's form decides the type (:func:`type_of_number`); a 港澳台 number
    declared as 居民身份证 is registered as 港澳台居民居住证 with a note, any other
    disagreement is refused with advice.

    :param number: from :func:`normalize_id`.
    :param declared: the 证件类型 given in the file, ``None`` when not given.
    :param today: births after this day are impossible (default: today).
    :return: ``(document type, number, note or None)``.
    :raises IdNumberError: with a reason that follows the column's name.
    """
    today = today or clock.today()
    if declared == NO_DOCUMENT:
        raise IdNumberError(Message("证件类型为“无证件”时证件号码应为空"))
    kind = type_of_number(number)
    if kind == FOREIGN_PR:
        if declared not in (None, FOREIGN_PR):
            raise IdNumberError(Message("是外国人永久居留身份证号码，但证件类型填为%(declared)s；请核对证件类型",
                                        declared=Message(declared)))
        return FOREIGN_PR, validate_foreign(number, today), None
    validate_resident(number, today)
    note = None
    if kind == HMT_PERMIT:
        if declared == FOREIGN_PR:
            raise IdNumberError(Message("以%(area)s开头，是港澳台居民居住证号码，但证件类型填为%(declared)s",
                                        area=number[:6], declared=Message(declared)))
        if declared == RESIDENT:
            note = Message("证件类型填为居民身份证，但号码以%(area)s开头，已按港澳台居民居住证登记", area=number[:6])
    elif declared == FOREIGN_PR:
        raise IdNumberError(Message("是公民身份号码，但证件类型填为外国人永久居留身份证；请核对证件类型"))
    elif declared == HMT_PERMIT:
        raise IdNumberError(Message("证件类型为港澳台居民居住证，号码应以810000、820000或830000开头"))
    return kind, number, note


def may_be_truncated(number: str) -> bool:
    """Return whether a 公民身份号码 from a text cell ends in ``000``: the mark of a
    number that went through a numeric cell (Excel keeps 15 significant digits and
    fills the rest with zeros) before it was pasted or saved as text."""
    return len(number) == 18 and number.endswith("000")


def sex_from_number(number: str) -> str:
    """Return 男 or 女 from digit 17 of an 18-character number (odd: male), per GB
    11643 and the 2023 永居证, which follows it."""
    return "男" if int(number[16]) % 2 else "女"


def birth_date_from_number(number: str) -> date | None:
    """Return the birth date of an 18-character number (digits 7–14), or ``None`` for a
    2017 永居证 number (its 6-digit birth date has a 2-digit year)."""
    if len(number) != 18:
        return None
    return birth_date(number[6:14])
