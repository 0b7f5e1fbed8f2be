"""marshmallow schemas for the rows of import files, and the resident-ID check.

Each schema loads one row given as ``{canonical field: cell value}`` (blank cells left
out) and returns clean, typed values; a :class:`marshmallow.ValidationError` carries,
per field, a reason for the clerk in Chinese. The reason is written to follow the
column's name: the importer prefixes the file's header (``身份证件号`` + ``校验位错误…``).

Cells keep their spreadsheet type up to here: the :class:`IdNumber` field refuses an
ID number that comes from a numeric cell, whatever its digits (Excel keeps 15
significant digits, so the last ones are already lost).

Resident ID numbers follow GB 11643-1999 and are checked with python-stdnum
(``stdnum.cn.ric``): 18 characters, birth date, check character (MOD 11-2), area code.
"""

from __future__ import annotations

import functools
import re
from datetime import date
from typing import Any

from marshmallow import Schema, ValidationError, fields, validates_schema
from stdnum.cn import ric
from stdnum.exceptions import ValidationError as StdnumError

from edu_guard.registry import normalize as nz
from edu_guard.registry.models import FAMILY_STATUS_KINDS, MONITORED_CATEGORIES, STATUS_CHANGE_KINDS

#: Reason for an ID number typed into a numeric cell (follows the column's name).
NUMERIC_ID_REASON = "为数值格式，末几位已丢失，无法信任；请将该列设置为文本格式后重新录入"
#: Reason for an ID number shown in scientific notation in a CSV (saved from a numeric cell).
SCIENTIFIC_ID_REASON = "为科学计数法（如 5.32801E+17），是从数值格式单元格导出的，末几位已丢失；请在 Excel 中将该列设置为文本格式、重新录入后再导出"
_SCIENTIFIC = re.compile(r"^\d(?:\.\d+)?E\+?\d+$")

#: 学段 (school stages) accepted in the school list.
STAGES = ("学前", "小学", "初中", "九年一贯制", "完全中学", "高中", "中职", "特殊教育")


# --- resident ID numbers (GB 11643) -------------------------------------------------


class IdNumberError(ValueError):
    """An ID number is not a valid resident ID; ``str(exc)`` follows the column's name."""


@functools.lru_cache(maxsize=8192)
def _area_known(area: str, year: int) -> bool:
    """Return whether the 6-digit area code was assigned in ``year`` (stdnum's table)."""
    try:
        ric.get_birth_place(f"{area}{year:04d}01010000")
    except StdnumError:
        return False
    return True


def validate_id_number(value: str, *, today: date | None = None) -> str:
    """Return the resident ID number in its canonical form (18 characters, upper ``X``).

    Checks, in order, with python-stdnum ``stdnum.cn.ric`` (GB 11643-1999): length,
    digits, birth date (a real date, not in the future), check character (MOD 11-2),
    and that the area code existed in the birth year.

    :param value: the number as typed (already half-width); spaces are ignored.
    :param today: the date births may not be after (default: today).
    :raises IdNumberError: with a reason that follows the column's name.
    """
    # ric.compact is slow (a generic character filter): skip it for the usual clean form.
    number = value.upper() if len(value) == 18 and value.isascii() and value.isalnum() else ric.compact(value)
    if len(number) == 15 and number.isdigit():
        raise IdNumberError("为旧版15位号码；请改为现行18位居民身份证号码")
    if len(number) != 18:
        raise IdNumberError(f"应为18位（现为{len(number)}位）")
    if not number[:17].isdigit() or number[17] not in "0123456789X":
        raise IdNumberError("含有数字和末位X以外的字符")
    birth = _birth_date(number[6:14])
    if birth is None:
        raise IdNumberError(f"第7–14位的出生日期（{number[6:14]}）不存在")
    if birth > (today or date.today()):
        raise IdNumberError(f"第7–14位的出生日期（{birth.isoformat()}）晚于今天")
    if number[17] != ric.calc_check_digit(number):
        raise IdNumberError("校验位错误（GB 11643），号码有误，请核对后重新录入")
    if not _area_known(number[:6], birth.year):
        raise IdNumberError(f"前6位行政区划代码（{number[:6]}）不存在")
    return number


