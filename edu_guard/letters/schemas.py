"""The letter kinds and the marshmallow schemas of their contexts (docs/architecture.md).

A letter's template gets only plain data: the context is *loaded* with the kind's
schema (which checks that every field the template uses is there and well-formed) and
*dumped* back to JSON-ready data (dates as ISO strings, yuan as decimal strings). That
dumped data is what :class:`edu_guard.letters.models.Letter` stores in ``context`` and
what the templates render, so a stored letter can always be printed again.

Dates in a context are calendar dates; amounts are yuan as :class:`~decimal.Decimal`
with two places (rounded half up). Periods of 2, 3, 5 and 7 days in 行政处罚法 are
working days (行政处罚法 Art. 85); the templates print the day counts the county
configures.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Callable, Mapping

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from edu_guard.i18n import Message, N_


class LetterError(Exception):
    """Base of every error the letters package reports to a user (in Chinese)."""


class ContextError(LetterError):
    """A letter's context is incomplete or invalid; nothing was numbered or printed.

    :ivar kind: the letter kind.
    :ivar messages: marshmallow's messages (field path → list of messages).
    """

    def __init__(self, kind: str, messages: Any, label: str | None = None):
        self.kind = kind
        self.messages = messages
        lines = [Message("%(path)s：%(problem)s", path=path, problem=msg) for path, msg in _flatten(messages)]
        known = all_kinds()
        who = label or (known[kind].name if kind in known else kind)
        super().__init__(Message("《%(kind_name)s》的内容不完整或有误：\n%(problems)s", kind_name=who,
                                 problems=Message.join(lines, "\n")))


_MESSAGES_ZH = {
    "Missing data for required field.": N_("缺少必填项"),
    "Unknown field.": N_("不认识的字段"),
    "Not a valid date.": N_("不是有效日期"),
    "Not a valid string.": N_("应为文字"),
    "Not a valid integer.": N_("应为整数"),
    "Not a valid number.": N_("应为数字"),
    "Not a valid boolean.": N_("应为是/否"),
    "Field may not be null.": N_("不能为空"),
    "Shorter than minimum length 1.": N_("不能为空"),
}


def _problem(value: Any) -> "Message | str":
    """One of marshmallow's messages as a page shows it: ours (a Message) as it is, its
    own English sentences in Chinese (:data:`_MESSAGES_ZH`), then in the reader's language."""
    if isinstance(value, Message):
        return value
    zh = _MESSAGES_ZH.get(str(value))
    return Message(zh) if zh else str(value)


def _flatten(messages: Any, prefix: str = "") -> list[tuple[str, "Message | str"]]:
    out: list[tuple[str, str]] = []
    if isinstance(messages, Mapping):
        for key, value in messages.items():
            path = f"{prefix}.{key}" if prefix else str(key)
            out.extend(_flatten(value, path))
    elif isinstance(messages, (list, tuple)):
        for value in messages:
            if isinstance(value, (Mapping, list, tuple)):
                out.extend(_flatten(value, prefix))
            else:
                out.append((prefix or Message("内容"), _problem(value)))
    else:
        out.append((prefix or Message("内容"), _problem(messages)))
    return out


class Text(fields.String):
    """A string with surrounding white space removed; empty means missing."""

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs).strip()
        if not text and self.required:
            raise ValidationError("Missing data for required field.")
        return text or None

    def _validate(self, value):
        # An optional field left empty ("" from a form) is missing: its length or
        # choice is not checked (a required one was refused above).
        if value is not None:
            super()._validate(value)


def _req(max_len: int = 255) -> Text:
    return Text(required=True, validate=validate.Length(max=max_len))


def _opt(max_len: int = 255) -> Text:
    return Text(load_default=None, allow_none=True, validate=validate.Length(max=max_len))


def _yuan(**kw) -> fields.Decimal:
    """Yuan as a Decimal with two places, rounded half up; dumped as a string."""
    return fields.Decimal(places=2, rounding=ROUND_HALF_UP, as_string=True, **kw)


def _days(**kw) -> fields.Integer:
    return fields.Integer(strict=False, validate=validate.Range(min=1, max=366), **kw)


