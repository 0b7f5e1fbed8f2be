"""marshmallow schemas for the rows of import files, and the resident-ID check.

Each schema loads one row given as ``{canonical field: cell value}`` (blank cells left
out) and returns clean, typed values; a :class:`marshmallow.ValidationError` carries,
per field, a reason for the clerk in Chinese. The reason is written to follow the
column's name: the importer prefixes the file's header (``身份证件号`` + ``校验位错误…``).

Cells keep their spreadsheet type up to here: the :class:`IdNumber` field refuses an
ID number that comes from a numeric cell, whatever its digits (Excel keeps 15
significant digits, so the last ones are already lost).

Document numbers (居民身份证, 港澳台居民居住证, 外国人永久居留身份证) are checked by
:mod:`edu_guard.registry.identity`, the one place of those rules.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from marshmallow import Schema, ValidationError, fields, validates_schema

from edu_guard import clock
from edu_guard.i18n import N_, Message, message_of
from edu_guard.messages import Template
from edu_guard.registry import identity
from edu_guard.registry import normalize as nz
from edu_guard.registry.models import FAMILY_STATUS_KINDS, MONITORED_CATEGORIES, STATUS_CHANGE_KINDS

#: Reason for an ID number typed into a numeric cell (follows the column's name).
NUMERIC_ID_REASON = N_("为数值格式，末几位已丢失，无法信任；请将该列设置为文本格式后重新录入")
#: Reason for an ID number shown in scientific notation in a CSV (saved from a numeric cell).
SCIENTIFIC_ID_REASON = N_("为科学计数法（如 5.32801E+17），是从数值格式单元格导出的，末几位已丢失；"
                          "请在 Excel 中将该列设置为文本格式、重新录入后再导出")
_SCIENTIFIC = re.compile(r"^\d(?:\.\d+)?E\+?\d+$")
#: The same for a long code column (户编号, 学籍号, 残疾人证号, account numbers).
SCIENTIFIC_CODE_REASON = N_("为科学计数法，是从数值格式单元格导出的，末几位已丢失；请将该列设置为文本格式、重新录入后再导出")

#: 学段 (school stages) accepted in the school list.
STAGES = ("学前", "小学", "初中", "九年一贯制", "完全中学", "高中", "中职", "特殊教育")


# --- identity documents (the rules are in edu_guard.registry.identity) ---------------

IdNumberError = identity.IdNumberError


def validate_id_number(value: str, *, today: date | None = None) -> str:
    """Return a 公民身份号码 (居民身份证 or 港澳台居民居住证) in its canonical form.

    :param value: the number as typed; normalised with :func:`identity.normalize_id`.
    :param today: births after this day are impossible (default: today).
    :raises IdNumberError: with a reason that follows the column's name.
    """
    return identity.validate_resident(identity.normalize_id(value), today or clock.today())


def sex_from_id(number: str) -> str:
    """Return 男 or 女 from the 17th digit of an ID number (GB 11643: odd for men)."""
    return identity.sex_from_number(number)


def birth_date_from_id(number: str) -> date:
    """Return the birth date encoded in a valid 18-character number (digits 7–14).

    :raises IdNumberError: when the number carries no birth date that exists.
    """
    birth = identity.birth_date_from_number(number)
    if birth is None:
        raise IdNumberError(Message("号码（%(number)s）中没有可用的出生日期", number=number))
    return birth


# --- fields -------------------------------------------------------------------------


class Invalid(ValidationError):
    """marshmallow's error for one reason that is a :class:`~edu_guard.i18n.Message`
    (marshmallow lists only ``str`` messages itself): ``messages`` is ``[reason]``."""

    def __init__(self, message, *args, **kwargs):
        super().__init__([message] if isinstance(message, Message) else message, *args, **kwargs)


class Cell(fields.Field):
    """A spreadsheet cell. Blank cells are left out of the row, so ``required`` means
    "not blank"; reasons follow the column's name and are kept translatable
    (:class:`~edu_guard.messages.Template` for marshmallow's ``make_error``,
    :class:`~edu_guard.i18n.Message` when raised here)."""

    default_error_messages = {
        "required": Template(N_("不能为空")),
        "null": Template(N_("不能为空")),
        "invalid": Template(N_("格式不正确")),
        "too_long": Template(N_("过长（最多%(max)s个字符）")),
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


class PersonName(Name):
    """A person's name: as :class:`Name`, with every 间隔号 look-alike as ``·``."""

    def _deserialize(self, value, attr, data, **kwargs):
        return self._check_length(nz.clean_person_name(value))