@functools.lru_cache(maxsize=65536)
def _birth_date(digits: str) -> date | None:
    """Return the date of the 8 birth-date digits (via ``ric.get_birth_date``), or ``None``."""
    try:
        return ric.get_birth_date(f"000000{digits}0000")
    except StdnumError:
        return None


def sex_from_id(number: str) -> str:
    """Return 男 or 女 from the 17th digit of an ID number (GB 11643: odd for men)."""
    return "男" if int(number[16]) % 2 else "女"


def birth_date_from_id(number: str) -> date:
    """Return the birth date encoded in a valid ID number (digits 7–14, with
    ``ric.get_birth_date``)."""
    birth = _birth_date(number[6:14])
    if birth is None:
        raise IdNumberError(f"第7–14位的出生日期（{number[6:14]}）不存在")
    return birth


# --- fields -------------------------------------------------------------------------


class Cell(fields.Field):
    """A spreadsheet cell. Blank cells are left out of the row, so ``required`` means
    "not blank"; reasons are Chinese and follow the column's name."""

    default_error_messages = {
        "required": "不能为空",
        "null": "不能为空",
        "invalid": "格式不正确",
        "too_long": "过长（最多{max}个字符）",
    }

    def __init__(self, *, max_length: int | None = None, **kwargs):
        if not kwargs.get("required"):
            kwargs.setdefault("load_default", None)
        super().__init__(**kwargs)
        self.max_length = max_length

    def _deserialize(self, value, attr, data, **kwargs):
        text = nz.clean_text(value)
        return self._check_length(text)

    def _check_length(self, text):
        if text is not None and self.max_length is not None and len(text) > self.max_length:
            raise self.make_error("too_long", max=self.max_length)
        return text


class Text(Cell):
    """Trimmed half-width text."""


class Name(Cell):
    """A person's name, without the stray spaces clerks type (``岩 罕`` → ``岩罕``)."""

    def _deserialize(self, value, attr, data, **kwargs):
        return self._check_length(nz.clean_name(value))


class Code(Cell):
    """An identifier: compacted, upper-case; optionally a fixed number of digits."""

    default_error_messages = {"digits": "应为{digits}位数字（现为“{value}”）"}

    def __init__(self, *, digits: int | None = None, **kwargs):
        super().__init__(**kwargs)
        self.digits = digits

    def _deserialize(self, value, attr, data, **kwargs):
        code = nz.clean_code(value)
        if code is not None and self.digits is not None and not (len(code) == self.digits and code.isdigit()):
            raise self.make_error("digits", digits=self.digits, value=code)
        return self._check_length(code)


class IdNumber(Cell):
    """A resident ID number (GB 11643), refused when it comes from a numeric cell.
    """

    default_error_messages = {"numeric": NUMERIC_ID_REASON, "scientific": SCIENTIFIC_ID_REASON}

    def _deserialize(self, value, attr, data, **kwargs):
        if nz.is_number_cell(value):
            raise self.make_error("numeric")
        code = nz.clean_code(value)
        if code is None:
            raise self.make_error("required")
        if _SCIENTIFIC.match(code):
            raise self.make_error("scientific")
        root = self.root
        try:
            return validate_id_number(code, today=getattr(root, "today", None))
        except IdNumberError as exc:
            raise ValidationError(str(exc)) from None


class ClerkDate(Cell):
    """A date in any form clerks type (see :func:`edu_guard.registry.normalize.parse_date`)."""

    def _deserialize(self, value, attr, data, **kwargs):
        try:
            return nz.parse_date(value)
        except nz.NormalizeError as exc:
            raise ValidationError(str(exc)) from None