class PersonSchema(Schema):
    """A person named in a letter: a guardian (当事人), a respondent."""

    name = _req(64)
    sex = Text(load_default=None, allow_none=True, validate=validate.OneOf(["男", "女"]))
    #: Relation to the child (父亲, 母亲, 祖父 …).
    relation = _opt(16)
    phone = _opt(32)
    address = _opt()
    birth_date = fields.Date(load_default=None, allow_none=True)
    #: Resident ID number (printed only where a letter identifies the party by it).
    id_number = _opt(18)


class PartySchema(PersonSchema):
    """The party (当事人) of a penalty or enforcement letter: name and address are
    mandatory (行政处罚法 Art. 59 (一); the place of service)."""

    address = Text(required=True, validate=validate.Length(max=255))


class RespondentSchema(PartySchema):
    """The respondent (被申请人) of a court application: identified by name, resident ID
    number and address (行政强制法 Art. 55; 最高人民法院 on non-litigation enforcement)."""

    id_number = Text(required=True, validate=validate.Length(min=15, max=18))


class ChildSchema(Schema):
    """A child of compulsory-school age named in a letter."""

    name = _req(64)
    sex = Text(required=True, validate=validate.OneOf(["男", "女"]))
    birth_date = fields.Date(load_default=None, allow_none=True)
    #: The resident ID number as it is to be printed (masked unless asked otherwise).
    id_number = _opt(18)
    school = _opt(128)
    grade = _opt(16)
    guardian = _opt(64)
    guardian_phone = _opt(32)
    address = _opt()
    #: The date the child stopped attending (or should have enrolled).
    out_since = fields.Date(load_default=None, allow_none=True)
    reason = _opt(64)


class DocRefSchema(Schema):
    """An earlier document a letter refers to (its number and service)."""

    title = _opt(64)
    doc_number = _req(64)
    issuer_name = _opt(128)
    issued_on = fields.Date(load_default=None, allow_none=True)
    served_on = fields.Date(load_default=None, allow_none=True)
    #: The deadline the document set (责令限期改正: the return date).
    deadline = fields.Date(load_default=None, allow_none=True)
    #: How it was served, and for 公告送达 the day it counts as served.
    service_manner = _opt(16)
    deemed_on = fields.Date(load_default=None, allow_none=True)


class ServedDocRefSchema(DocRefSchema):
    """An earlier document that must have been served (送达) already."""

    served_on = fields.Date(required=True)


class ApplicantSchema(Schema):
    """The applicant of an enforcement application (the education authority)."""

    name = _req(128)
    address = _opt()
    #: The head of the authority who signs the application (行政强制法 Art. 55).
    representative = _req(64)
    representative_title = Text(load_default="局长", validate=validate.Length(max=32))


class _ContactMixin(Schema):
    contact_person = _opt(64)
    contact_phone = _opt(32)
    contact_address = _opt()


class LetterMetaSchema(Schema):
    """What the letter itself adds to a context: its number, issuer, date and title."""

    kind = _req(32)
    doc_number = _req(64)
    issuer_name = _req(128)
    issued_on = fields.Date(required=True)
    title = _req(255)
    recipient = _req(255)
    #: A preview only (never stored): what the printed letter will say about itself —
    #: not yet numbered, and its dates that rest on an estimated holiday calendar (估算).
    preview_notes = fields.List(Text(), load_default=None, allow_none=True)


class UnnumberedMetaSchema(LetterMetaSchema):
    """The meta of a printable that is not an official letter (a record, an
    agreement, a log): it carries no document number (GB/T 9704 7.2.4 applies to
    公文 only)."""

    doc_number = _opt(64)


class ReturnContactSchema(_ContactMixin):
    """劝返联系函: the bureau asks a township government to bring children back.

    Basis: 义务教育法 Art. 13 (the township government organises enrolment and
    prevents dropout) and Art. 5 (guardians' duty).
    """

    #: The township government addressed (主送机关), e.g. ``嘎洒镇人民政府``.
    recipient = _req(128)
    township = _req(64)
    children = fields.List(fields.Nested(ChildSchema), required=True, validate=validate.Length(min=1))
    #: Reply in writing by this date.
    reply_by = fields.Date(required=True)
    #: The bureau, not the recipient, issues the orders (a 街道办事处 has no power under
    #: 义务教育法 Art. 58): the letter asks to be told instead of asking for an order.
    orders_by_bureau = fields.Boolean(load_default=False)
    #: How the children were found (数据比对, 学校报告 …), printed in the first sentence.
    source = Text(load_default="控辍保学数据比对和学校核查", validate=validate.Length(max=64))