class Code(Cell):
    """An identifier: compacted, upper-case; optionally a fixed number of digits."""

    default_error_messages = {"digits": Template(N_("应为%(digits)s位数字（现为“%(value)s”）"))}

    def __init__(self, *, digits: int | None = None, **kwargs):
        super().__init__(**kwargs)
        self.digits = digits

    def _deserialize(self, value, attr, data, **kwargs):
        if nz.is_number_cell(value) and nz.integer_digits(value) > 15:
            raise Invalid(Message(NUMERIC_CODE_REASON))
        code = nz.clean_code(value)
        if code is not None and _SCIENTIFIC.match(code) and int(code.split("E")[1]) >= 15:
            raise Invalid(Message(SCIENTIFIC_CODE_REASON))
        if code is not None and self.digits is not None and not (len(code) == self.digits and code.isdigit()):
            raise self.make_error("digits", digits=self.digits, value=code)
        return self._check_length(code)


class IdNumber(Cell):
    """A document number (身份证件号), refused when it comes from a numeric cell.

    The 证件类型 of the row (its ``id_type`` cell), when given, is checked against the
    number's form (:func:`edu_guard.registry.identity.validate_document`).
    """

    default_error_messages = {"numeric": Template(NUMERIC_ID_REASON), "scientific": Template(SCIENTIFIC_ID_REASON)}

    def _deserialize(self, value, attr, data, **kwargs):
        if nz.is_number_cell(value):
            raise self.make_error("numeric")
        code = identity.normalize_id(nz.clean_text(value))
        if not code:
            raise self.make_error("required")
        if _SCIENTIFIC.match(code):
            raise self.make_error("scientific")
        try:
            declared = identity.document_type(data.get("id_type")) if data else None
        except IdNumberError:
            declared = None  # the 证件类型 column reports it
        try:
            return identity.validate_document(code, declared, today=getattr(self, "today", None))[1]
        except IdNumberError as exc:
            raise Invalid(message_of(exc)) from None


class DocumentType(Cell):
    """证件类型: one of :data:`edu_guard.registry.identity.DOCUMENT_TYPES` (or a usual
    other name of one)."""

    def _deserialize(self, value, attr, data, **kwargs):
        try:
            return identity.document_type(nz.clean_text(value))
        except IdNumberError as exc:
            raise Invalid(message_of(exc)) from None


#: Reason for a long code (户编号, 残疾人证号, account number …) typed into a numeric cell.
NUMERIC_CODE_REASON = N_("为超过15位的数值，Excel 只保留15位有效数字，末几位已丢失；请将该列设置为文本格式后重新录入")


class ClerkDate(Cell):
    """A date in any form clerks type (see :func:`edu_guard.registry.normalize.parse_date`)."""

    def _deserialize(self, value, attr, data, **kwargs):
        try:
            return nz.parse_date(value, date1904=getattr(self, "date1904", False))
        except nz.NormalizeError as exc:
            raise Invalid(message_of(exc)) from None


class YearMonth(Cell):
    """出生年月: a year and month (``2010.01``, ``2010-01``, ``201001``, ``2010年1月``) →
    ``(year, month)``, or a full date (see :func:`edu_guard.registry.normalize.parse_year_month`)."""

    def _deserialize(self, value, attr, data, **kwargs):
        try:
            return nz.parse_year_month(value, date1904=getattr(self, "date1904", False))
        except nz.NormalizeError as exc:
            raise Invalid(message_of(exc)) from None