class YesNo(Cell):
    """是/否 (or the column's own words, e.g. 住校/走读) → ``True``/``False``."""

    def __init__(
        self, *, yes: frozenset[str] = nz.YES, no: frozenset[str] = nz.NO, words: str = "“是”或“否”", **kwargs
    ):
        super().__init__(**kwargs)
        self.yes, self.no, self.words = yes, no, words

    def _deserialize(self, value, attr, data, **kwargs):
        try:
            return nz.parse_yes_no(value, self.yes, self.no)
        except nz.NormalizeError:
            raise ValidationError(f"“{nz.clean_text(value)}”无法识别（应为{self.words}）") from None


class Choice(Cell):
    """One of a fixed list of words; ``aliases`` maps other spellings to them."""

    default_error_messages = {"choice": "“{value}”不是可选值（{choices}）"}

    def __init__(self, choices: tuple[str, ...], *, aliases: dict[str, str] | None = None, **kwargs):
        super().__init__(**kwargs)
        self.choices = choices
        self.aliases = aliases or {}

    def _deserialize(self, value, attr, data, **kwargs):
        text = nz.clean_name(value)
        text = self.aliases.get(text, text)
        if text not in self.choices:
            raise self.make_error("choice", value=nz.clean_text(value), choices="、".join(self.choices))
        return text


class Phone(Cell):
    """A phone number: digits, with ``-`` or a leading ``+`` allowed."""

    _PATTERN = re.compile(r"^\+?\d[\d-]{5,19}$")

    def _deserialize(self, value, attr, data, **kwargs):
        text = nz.clean_code(value)
        if text is not None and not self._PATTERN.match(text):
            raise ValidationError(f"“{nz.clean_text(value)}”不是电话号码")
        return text


class StudentNumber(Cell):
    """全国学籍号: ``G`` + ID number, or ``L``/``J`` + 18 characters (DOMAIN 4)."""

    _PATTERN = re.compile(r"^[GLJ]\d{17}[\dX]$")

    def _deserialize(self, value, attr, data, **kwargs):
        text = nz.clean_code(value)
        if text is not None and not self._PATTERN.match(text):
            raise ValidationError(f"“{nz.clean_text(value)}”格式不正确（应为 G、L 或 J 加18位）")
        return text


#: Words of 家庭类型 columns → (family-status kind, monitored category or None).
FAMILY_WORDS: dict[str, tuple[str, str | None]] = {
    **{kind: (kind, None) for kind in FAMILY_STATUS_KINDS},
    **{category: ("监测户", category) for category in MONITORED_CATEGORIES},
    "脱贫家庭": ("脱贫户", None),
    "建档立卡户": ("脱贫户", None),
    "防止返贫监测对象": ("监测户", None),
    "监测对象": ("监测户", None),
    "低保户": ("低保", None),
    "特困户": ("特困", None),
    "特困供养": ("特困", None),
    "孤儿": ("孤儿", None),
    "事实无人抚养儿童": ("事实无人抚养", None),
    "残疾人家庭": ("残疾", None),
}
#: Words meaning "none of them".
FAMILY_NONE = frozenset({"无", "否", "一般户", "一般", "普通", "非贫困户", "/", "-"})
_FAMILY_SPLIT = re.compile(r"[、,，;；/\s]+")


class FamilyTypes(Cell):
    """家庭类型: one or more of 脱贫户, 监测户 (or its category), 低保, 特困 … → a tuple
    of ``(kind, category)``; 无/一般户 → empty."""

    def _deserialize(self, value, attr, data, **kwargs):
        text = nz.clean_text(value)
        if text is None or text in FAMILY_NONE:
            return ()
        found = []
        for word in filter(None, _FAMILY_SPLIT.split(text)):
            if word in FAMILY_NONE:
                continue
            if word not in FAMILY_WORDS:
                raise ValidationError(f"“{word}”无法识别（可填 脱贫户、监测户、低保、特困、孤儿、事实无人抚养、残疾）")
            if FAMILY_WORDS[word] not in found:
                found.append(FAMILY_WORDS[word])
        return tuple(found)


# --- row schemas --------------------------------------------------------------------


