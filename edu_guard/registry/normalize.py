"""Normalise what clerks type into import files: text, names, ID numbers, dates,
yes/no answers and the header names of columns.

Clerks' files carry full-width digits (``５３２８…``), stray spaces inside names
(``岩 罕 ``), a lower-case check letter ``x``, and dates in half a dozen forms. The
functions here turn each into one canonical form; they never guess: a value that
cannot be read raises :class:`NormalizeError` with a Chinese reason.

Column aliases live here too: :data:`COLUMN_ALIASES` maps each canonical field to
the header names seen in county files (other counties use other names, orders and
title rows; add their names to the table, nothing else has to change).
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime, timedelta

from edu_guard.i18n import N_, Message
from edu_guard.messages import Template
from edu_guard.registry.identity import normalize_id

#: Excel's 1900 date system: day 0 of the serial numbers, right from 1900-03-01 on
#: (Excel counts a 1900-02-29 that never was; no birth date is that old).
_EXCEL_EPOCH = date(1899, 12, 30)
#: Excel's 1904 date system (a workbook setting, once the Mac default): day 0.
_EXCEL_EPOCH_1904 = date(1904, 1, 1)
#: Whitespace, including the zero-width characters that copy-paste brings along.
WHITESPACE = re.compile(r"[\s\u200b\u200c\u200d\ufeff]+")
#: Characters that make a text cell need cleaning: whitespace, full-width forms.
_NEEDS_CLEANING = re.compile(r"[\s\u200b\u200c\u200d\ufeff\u3000\uff01-\uff5e]")
_DATE_SEPARATED = re.compile(
    r"^(\d{4})\s*[-./年]\s*(\d{1,2})\s*[-./月]\s*(\d{1,2})\s*日?(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$"
)
_DATE_COMPACT = re.compile(r"^(\d{4})(\d{2})(\d{2})$")


class NormalizeError(ValueError):
    """A value could not be normalised; its argument is the reason for the clerk (a
    :class:`~edu_guard.i18n.Message`: ``str(exc)`` reads in the reader's language)."""


def as_message(value):
    """A reason as a :class:`~edu_guard.i18n.Message`, whatever made it: a Message as it
    is; a :class:`~edu_guard.messages.Template` (marshmallow's built-in messages, a
    :class:`~edu_guard.textfile.DecodeError`) as the Message of its id and arguments;
    any other value (text from elsewhere) unchanged."""
    if isinstance(value, Template):
        return Message(value.msgid, **{k: as_message(v) for k, v in value.args.items()})
    return value


def halfwidth(text: str) -> str:
    """Return ``text`` with every full-width form made half-width (Unicode NFKC).

    For codes, numbers, dates and headers: ``５３２８`` → ``5328``, ``（`` → ``(``,
    ``：`` → ``:``, the ideographic space (U+3000) → a space. ASCII text is returned
    as is (the common, fast case).
    """
    if text.isascii():
        return text
    return unicodedata.normalize("NFKC", text)


#: Full-width ASCII forms (U+FF01–U+FF5E) → ASCII, but for the punctuation Chinese
#: text is written with (（）、，：；！？), and the ideographic space → a space.
_TEXT_HALFWIDTH = {cp: cp - 0xFEE0 for cp in range(0xFF01, 0xFF5F) if chr(cp) not in "（），：；！？"} | {0x3000: 0x20}


def halfwidth_text(text: str) -> str:
    """Return free text (names, places) with full-width letters and digits half-width.

    Unlike :func:`halfwidth`, keeps the full-width punctuation of Chinese writing, so
    ``景洪市第一中学（初中部）`` stays as the school writes it.
    """
    if text.isascii():
        return text
    return text.translate(_TEXT_HALFWIDTH)


def is_number_cell(value: object) -> bool:
    """Return whether a spreadsheet cell value came from a numeric cell.

    python-calamine and openpyxl give numeric cells as ``float``/``int`` and text
    cells as ``str``; booleans are not numbers here.
    """
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def integer_digits(value: int | float) -> int:
    """Return how many digits the whole-number part of a numeric cell has.

    Excel keeps 15 significant digits: a number with more digits than that (an ID
    number, a 户编号, an account number typed into a numeric cell) has lost its last
    ones.
    """
    return len(str(int(abs(value))))


def clean_text(value: object) -> str | None:
    """Return a cell as trimmed text with half-width letters and digits, or ``None``
    when blank (see :func:`halfwidth_text`).

    Whole numbers from numeric cells lose the ``.0`` (a phone number or a school code
    typed into a numeric cell reads ``13996030824``, not ``13996030824.0``).
    """
    if value is None:
        return None
    if isinstance(value, str):
        if not _NEEDS_CLEANING.search(value):  # the usual case, and fast
            return value or None
        text = halfwidth_text(value).strip()
        return text or None
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    text = str(value).strip()
    return text or None


#: The 间隔号 of names of the 少数民族 and foreign names (玉香·岩罕) and the look-alikes
#: clerks type for it: · (U+00B7, GB 18030's 间隔号), • ・ ･ ‧ ∙ ⋅ ． and the full stop.
NAME_DOT = "\u00b7"
_NAME_DOTS = re.compile("[\u00b7\u2022\u30fb\uff65\u2027\u2219\u22c5\uff0e.]")


def canonical_dots(text: str) -> str:
    """Return a name with every 间隔号 look-alike as the one 间隔号 ``·`` (U+00B7)."""
    return _NAME_DOTS.sub(NAME_DOT, text)


def name_key(text: str) -> str:
    """Return the form of a name used to search: no spaces and no 间隔号, so that
    玉香岩罕 finds 玉香·岩罕."""
    return _NAME_DOTS.sub("", WHITESPACE.sub("", text))


def clean_name(value: object) -> str | None:
    """Return a name without any whitespace (``"岩 罕 "`` → ``"岩罕"``).

    Chinese names never contain spaces; a space in a typed name is a typing slip that
    would stop the name from matching other lists.
    """
    if isinstance(value, str) and not _NEEDS_CLEANING.search(value):
        return value or None
    text = clean_text(value)
    if text is None:
        return None
    return WHITESPACE.sub("", text) or None


def clean_person_name(value: object) -> str | None:
    """Return a person's name as :func:`clean_name` does, with the one 间隔号
    (``玉香•岩罕`` → ``玉香·岩罕``, see :func:`canonical_dots`)."""
    name = clean_name(value)
    if name is None or not _NAME_DOTS.search(name):
        return name
    return canonical_dots(name)


def clean_code(value: object) -> str | None:
    """Return an identifier (ID number, 学籍号, certificate number) compacted and upper-case.

    The text of the cell through :func:`edu_guard.registry.identity.normalize_id`
    (NFKC, every space removed, ``x`` → ``X``): the one normalisation of typed numbers.
    """
    if isinstance(value, str) and value.isascii() and value.isalnum():  # the usual case
        return value.upper()
    text = clean_text(value)
    if text is None:
        return None
    return normalize_id(text) or None


def parse_date(value: object, *, date1904: bool = False) -> date | None:
    """Return the date a clerk typed, or ``None`` for a blank cell.

    Accepts real Excel dates and datetimes, Excel serial numbers, and the text forms
    ``2010.05.03``, ``20100503``, ``2010/5/3``, ``2010-05-03``, ``2010年5月3日``
    (full-width digits too).

    :param date1904: the workbook counts serial numbers from 1904-01-01 (Excel's 1904
        date system) instead of 1899-12-30.
    :raises NormalizeError: for an unreadable form or a date that does not exist
        (``2011-02-30``).
    """
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if is_number_cell(value):
        number = float(value)  # type: ignore[arg-type]
        if number.is_integer() and 19000101 <= number <= 21001231:
            return _ymd(str(int(number)), *_split_compact(str(int(number))))
        if 1 <= number < 2958466:  # Excel's last date is 9999-12-31
            return (_EXCEL_EPOCH_1904 if date1904 else _EXCEL_EPOCH) + timedelta(days=int(number))
        raise NormalizeError(Message("“%(value)s”不是日期", value=clean_text(value)))
    text = halfwidth(str(value)).strip()
    if not text:
        return None
    match = _DATE_SEPARATED.match(text) or _DATE_COMPACT.match(text)
    if match is None:
        raise NormalizeError(Message("“%(value)s”不是可识别的日期格式（应为 2010-05-03、2010.05.03、20100503 或 2010年5月3日）",
                                     value=text))
    return _ymd(text, *match.groups()[:3])


_YEAR_MONTH = re.compile(r"^(\d{4})\s*(?:[-./年]\s*(\d{1,2})\s*月?|(\d{2}))$")


def parse_year_month(value: object, *, date1904: bool = False) -> tuple[int, int] | date | None:
    """Return what a clerk typed under 出生年月: ``(year, month)`` for a year-month
    (``2010.01``, ``2010-01``, ``201001``, ``2010年1月``, a number ``2010.01``), a
    ``date`` for a full date (:func:`parse_date`), ``None`` for a blank cell.

    :raises NormalizeError: for an unreadable form or a month that does not exist.
    """
    if value is None or value == "":
        return None
    if isinstance(value, (date, datetime)):
        return value.date() if isinstance(value, datetime) else value
    if is_number_cell(value) and 1900 <= float(value) < 2101 and not float(value).is_integer():
        text = f"{float(value):.2f}"  # a number 2010.01 (2010.1 reads October, as Excel shows 2010.10)
    elif is_number_cell(value) and 190001 <= float(value) <= 210012:
        text = str(int(float(value)))
    elif is_number_cell(value):
        return parse_date(value, date1904=date1904)
    else:
        text = halfwidth(str(value)).strip()
    match = _YEAR_MONTH.match(text)
    if match is None:
        return parse_date(value, date1904=date1904)
    year, month = int(match.group(1)), int(match.group(2) or match.group(3))
    if not 1 <= month <= 12:
        raise NormalizeError(Message("“%(value)s”不是有效的年月（月份应为1–12）", value=text))
    return year, month


def _split_compact(text: str) -> tuple[str, str, str]:
    return text[:4], text[4:6], text[6:8]


def _ymd(text: str, year: str, month: str, day: str) -> date:
    try:
        return date(int(year), int(month), int(day))
    except ValueError:
        raise NormalizeError(Message("“%(value)s”不是有效日期（该日不存在）", value=text)) from None


#: Answers read as yes / no in 是否… columns.
YES = frozenset({"是", "有", "Y", "YES", "TRUE", "1", "√", "✓", "能", "可以"})
NO = frozenset({"否", "无", "N", "NO", "FALSE", "0", "×", "✗", "不能", "不可以"})


def parse_yes_no(value: object, yes: frozenset[str] = YES, no: frozenset[str] = NO) -> bool | None:
    """Return ``True``/``False`` for a yes/no answer, ``None`` for a blank cell.

    :param yes: answers meaning yes (upper-case for Latin letters).
    :param no: answers meaning no.
    :raises NormalizeError: for any other answer.
    """
    if isinstance(value, bool):
        return value
    text = clean_text(value)
    if text is None:
        return None
    key = WHITESPACE.sub("", text).upper()
    if key in yes:
        return True
    if key in no:
        return False
    raise NormalizeError(Message("“%(value)s”应为“是”或“否”", value=text))


#: 就读方式 / 是否寄宿: boarding answers.
BOARDING_YES = YES | {"住校", "寄宿", "寄宿生", "住读"}
BOARDING_NO = NO | {"走读", "非寄宿", "走读生", "不住校"}


# --- column headers ---------------------------------------------------------------

#: Canonical field → the header names seen for it in county files. The first name is
#: the label used in messages (marked for the catalogue: a reject reason names the
#: column in the reader's language when the file used that name). Matching ignores
#: spaces, ``*`` marks and full-width forms (``村（社区）`` matches ``村(社区)``).
COLUMN_ALIASES: dict[str, tuple[str, ...]] = {
    # persons
    "name": (N_("姓名"), "学生姓名", "儿童姓名", "成员姓名", "家庭成员姓名"),
    "sex": (N_("性别"),),
    "birth_date": (N_("出生日期"), "出生年月日", "生日"),
    "birth_month": (N_("出生年月"),),
    "ethnicity": (N_("民族"),),
    "id_type": (N_("身份证件类型"), "证件类型"),
    "id_number": (
        N_("身份证件号"),
        "身份证号",
        "公民身份号码",
        "证件号码",
        "身份证号码",
        "身份证件号码",
        "居民身份证号",
        "居民身份证号码",
        "学生身份证号",
        "学生身份证号码",
    ),
    "hukou": (N_("户口所在地"), "户籍所在地", "户口所在地区", "户籍地址", "户籍地", "户籍住址", "户口地址"),
    "township": (N_("乡镇"), "乡镇（街道）", "乡（镇）", "乡镇街道", "所属乡镇", "所在乡镇"),
    "village": (N_("村（社区）"), "行政村", "村委会", "村（居）委会", "村社区", "所属村", "所在村"),
    "address": (N_("家庭住址"), "住址", "现住址", "居住地址", "家庭地址"),
    "guardian_name": (N_("监护人"), "监护人姓名", "家长姓名"),
    "guardian_phone": (N_("监护人联系电话"), "监护人电话", "联系电话", "家长电话", "联系方式"),
    "guardian_relation": (N_("与学生关系"), "监护人关系", "监护人与学生关系"),
    "family_type": (N_("家庭类型"), "家庭经济类型", "困难类型", "家庭困难类型"),
    "disabled": (N_("是否残疾"), "是否残疾儿童"),
    # enrollment
    "seq": (N_("序号"),),
    "student_number": (N_("全国学籍号"), "学籍号", "学籍编号", "全国学籍号码"),
    "school_code": (N_("学校标识码"), "学校代码", "学校识别码"),
    "school_name": (N_("学校名称"), "学校", "就读学校", "所在学校"),
    "grade": (N_("年级"), "就读年级"),
    "class_name": (N_("班级"), "班级名称"),
    "boarding": (N_("就读方式"), "是否寄宿", "是否住校", "寄宿情况"),
    # schools
    "stage": (N_("学段"), "办学类型"),
    "county_code": (N_("行政区划代码"), "区划代码", "县区代码"),
    # status changes
    "change_kind": (N_("变动类型"), "异动类型", "学籍变动类型"),
    "changed_on": (N_("变动日期"), "异动日期", "变动时间"),
    "from_school": (N_("原学校"), "转出学校", "原就读学校"),
    "to_school": (N_("去向学校"), "转入学校", "转往学校", "去向"),
    "reason": (N_("变动原因"), "异动原因", "原因"),
    # monitored households
    "household_code": (N_("户编号"), "户码"),
    "head_name": (N_("户主姓名"),),
    "relation_to_head": (N_("与户主关系"),),
    "category": (N_("监测对象类别"), "户类别", "类别", "户类型"),
    "risk_type": (N_("风险类型"), "主要风险"),
    "risk_removed": (N_("是否风险消除"), "风险是否消除"),
    # disability certificates
    "certificate_number": (N_("残疾人证号"), "残疾证号", "残疾人证号码"),
    "disability_category": (N_("残疾类别"),),
    "disability_level": (N_("残疾等级"),),
    "can_attend_school": (N_("能否到校就读"), "是否能到校就读", "能否随班就读"),
    # payee accounts (资助收款账户; the bank's 代发 words first)
    "account_holder": (N_("户名"), "账户名称", "持卡人", "持卡人姓名", "收款人", "收款人姓名"),
    "holder_id_number": (N_("户名身份证号"), "持卡人身份证号", "收款人身份证号", "户名身份证号码", "持卡人身份证号码"),
    "account_bank": (N_("开户行"), "开户银行", "银行名称", "开户网点"),
    "account_number": (N_("账号"), "银行账号", "卡号", "银行卡号", "一卡通账号", "收款账号"),
    "account_kind": (N_("账户类型"), "卡类型", "账户种类"),
}


def header_key(text: object) -> str:
    """Return the form of a header cell used to match aliases.

    Half-width, without spaces, ``*`` (required marks), or a trailing colon.
    """
    if text is None:
        return ""
    key = WHITESPACE.sub("", halfwidth(str(text))).replace("*", "").rstrip(":")
    return key.lower()


#: header_key(alias) → canonical field.
ALIAS_INDEX: dict[str, str] = {
    header_key(alias): field for field, aliases in COLUMN_ALIASES.items() for alias in aliases
}


def field_label(field: str) -> str:
    """Return the usual Chinese header name of a canonical field (for messages)."""
    return COLUMN_ALIASES[field][0]


def match_header(cells: list[object], fields: frozenset[str] | set[str]) -> dict[str, int]:
    """Return ``{field: column index}`` for the header cells that name one of ``fields``.

    When two columns name the same field, the first wins.
    """
    found: dict[str, int] = {}
    for index, cell in enumerate(cells):
        field = ALIAS_INDEX.get(header_key(cell))
        if field is not None and field in fields and field not in found:
            found[field] = index
    return found