class YesNo(Cell):
    """是/否 (or the column's own words, e.g. 住校/走读) → ``True``/``False``."""

    def __init__(
        self, *, yes: frozenset[str] = nz.YES, no: frozenset[str] = nz.NO, words: str = N_("“是”或“否”"), **kwargs
    ):
        super().__init__(**kwargs)
        self.yes, self.no, self.words = yes, no, words

    def _deserialize(self, value, attr, data, **kwargs):
        try:
            return nz.parse_yes_no(value, self.yes, self.no)
        except nz.NormalizeError:
            raise Invalid(Message("“%(value)s”无法识别（应为%(words)s）", value=nz.clean_text(value),
                                          words=Message(self.words))) from None


class Choice(Cell):
    """One of a fixed list of words; ``aliases`` maps other spellings to them."""

    default_error_messages = {"choice": Template(N_("“%(value)s”不是可选值（%(choices)s）"))}

    def __init__(self, choices: tuple[str, ...], *, aliases: dict[str, str] | None = None, **kwargs):
        super().__init__(**kwargs)
        self.choices = choices
        self.aliases = aliases or {}

    def _deserialize(self, value, attr, data, **kwargs):
        text = nz.clean_name(value)
        text = self.aliases.get(text, text)
        if text not in self.choices:
            raise self.make_error("choice", value=nz.clean_text(value),
                                  choices=Message.join([Message(c) for c in self.choices], "、"))
        return text


class Phone(Cell):
    """A phone number: digits, with ``-`` or a leading ``+`` allowed."""

    _PATTERN = re.compile(r"^\+?\d[\d-]{5,19}$")

    def _deserialize(self, value, attr, data, **kwargs):
        text = nz.clean_code(value)
        if text is not None and not self._PATTERN.match(text):
            raise Invalid(Message("“%(value)s”不是电话号码", value=nz.clean_text(value)))
        return text


class StudentNumber(Cell):
    """全国学籍号: ``G`` + ID number, or ``L``/``J`` + 18 characters (docs/domain.md §4)."""

    _PATTERN = re.compile(r"^[GLJ]\d{17}[\dX]$")

    def _deserialize(self, value, attr, data, **kwargs):
        if nz.is_number_cell(value) and nz.integer_digits(value) > 15:
            raise Invalid(Message(NUMERIC_CODE_REASON))
        text = nz.clean_code(value)
        if text is not None and not self._PATTERN.match(text):
            raise Invalid(Message("“%(value)s”格式不正确（应为 G、L 或 J 加18位）", value=nz.clean_text(value)))
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
                raise Invalid(Message("“%(value)s”无法识别（可填 脱贫户、监测户、低保、特困、孤儿、事实无人抚养、残疾）",
                                              value=word))
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

    #: Functions ``(data, raw) -> {field: [reasons]}`` run on the fields that loaded
    #: (``raw``: the row's cells by field).
    cross_checks: tuple = ()

    def __init__(self, *, date1904: bool = False, **kwargs):
        super().__init__(**kwargs)
        #: Read by :class:`ClerkDate`: the workbook counts serial numbers from 1904.
        self.date1904 = date1904
        #: Births after this day are impossible (read once, not per row).
        self.today = clock.today()
        for bound in self.load_fields.values():  # given to the fields once (``root`` is slow per cell)
            bound.date1904, bound.today = self.date1904, self.today

    @validates_schema(skip_on_field_errors=False, pass_original=True)
    def run_cross_checks(self, data, original_data, **kwargs):
        """Run :attr:`cross_checks` on the fields that loaded, also when others failed
        (a rejected row lists every error it has)."""
        errors: dict[str, list[str]] = {}
        for check in self.cross_checks:
            for key, reasons in check(data, original_data).items():
                if key in data or key not in original_data:  # a field that failed has said why
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