class OrderToCorrectSchema(_ContactMixin):
    """责令限期改正通知书: the township government orders the guardian to send the
    child back to school by a date (义务教育法 Art. 5, 58; 未成年人保护法 Art. 16, 17)."""

    guardian = fields.Nested(PersonSchema, required=True)
    child = fields.Nested(ChildSchema, required=True)
    #: The school the child must return to.
    school = _req(128)
    #: The return period in working days counted from service (义务教育法 Art. 58
    #: 限期; 行政处罚法 Art. 85), printed as "自收到本通知书之日起N个工作日内" …
    period_days = fields.Integer(load_default=None, allow_none=True, validate=validate.Range(min=1))
    #: … or a fixed return date, when no period is given.
    deadline = fields.Date(load_default=None, allow_none=True)
    #: Persuasion visits already made (家访、劝返 person-times), printed when > 0.
    visits = fields.Integer(load_default=0, validate=validate.Range(min=0))
    #: Persuasion by phone, WeChat or video (not in person), printed as such.
    contacts = fields.Integer(load_default=0, validate=validate.Range(min=0))
    #: The county education authority that imposes a penalty if the order is ignored.
    authority = _req(128)
    #: The county's penalty basis; when the county has set none the letter only says
    #: the guardian will be dealt with according to law.
    penalty_basis = _opt(128)
    #: The remedies against the order (行政复议法 Art. 20, 24; 行政诉讼法 Art. 18, 46).
    review_authority = _req(128)
    review_days = _days(required=True)
    court = _req(128)
    lawsuit_months = fields.Integer(required=True, validate=validate.Range(min=1, max=24))

    @validates_schema(skip_on_field_errors=False)
    def _period_or_date(self, data, **kwargs):
        if not data.get("period_days") and not data.get("deadline"):
            raise ValidationError(Message("请给出改正期限（工作日数）或返校日期"), "deadline")


class _PenaltyBase(_ContactMixin):
    party = fields.Nested(PartySchema, required=True)
    child = fields.Nested(ChildSchema, required=True)
    school = _req(128)
    #: The served 责令限期改正通知书 and its deadline.
    order = fields.Nested(ServedDocRefSchema, required=True)
    #: The county's penalty basis (a provincial or local regulation, config).
    basis = _req(128)
    fine = _yuan(required=True, validate=validate.Range(min=Decimal("0.01")))
    #: The evidence the facts rest on, one item per record the case holds (the served
    #: order and its 送达回证, home-visit records, statements, the hearing record …):
    #: a letter names only evidence that exists (行政处罚法 Art. 40, 59 (二)).
    evidence = fields.List(Text(validate=validate.Length(max=128)), load_default=None, allow_none=True)


class PenaltyNoticeSchema(_PenaltyBase):
    """行政处罚告知书: facts, basis and intended fine; the right to state a case and
    to ask for a hearing (行政处罚法 Art. 44, 45, 63, 64)."""

    statement_days = _days(required=True)
    hearing = fields.Boolean(load_default=True)
    hearing_days = _days(required=True)