class RowSchema(Schema):
    """Base of the row schemas: unknown keys are errors (the importer passes only the
    schema's own fields), and an option for the 2021 sample files' check digits.

    Row-level checks are plain functions listed in :attr:`cross_checks` (so that
    :class:`RowLoader` runs exactly the same ones); each takes the loaded row and
    returns ``{field: [reason, …]}``.
    """

    #: Functions ``(data) -> {field: [reasons]}`` run once every field is valid.
    cross_checks: tuple = ()

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        #: Births after this day are impossible (read once, not per row).
        self.today = date.today()

    @validates_schema
    def run_cross_checks(self, data, **kwargs):
        """Run :attr:`cross_checks` (skipped by marshmallow when a field failed)."""
        errors: dict[str, list[str]] = {}
        for check in self.cross_checks:
            for key, reasons in check(data).items():
                errors.setdefault(key, []).extend(reasons)
        if errors:
            raise ValidationError(errors)


class SchoolRowSchema(RowSchema):
    """A row of the school list (学校名单): seeds townships and schools."""

    school_code = Code(required=True, digits=10)
    school_name = Text(required=True, max_length=128)
    stage = Choice(
        STAGES, required=True, aliases={"九年制": "九年一贯制", "十二年一贯制": "完全中学", "中等职业学校": "中职"}
    )
    township = Name(required=True, max_length=64)
    county_code = Code(digits=6)


def roster_cross_check(data: dict) -> dict[str, list[str]]:
    """Return the disagreements between a loaded roster row and its ID number.

    :return: field → reasons; empty when the row agrees with itself.
    """
    number = data.get("id_number")
    errors: dict[str, list[str]] = {}
    if not number:
        return errors
    birth = data.get("birth_date")
    if birth is not None and birth != birth_date_from_id(number):
        errors["birth_date"] = [
            f"（{birth.isoformat()}）与身份证件号中的出生日期（{birth_date_from_id(number).isoformat()}）不一致"
        ]
    sex = data.get("sex")
    if sex is not None and sex != sex_from_id(number):
        errors["sex"] = [f"（{sex}）与身份证件号第17位所示性别（{sex_from_id(number)}）不一致"]
    student_number = data.get("student_number")
    if student_number and student_number[0] == "G" and student_number[1:] != number:
        errors["student_number"] = ["（G字头正式学籍号）与身份证件号不一致"]
    if not data.get("school_code") and not data.get("school_name"):
        errors["school_name"] = ["不能为空（学校标识码和学校名称至少填一项）"]
    return errors


class RosterRowSchema(RowSchema):
    """A row of a 学籍花名册 (roster): the child, the guardian and the enrollment.

    Birth date and sex, when given, must agree with the ID number (GB 11643: digits
    7–14 and the parity of digit 17); when blank they are taken from it.
    """

    name = Name(required=True, max_length=64)
    sex = Choice(("男", "女"), aliases={"男性": "男", "女性": "女", "M": "男", "F": "女"})
    birth_date = ClerkDate()
    ethnicity = Name(max_length=16)
    id_type = Choice(
        ("居民身份证",), aliases={"身份证": "居民身份证", "居民身份证号": "居民身份证", "身份证号": "居民身份证"}
    )
    id_number = IdNumber(required=True)
    student_number = StudentNumber()
    school_code = Code(digits=10)
    school_name = Name(max_length=128)
    grade = Name(max_length=16)
    class_name = Name(max_length=16)
    boarding = YesNo(yes=nz.BOARDING_YES, no=nz.BOARDING_NO, words="住校/走读或是/否")
    hukou = Text(max_length=128)
    #: 家庭住址: the child's and (for a new guardian) the guardian's address, printed as
    #: the party's address on the penalty letters (行政处罚法 Art. 59 (一)).
    address = Text(max_length=255)
    township = Name(max_length=64)
    village = Name(max_length=64)
    family_type = FamilyTypes()
    disabled = YesNo()
    guardian_name = Name(max_length=64)
    guardian_phone = Phone()
    guardian_relation = Name(max_length=16)

    cross_checks = (roster_cross_check,)