def roster_cross_check(data: dict, raw: dict) -> dict[str, list[str]]:
    """Return the disagreements between a loaded roster row and its document number.

    Birth date (or 出生年月) and sex must agree with the number; a row without a
    number must be a pupil with no document (证件类型 无证件, or an ``L``/``J`` 学籍号)
    and then needs its own sex, birth date and 学籍号. A ``G`` 学籍号 that differs from
    the number is not an error here (the importer keeps both with a warning).

    :return: field → reasons; empty when the row agrees with itself.
    """
    number = data.get("id_number")
    errors: dict[str, list[str]] = {}
    if not data.get("school_code") and not data.get("school_name"):
        errors["school_name"] = [Message("不能为空（学校标识码和学校名称至少填一项）")]
    if not number:
        if raw.get("id_number") is not None:  # given but invalid: the field said why
            return errors
        student_number = data.get("student_number")
        declared = data.get("id_type")
        no_document = declared == identity.NO_DOCUMENT or (
            declared is None and student_number is not None and student_number[0] in "LJ"
        )
        if not no_document:
            errors["id_number"] = [
                Message("不能为空") if declared
                else Message("不能为空（无证件的学生请在证件类型填“无证件”，或填写L、J字头的临时学籍号）")
            ]
            return errors
        if not student_number:
            errors["student_number"] = [Message("不能为空（无证件号码的学生以全国学籍号登记）")]
        if no_document:
            for key, label in (("sex", N_("性别")), ("birth_date", N_("出生日期"))):
                if not data.get(key):
                    errors.setdefault(key, []).append(
                        Message("不能为空（无证件号码时，%(label)s无法从号码得出）", label=Message(label)))
        return errors
    birth = identity.birth_date_from_number(number)
    given = data.get("birth_date")
    if birth is None:  # a 2017 永居证: 6-digit birth date, so the columns are needed
        for key in ("sex", "birth_date"):
            if not data.get(key):
                errors.setdefault(key, []).append(Message("不能为空（2017版外国人永久居留身份证号码不含完整出生日期和性别）"))
        return errors
    if given is not None and given != birth:
        errors["birth_date"] = [Message("（%(given)s）与身份证件号中的出生日期（%(birth)s）不一致",
                                        given=given.isoformat(), birth=birth.isoformat())]
    month = data.get("birth_month")
    if isinstance(month, tuple) and month != (birth.year, birth.month):
        errors["birth_month"] = [Message("（%(year)s年%(month)s月）与身份证件号中的出生年月（%(birth_year)s年%(birth_month)s月）不一致",
                                         year=month[0], month=month[1], birth_year=birth.year, birth_month=birth.month)]
    elif isinstance(month, date) and (month.year, month.month) != (birth.year, birth.month):
        errors["birth_month"] = [Message("（%(given)s）与身份证件号中的出生年月（%(birth_year)s年%(birth_month)s月）不一致",
                                         given=month.isoformat(), birth_year=birth.year, birth_month=birth.month)]
    sex = data.get("sex")
    if sex is not None and sex != identity.sex_from_number(number):
        errors["sex"] = [Message("（%(given)s）与身份证件号第17位所示性别（%(sex)s）不一致",
                                 given=Message(sex), sex=Message(identity.sex_from_number(number)))]
    return errors


class RosterRowSchema(RowSchema):
    """A row of a 学籍花名册 (roster): the child, the guardian and the enrollment.

    Birth date (or 出生年月) and sex, when given, must agree with the document number
    (digits 7–14 and the parity of digit 17); when blank they are taken from it. A
    pupil with no document is registered by the 学籍号 (see :func:`roster_cross_check`).
    """

    name = PersonName(required=True, max_length=64)
    sex = Choice(("男", "女"), aliases={"男性": "男", "女性": "女", "M": "男", "F": "女"})
    birth_date = ClerkDate()
    birth_month = YearMonth()
    ethnicity = Name(max_length=16)
    id_type = DocumentType()
    id_number = IdNumber()
    student_number = StudentNumber()
    school_code = Code(digits=10)
    school_name = Name(max_length=128)
    grade = Name(max_length=16)
    class_name = Name(max_length=16)
    boarding = YesNo(yes=nz.BOARDING_YES, no=nz.BOARDING_NO, words=N_("住校/走读或是/否"))
    hukou = Text(max_length=128)
    #: 家庭住址: the child's and (for a new guardian) the guardian's address, printed as
    #: the party's address on the penalty letters (行政处罚法 Art. 59 (一)).
    address = Text(max_length=255)
    township = Name(max_length=64)
    village = Name(max_length=64)
    family_type = FamilyTypes()
    disabled = YesNo()
    guardian_name = PersonName(max_length=64)
    guardian_phone = Phone()
    guardian_relation = Name(max_length=16)

    cross_checks = (roster_cross_check,)