class PenaltyDecisionSchema(_PenaltyBase):
    """行政处罚决定书 (行政处罚法 Art. 59): the fine, payment within 15 days (Art. 67),
    3 % a day for late payment (Art. 72), review within 60 days (行政复议法 Art. 20) and
    a lawsuit within 6 months (行政诉讼法 Art. 46)."""

    notice = fields.Nested(ServedDocRefSchema, required=True)
    #: What came of the statement / hearing, from the case's records (always given by
    #: the case service: no statement, statement and review, hearing held on a date).
    statement = Text(required=True, validate=validate.Length(max=2000))
    #: The fine the notice proposed; the decided ``fine`` is never higher (a higher fine
    #: needs a new notice: 行政处罚法 Art. 44–45) and a lower one gives its reason.
    notice_fine = _yuan(load_default=None, allow_none=True)
    fine_reason = _opt(500)
    #: Whether the notice offered a hearing (行政处罚法 Art. 63).
    hearing = fields.Boolean(load_default=True)
    payment_days = _days(required=True)
    #: Where and how to pay (指定银行、电子支付系统 …).
    #: The designated bank and account (行政处罚法 Art. 59 (四), 67; 行政强制法 Art. 35).
    payment_method = _req(255)
    review_authority = _req(128)
    review_days = _days(required=True)
    court = _req(128)
    lawsuit_months = fields.Integer(required=True, validate=validate.Range(min=1, max=24))

    @validates_schema
    def _fine_not_above_notice(self, data, **kwargs):
        fine, proposed = data.get("fine"), data.get("notice_fine")
        if fine is None or proposed is None:
            return
        if fine > proposed:
            raise ValidationError(Message("决定的罚款 %(fine)s 元高于告知书拟处的 %(proposed)s 元：须重新制发行政处罚告知书",
                                          fine=fine, proposed=proposed), "fine")
        if fine < proposed and not data.get("fine_reason"):
            raise ValidationError(Message("罚款低于告知书拟处的数额，须写明理由"), "fine_reason")


class HearingNoticeSchema(_PenaltyBase):
    """听证通知书 (行政处罚法 Art. 64 (二)–(七)): the time and place of the hearing, served
    at least 7 working days before it; the host, the right to ask for the host's
    withdrawal, to be represented, to appear or to have the hearing end."""

    notice = fields.Nested(ServedDocRefSchema, required=True)
    #: The day the party asked for the hearing (the case's record).
    requested_on = fields.Date(load_default=None, allow_none=True)
    hearing_on = fields.Date(required=True)
    hearing_time = Text(load_default="上午9时", validate=validate.Length(max=32))
    place = _req(128)
    host = _req(64)
    #: Whether the hearing is held in public (行政处罚法 Art. 64 (三): public unless it
    #: concerns a state secret, a trade secret or personal privacy), as recorded …
    #: (Letters stored before it was recorded have none and print no sentence on it.)
    public = fields.Boolean(load_default=None, allow_none=True)
    #: … and, when not public, why (one of the three grounds of Art. 64 (三)).
    closed_reason = _opt(64)

    @validates_schema
    def _closed_needs_a_ground(self, data, **kwargs):
        if data.get("public") is False and not data.get("closed_reason"):
            raise ValidationError(Message("不公开举行听证须写明理由（涉及国家秘密、商业秘密或者个人隐私）"), "closed_reason")


class _MoneyDue(Schema):
    fine = _yuan(required=True, validate=validate.Range(min=Decimal("0.01")))
    #: Paid so far (instalments): the amount due is fine − paid + surcharge.
    paid = _yuan(load_default=Decimal("0.00"), validate=validate.Range(min=Decimal("0")))
    #: What happened since the decision (review, suit, payments, deferral), from the
    #: case's records; the letter's default sentence when empty.
    history = _opt(2000)
    #: 加处罚款 accrued so far (行政处罚法 Art. 72: 3 % a day, at most the fine).
    surcharge = _yuan(load_default=Decimal("0.00"), validate=validate.Range(min=Decimal("0")))
    total = _yuan(required=True)

    @validates_schema
    def _total_adds_up(self, data, **kwargs):
        fine, surcharge, total = data.get("fine"), data.get("surcharge"), data.get("total")
        paid = data.get("paid") or Decimal("0")
        if fine is None or surcharge is None or total is None:
            return
        if surcharge > fine:
            raise ValidationError(Message("加处罚款不得超出罚款数额（行政强制法第四十五条）"), "surcharge")
        if fine - paid + surcharge != total:
            raise ValidationError(Message("合计应为 %(total)s", total=fine - paid + surcharge), "total")