#: Other words for the kinds of status changes.
CHANGE_KIND_ALIASES = {"转学": "转出", "转学转出": "转出", "死亡": "死亡注销", "注销": "死亡注销", "休学申请": "休学"}


class StatusChangeRowSchema(RowSchema):
    """A row of the 学籍变动 list: 转出, 休学, 复学, 死亡注销 … with its date."""

    id_number = IdNumber(required=True)
    name = Name(required=True, max_length=64)
    change_kind = Choice(STATUS_CHANGE_KINDS, required=True, aliases=CHANGE_KIND_ALIASES)
    changed_on = ClerkDate(required=True)
    from_school = Name(max_length=128)
    to_school = Name(max_length=128)
    reason = Text(max_length=255)


class FamilyRowSchema(RowSchema):
    """A member row of the monitoring-household list (脱贫户 and 防止返贫监测对象).

    Household heads are listed without an ID number; family statuses are keyed by
    ID number, so such a row is refused with :data:`HEAD_WITHOUT_ID_REASON`.
    """

    household_code = Code(max_length=32)
    head_name = Name(max_length=64)
    name = Name(required=True, max_length=64)
    relation_to_head = Name(max_length=16)
    id_number = IdNumber(required=True)
    category = Choice(
        ("脱贫户",) + MONITORED_CATEGORIES, required=True, aliases={"脱贫家庭": "脱贫户", "建档立卡户": "脱贫户"}
    )
    risk_type = Name(max_length=32)
    risk_removed = YesNo()
    township = Name(max_length=64)
    village = Name(max_length=64)


#: Reason given for a household head's row, which has no ID number.
HEAD_WITHOUT_ID_REASON = (
    "为空（户主行）：家庭类型按身份证件号登记，户主未填证件号码，此行不导入；户内学生按各自的成员行登记"
)

#: Disability categories by the category digit of a 残疾人证号 (GB/T 26341).
DISABILITY_CATEGORIES = {"1": "视力", "2": "听力", "3": "言语", "4": "肢体", "5": "智力", "6": "精神", "7": "多重"}
_LEVEL = re.compile(r"^(?:([1-4])|([一二三四]))级?$")


def parse_certificate(cert: str) -> tuple[str, int] | None:
    """Return (category, level) from a 20-character 残疾人证号, or ``None`` if invalid.

    Digit 19 is the category (1 视力 … 7 多重), digit 20 the level (1 most severe … 4).
    """
    if len(cert) != 20:
        return None
    category, level = DISABILITY_CATEGORIES.get(cert[18]), cert[19]
    if category is None or level not in "1234":
        return None
    return category, int(level)


def disability_cross_check(data: dict) -> dict[str, list[str]]:
    """Return the disagreements between a disability row and its certificate number.

    :return: field → reasons; empty when the row agrees with itself.
    """
    number, cert = data.get("id_number"), data.get("certificate_number")
    if not number or not cert:
        return {}
    if len(cert) != 20 or cert[:18] != number:
        return {"certificate_number": [f"（{cert}）应为身份证件号加2位数字（残疾类别、等级）"]}
    parsed = parse_certificate(cert)
    if parsed is None:
        return {"certificate_number": [f"末2位（{cert[18:]}）不是有效的残疾类别（1–7）和等级（1–4）"]}
    category, level = parsed
    errors: dict[str, list[str]] = {}
    given = data.get("disability_category")
    if given and given.removesuffix("残疾") != category:
        errors["disability_category"] = [f"（{given}）与残疾人证号第19位所示类别（{category}）不一致"]
    given_level = data.get("disability_level")
    if given_level:
        match = _LEVEL.match(given_level)
        value = match and (match.group(1) or str("一二三四".index(match.group(2)) + 1))
        if value != str(level):
            errors["disability_level"] = [f"（{given_level}）与残疾人证号第20位所示等级（{level}级）不一致"]
    return errors