#: Other words for the kinds of status changes.
CHANGE_KIND_ALIASES = {"转学": "转出", "转学转出": "转出", "死亡": "死亡注销", "注销": "死亡注销", "休学申请": "休学"}


class StatusChangeRowSchema(RowSchema):
    """A row of the 学籍变动 list: 转出, 休学, 复学, 死亡注销 … with its date."""

    id_number = IdNumber(required=True)
    name = PersonName(required=True, max_length=64)
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
    head_name = PersonName(max_length=64)
    name = PersonName(required=True, max_length=64)
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
HEAD_WITHOUT_ID_REASON = N_(
    "为空（户主行）：家庭类型按身份证件号登记，户主未填证件号码，此行不导入；户内学生按各自的成员行登记"
)

#: Disability categories by the category digit of a 残疾人证号 (GB/T 26341).
DISABILITY_CATEGORIES = {"1": N_("视力"), "2": N_("听力"), "3": N_("言语"), "4": N_("肢体"), "5": N_("智力"),
                         "6": N_("精神"), "7": N_("多重")}
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


def disability_cross_check(data: dict, raw: dict) -> dict[str, list[str]]:
    """Return the disagreements between a disability row and its certificate number.

    :return: field → reasons; empty when the row agrees with itself.
    """
    number, cert = data.get("id_number"), data.get("certificate_number")
    if not number or not cert:
        return {}
    if len(cert) != 20 or cert[:18] != number:
        return {"certificate_number": [Message("（%(value)s）应为身份证件号加2位数字（残疾类别、等级）", value=cert)]}
    parsed = parse_certificate(cert)
    if parsed is None:
        return {"certificate_number": [Message("末2位（%(digits)s）不是有效的残疾类别（1–7）和等级（1–4）", digits=cert[18:])]}
    category, level = parsed
    errors: dict[str, list[str]] = {}
    given = data.get("disability_category")
    if given and given.removesuffix("残疾") != category:
        errors["disability_category"] = [Message("（%(given)s）与残疾人证号第19位所示类别（%(category)s）不一致",
                                                 given=given, category=Message(category))]
    given_level = data.get("disability_level")
    if given_level:
        match = _LEVEL.match(given_level)
        value = match and (match.group(1) or str("一二三四".index(match.group(2)) + 1))
        if value != str(level):
            errors["disability_level"] = [Message("（%(given)s）与残疾人证号第20位所示等级（%(level)s级）不一致",
                                                  given=given_level, level=level)]
    return errors


class DisabilityRowSchema(RowSchema):
    """A row of the disabled persons' federation list of children with a certificate.

    残疾人证号 = ID number + category digit (1–7) + level digit (1–4); category and
    level are taken from it and must agree with the 残疾类别/残疾等级 columns.
    """

    name = PersonName(required=True, max_length=64)
    id_number = IdNumber(required=True)
    certificate_number = Code(required=True, max_length=20)
    disability_category = Name(max_length=8)
    disability_level = Name(max_length=8)
    township = Name(max_length=64)
    village = Name(max_length=64)
    can_attend_school = YesNo(words=N_("“能”或“否”"))

    cross_checks = (disability_cross_check,)


# --- loading many rows --------------------------------------------------------------


class RowLoader:
    """Load rows through a row schema, fast enough for a 100,000-row roster.

    Gives the same result as ``schema.load(raw)`` (the tests check this on the sample
    files) but calls each field's ``deserialize`` once per distinct value of the
    fields in ``memoise`` (grades, schools, villages repeat thousands of times) and
    skips marshmallow's per-call set-up. Supports what the row schemas use: fields
    with ``required``/``load_default`` and the schema's :attr:`RowSchema.cross_checks`
    (run on the fields that loaded, also when others failed).

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
                errors[name] = [nz.as_message(fields_[name].error_messages["required"])]
        for check in self.cross_checks:
            for key, reasons in check(data, raw).items():
                if key not in errors:  # a field that failed has said why
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
        return [nz.as_message(m) for m in messages] if isinstance(messages, list) else [nz.as_message(messages)]