class DemandSchema(_ContactMixin, _MoneyDue):
    """催告书 (行政强制法 Art. 35, 54): the unpaid fine, the deadline, the right to state
    a case (Art. 36), and that the authority will apply to the court."""

    party = fields.Nested(PartySchema, required=True)
    child = fields.Nested(ChildSchema, required=True)
    decision = fields.Nested(ServedDocRefSchema, required=True)
    #: Days after service to pay (行政强制法 Art. 54: apply no sooner than 10 days).
    comply_days = _days(required=True)
    statement_days = _days(required=True)
    #: The designated bank and account (行政处罚法 Art. 59 (四), 67; 行政强制法 Art. 35).
    payment_method = _req(255)
    court = _req(128)


class EnforcementApplicationSchema(_ContactMixin, _MoneyDue):
    """强制执行申请书 to the court (行政强制法 Art. 53–55)."""

    court = _req(128)
    applicant = fields.Nested(ApplicantSchema, required=True)
    respondent = fields.Nested(RespondentSchema, required=True)
    child = fields.Nested(ChildSchema, required=True)
    decision = fields.Nested(ServedDocRefSchema, required=True)
    demand = fields.Nested(ServedDocRefSchema, required=True)
    review_days = _days(required=True)
    lawsuit_months = fields.Integer(required=True, validate=validate.Range(min=1, max=24))
    #: The materials sent with the application (Art. 55).
    attachments = fields.List(Text(), load_default=None, allow_none=True)
    #: What the party said after the 催告书 and the bureau's review, or that the party
    #: said nothing (行政强制法 Art. 36, 55 (三)); absent on letters issued before.
    party_statement = Text(load_default=None, allow_none=True)


class HomeboundChildSchema(Schema):
    """The child of a 送教上门 printable: the full ID number and birth date (the file
    stays at the school and with the guardian), or for roles that see numbers masked
    (auditors; ``full`` false) the masked number, printed beside the birth year only."""

    name = _req(64)
    sex = Text(required=True, validate=validate.OneOf(["男", "女"]))
    birth_date = fields.Date(required=True)
    id_number = _req(18)
    address = _opt()
    full = fields.Boolean(load_default=True)


class HomeboundAgreementSchema(Schema):
    """送教上门安置记录及服务协议书: the placement decision (the expert committee's
    assessment, disability, delivering school, teachers, dates) and the agreement the
    school and the guardian sign (残疾人教育条例 2017; docs/domain.md §3)."""

    child = fields.Nested(HomeboundChildSchema, required=True)
    school = _req(128)
    township = _opt(64)
    assessed_on = fields.Date(required=True)
    assessment = Text(required=True, validate=validate.Length(max=4000))
    certificate_number = _opt(20)
    disability_category = _opt(8)
    disability_level = fields.Integer(load_default=None, allow_none=True, validate=validate.Range(min=1, max=4))
    teachers = _req(255)
    starts_on = fields.Date(required=True)
    ends_on = fields.Date(load_default=None, allow_none=True)
    guardian = _opt(64)
    guardian_phone = _opt(32)
    #: The norm promised, in words (from the configured preset).
    norm = _req(255)


class HomeboundSessionRowSchema(Schema):
    """One row of a session log."""

    held_on = fields.Date(required=True)
    time = _req(16)
    periods = fields.Integer(required=True)
    teachers = _req(255)
    areas = _req(255)
    progress = Text(required=True, validate=validate.Length(max=4000))
    guardian = _opt(64)


class HomeboundLogSchema(Schema):
    """送教上门记录表: a child's session log for a term, with the compliance figures."""

    child = fields.Nested(HomeboundChildSchema, required=True)
    school = _req(128)
    term = _req(64)
    start = fields.Date(required=True)
    end = fields.Date(required=True)
    sessions = fields.List(fields.Nested(HomeboundSessionRowSchema), required=True)
    norm = _req(255)
    visits = fields.Integer(required=True)
    periods = fields.Integer(required=True)
    expected_visits = fields.Integer(required=True)
    expected_periods = fields.Integer(required=True)


class CaseFileRowSchema(Schema):
    """One dated row of a case file: an act of the timeline or a home visit."""

    on = fields.Date(required=True)
    what = _req(255)
    detail = _opt(4000)
    who = _opt(255)