class DisabilityRowSchema(RowSchema):
    """A row of the disabled persons' federation list of children with a certificate.

    残疾人证号 = ID number + category digit (1–7) + level digit (1–4); category and
    level are taken from it and must agree with the 残疾类别/残疾等级 columns.
    """

    name = Name(required=True, max_length=64)
    id_number = IdNumber(required=True)
    certificate_number = Code(required=True, max_length=20)
    disability_category = Name(max_length=8)
    disability_level = Name(max_length=8)
    township = Name(max_length=64)
    village = Name(max_length=64)
    can_attend_school = YesNo(words="“能”或“否”")

    cross_checks = (disability_cross_check,)


# --- loading many rows --------------------------------------------------------------


class RowLoader:
    """Load rows through a row schema, fast enough for a 100,000-row roster.

    Gives the same result as ``schema.load(raw)`` (the tests check this on the sample
    files) but calls each field's ``deserialize`` once per distinct value of the
    fields in ``memoise`` (grades, schools, villages repeat thousands of times) and
    skips marshmallow's per-call set-up. Supports what the row schemas use: fields
    with ``required``/``load_default`` and the schema's :attr:`RowSchema.cross_checks`
    (run only when every field is valid, like ``validates_schema``).

    :param schema: a :class:`RowSchema` instance.
    :param memoise: names of the fields whose results are cached by value.
    """

    def __init__(self, schema: RowSchema, memoise: frozenset[str] | set[str] = frozenset()) -> None:
        self.schema = schema
        self.fields = dict(schema.load_fields)
        self.required = [name for name, f in self.fields.items() if f.required]
        self.defaults = {name: f.load_default for name, f in self.fields.items() if not f.required}
        self.memo: dict[str, dict] = {name: {} for name in self.fields if name in memoise}
        self.cross_checks = schema.cross_checks
        # A field without validators or pre/post-load functions is just its
        # ``_deserialize`` for a value that is present and not None (blank cells are
        # left out of ``raw``): call that directly, skipping the checks that cannot fire.
        self.plain = {name for name, f in self.fields.items() if not (f.validators or f.pre_load or f.post_load)}

    def load(self, raw: dict[str, Any]) -> dict[str, Any]:
        """Return the loaded row.

        :param raw: ``{field: cell value}`` with blank cells left out.
        :raises ValidationError: with ``messages`` = ``{field: [reason, …]}``.
        """
        data = dict(self.defaults)
        errors: dict[str, list[str]] = {}
        fields_ = self.fields
        memo = self.memo
        plain = self.plain
        for name, value in raw.items():
            cache = memo.get(name)
            if cache is not None:
                # text cells are keyed by themselves; others by type too (1.0 == 1 == True)
                key = value if value.__class__ is str else (value.__class__, value)
                hit = cache.get(key)
                if hit is None:
                    hit = cache[key] = self._one(fields_[name], name, value, raw)
            elif name in plain:
                try:
                    hit = (True, fields_[name]._deserialize(value, name, raw))
                except ValidationError as exc:
                    hit = (False, self._messages(exc))
            else:
                hit = self._one(fields_[name], name, value, raw)
            if hit[0]:
                data[name] = hit[1]
            else:
                errors[name] = hit[1]
        for name in self.required:
            if name not in raw:
                errors[name] = [fields_[name].error_messages["required"]]
        if not errors:
            for check in self.cross_checks:
                for key, reasons in check(data).items():
                    errors.setdefault(key, []).extend(reasons)
        if errors:
            raise ValidationError(errors, data=data)
        return data

    @classmethod
    def _one(cls, f: fields.Field, name: str, value: Any, raw: dict) -> tuple[bool, Any]:
        try:
            return True, f.deserialize(value, name, raw)
        except ValidationError as exc:
            return False, cls._messages(exc)

    @staticmethod
    def _messages(exc: ValidationError) -> list[str]:
        messages = exc.messages
        return list(messages) if isinstance(messages, list) else [str(messages)]