class CaseRegisterSchema(Schema):
    """控辍保学个案立案登记表: the first pages of a case file (一案一档): the child, the
    guardians, the case as opened, the responsible people, the timeline and every home
    visit. Not a 公文: no document number."""

    case_number = _req(32)
    child = fields.Nested(ChildSchema, required=True)
    township = _opt(64)
    guardians = fields.List(Text(validate=validate.Length(max=255)), required=True)
    reason = _req(16)
    reason_note = _opt(2000)
    source = _req(16)
    opened_on = fields.Date(required=True)
    state = _req(64)
    people = fields.List(Text(validate=validate.Length(max=255)), required=True)
    timeline = fields.List(fields.Nested(CaseFileRowSchema), required=True)
    visits = fields.List(fields.Nested(CaseFileRowSchema), required=True)
    letters = fields.List(Text(validate=validate.Length(max=255)), required=True)


class CaseClosureSchema(Schema):
    """控辍保学个案销号登记表: the last page of a case file: the outcome and the 销号
    (or, for a case still open, the state it is in on the day printed)."""

    case_number = _req(32)
    child_name = _req(64)
    closed = fields.Boolean(required=True)
    state = _req(64)
    outcome = _opt(16)
    outcome_on = fields.Date(load_default=None, allow_none=True)
    closed_on = fields.Date(load_default=None, allow_none=True)
    closed_reason = _opt(2000)


@dataclass(frozen=True)
class LetterKind:
    """One kind of letter.

    :ivar key: the key of ``EDU_GUARD_LETTER_KIND_MARKS`` and of the template name.
    :ivar name: the document's name (printed as its title, or after 《》 in messages).
    :ivar schema: the context schema.
    :ivar letter_format: printed as a 函 (信函格式, GB/T 9704 10.1: red issuer's name,
        red double rule, no page number on page 1) rather than as a 执法文书.
    :ivar service_slip: followed by a 送达回证 (proof-of-service slip).
    :ivar recipient: returns the recipient's name from a loaded context.
    :ivar title: returns the printed title from a loaded context.
    :ivar address: returns the place of service printed on the 送达回证, if known.
    :ivar mark: the document-number kind mark (发文机关代字) when
        ``EDU_GUARD_LETTER_KIND_MARKS`` has none for the key (plugin kinds).
    :ivar template_dir: a plugin kind's template folder holding ``letters/<key>.html``;
        ``None`` for the built-in kinds, whose templates are in ``templates/letters/``.
    :ivar numbered: an official letter with a document number (发文字号); ``False``
        for printables that are records, not 公文 (printed with
        :func:`edu_guard.letters.services.render_printable`, never numbered or stored).
    """

    key: str
    name: str
    schema: type[Schema]
    letter_format: bool
    service_slip: bool
    recipient: Callable[[Mapping], str]
    title: Callable[[Mapping], str]
    address: Callable[[Mapping], str | None] = lambda ctx: None
    mark: str = ""
    template_dir: str | None = None
    numbered: bool = True

    @property
    def template(self) -> str:
        """The template name (``letters/<key>.html``)."""
        return f"letters/{self.key}.html"


def _fixed(title: str) -> Callable[[Mapping], str]:
    return lambda ctx: title


def _party_address(key: str) -> Callable[[Mapping], str | None]:
    return lambda ctx: (ctx.get(key) or {}).get("address")


#: The built-in letter kinds, in the order of the four steps.
LETTER_KINDS: dict[str, LetterKind] = {
    kind.key: kind
    for kind in (
        LetterKind(
            "return_contact", "劝返联系函", ReturnContactSchema, True, False,
            lambda c: c["recipient"], _fixed("关于协助做好适龄儿童少年劝返复学工作的函"),
        ),
        LetterKind(
            "order_to_correct", "责令限期改正通知书", OrderToCorrectSchema, False, True,
            lambda c: c["guardian"]["name"], _fixed("责令限期改正通知书"), _party_address("guardian"),
        ),
        LetterKind(
            "penalty_notice", "行政处罚告知书", PenaltyNoticeSchema, False, True,
            lambda c: c["party"]["name"], _fixed("行政处罚告知书"), _party_address("party"),
        ),
        LetterKind(
            "hearing_notice", "听证通知书", HearingNoticeSchema, False, True,
            lambda c: c["party"]["name"], _fixed("听证通知书"), _party_address("party"),
        ),
        LetterKind(
            "penalty_decision", "行政处罚决定书", PenaltyDecisionSchema, False, True,
            lambda c: c["party"]["name"], _fixed("行政处罚决定书"), _party_address("party"),
        ),
        LetterKind(
            "demand", "催告书", DemandSchema, False, True,
            lambda c: c["party"]["name"], _fixed("催告书"), _party_address("party"),
        ),
        LetterKind(
            "enforcement_application", "强制执行申请书", EnforcementApplicationSchema, False, True,
            lambda c: c["court"], _fixed("强制执行申请书"),
        ),
        LetterKind(
            "homebound_agreement", "送教上门安置记录及服务协议书", HomeboundAgreementSchema, False, False,
            lambda c: c["guardian"] or c["child"]["name"], _fixed("送教上门安置记录及服务协议书"), numbered=False,
        ),
        LetterKind(
            "case_register", "控辍保学个案立案登记表", CaseRegisterSchema, False, False,
            lambda c: c["child"]["name"], _fixed("控辍保学个案立案登记表"), numbered=False,
        ),
        LetterKind(
            "case_closure", "控辍保学个案销号登记表", CaseClosureSchema, False, False,
            lambda c: c["child_name"], _fixed("控辍保学个案销号登记表"), numbered=False,
        ),
        LetterKind(
            "homebound_log", "送教上门记录表", HomeboundLogSchema, False, False,
            lambda c: c["school"], lambda c: f"送教上门记录表（{c['term']}）", numbered=False,
        ),
    )
}


def get_kind(kind: str) -> LetterKind:
    """Return the :class:`LetterKind` called ``kind``.

    :raises LetterError: for an unknown kind.
    """
    known = all_kinds()
    try:
        return known[kind]
    except KeyError:
        raise LetterError(Message("未知的文书种类 %(kind)s（可用：%(known)s）", kind=repr(kind), known=", ".join(known))) from None


def all_kinds() -> dict[str, LetterKind]:
    """Return the built-in kinds and, inside an app, those of its plugins (``letter_types``)."""
    from flask import current_app, has_app_context

    if not has_app_context():
        return LETTER_KINDS
    contrib = current_app.extensions.get("edu_guard.contributions")
    if contrib is None or not contrib.letter_kinds:
        return LETTER_KINDS
    return {**LETTER_KINDS, **contrib.letter_kinds}


def load_context(kind: str, context: Mapping) -> dict:
    """Validate ``context`` for ``kind`` and return it loaded (dates, Decimals).

    :param kind: a key of :data:`LETTER_KINDS`.
    :param context: the fields of the kind's schema (Python or JSON values).
    :raises ContextError: naming every missing or invalid field.
    """
    spec = get_kind(kind)
    try:
        return spec.schema().load(dict(context))
    except ValidationError as exc:
        raise ContextError(kind, exc.messages) from None


def dump_context(kind: str, loaded: Mapping) -> dict:
    """Return the JSON-ready form of a loaded context (what templates and the DB get)."""
    return get_kind(kind).schema().dump(loaded)


def validate_stored(kind: str, stored: Mapping, label: str | None = None) -> dict:
    """Check a stored context (``letter`` meta plus the kind's fields) before printing.

    :param kind: the letter kind.
    :param stored: ``Letter.context``.
    :param label: how to name the letter in an error (its document number).
    :return: the context, with ``letter`` and the kind's fields, re-dumped.
    :raises ContextError: if anything the template needs is missing.
    """
    data = dict(stored)
    meta = data.pop("letter", None)
    errors: dict = {}
    meta_schema = LetterMetaSchema() if get_kind(kind).numbered else UnnumberedMetaSchema()
    try:
        meta = meta_schema.dump(meta_schema.load(meta if isinstance(meta, Mapping) else {}))
    except ValidationError as exc:
        errors["letter"] = exc.messages
    try:
        fields_ = dump_context(kind, get_kind(kind).schema().load(data))
    except ValidationError as exc:
        errors.update(exc.messages)
    if errors:
        raise ContextError(kind, errors, label)
    return {"letter": meta, **fields_}
