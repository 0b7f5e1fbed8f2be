"""The four-step procedure of a dropout case (控辍保学“四步法”) as one state machine.

States, events, guards and the legal source of each rule are in the tables below;
:mod:`edu_guard.cases.services` carries out the effects. A case cannot skip a step,
cannot escalate before the current step's deadline has passed, and every refusal says
why.

Steps (docs/domain.md §1, a Yunnan practice now common elsewhere):

1. 宣传教育 (``persuasion``): the school and village persuade the family; home visits.
   Source: 义务教育法 Art. 13 (county and township organise enrolment and prevent
   dropout), Art. 5 (guardians' duty).
2. 责令改正 (``order_to_correct``): the township government serves a 责令限期改正通知书;
   the guardian must return the child within the period (义务教育法 Art. 58).
3. 行政处罚 (``penalty``): notice of the intended penalty with the right to state a
   case and ask for a hearing (行政处罚法 Art. 44, 45, 63–64), then the decision
   (Art. 59, 61); the penalty basis is the county's regulation (configuration).
4. 申请强制执行 (``enforcement``): after the review and lawsuit periods pass
   (行政复议法 Art. 20: 60 days; 行政诉讼法 Art. 46: 6 months) a 催告书 is served
   (行政强制法 Art. 54), and no sooner than 10 days later the authority applies to the
   court, within 3 months (行政强制法 Art. 53).

At any open step the child may return (``following_up`` for a follow-up period, then
``closed``), be placed, be verified as studying elsewhere, have 休学 approved, or die.
A child who returned within an order's period obeyed it: a later relapse starts a new
责令改正 cycle (a new order, a new period), never a penalty for the obeyed order.

Step 3 records what the party says (陈述、申辩 and the bureau's 复核, 行政处罚法
Art. 45), a hearing (听证申请 within 5 working days, 听证通知书 at least 7 days before,
听证笔录, 听证报告: Art. 63–65); the decision is refused while a requested hearing has
not been held and reported. After the decision: payment, deferral or instalments
(Art. 66), 行政复议 / 行政诉讼 filed and decided; a pending one blocks the 催告书 and the
court application. After the 催告书 the party may state a case again (行政强制法
Art. 36); the bureau records and reviews it before applying to the court, and the
application states it. These records are events that keep the state (``target=None``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Callable, Mapping


from edu_guard.deadlines import Deadline, period
from edu_guard.i18n import Message, N_, message_of


@dataclass(frozen=True)
class State:
    """A state of a case: its step number (1–4, or None) and Chinese label."""

    name: str
    step: int | None
    label: str


STATES: dict[str, State] = {
    s.name: s
    for s in (
        State("persuasion", 1, N_("第一步 宣传教育（劝返）")),
        State("order_to_correct", 2, N_("第二步 责令改正")),
        State("penalty", 3, N_("第三步 行政处罚")),
        State("enforcement", 4, N_("第四步 申请强制执行")),
        State("following_up", None, N_("已复学，跟踪中")),
        State("closed", None, N_("已销号")),
    )
}
#: The states in which the child is still out of school.
OUT_OF_SCHOOL = ("persuasion", "order_to_correct", "penalty", "enforcement")
#: The states of an open case.
OPEN = OUT_OF_SCHOOL + ("following_up",)

#: Placements (安置方式) that close a case (docs/domain.md §3).
PLACEMENTS = (N_("随班就读"), N_("送教上门"), N_("特殊教育学校"), N_("职业学校"))

BUREAU = ("admin", "clerk")
BUREAU_AND_TOWNSHIP = ("admin", "clerk", "township")
EVERYONE_WHO_WRITES = ("admin", "clerk", "township", "school")


@dataclass(frozen=True)
class LetterFacts:
    """What a guard needs to know of one letter of the case."""

    id: int
    issued_on: date
    #: The day it counts as served (公告送达: the deemed day), None while unserved.
    served_on: date | None
    #: The fine it states (penalty notice and decision), yuan.
    fine: Decimal | None = None


@dataclass(frozen=True)
class Record:
    """A recorded act of the case that does not change its state (a statement, a
    payment, a hearing …): the event name, its date and its data."""

    event: str
    acted_on: date
    data: Mapping = field(default_factory=dict)


@dataclass
class CaseFacts:
    """The facts of a case the guards read (built by the service from the database).

    :ivar settings: the ``EDU_GUARD_*`` configuration (periods in days/months).
    """

    state: str
    opened_on: date
    step_started_on: date
    home_visits: int
    #: letter kind → the case's letter of that kind (the latest), if any.
    letters: dict[str, LetterFacts] = field(default_factory=dict)
    resumed_state: str | None = None
    outcome_on: date | None = None
    settings: Mapping = field(default_factory=dict)
    #: The recorded acts of the current cycle, oldest first (see :class:`Record`).
    records: list[Record] = field(default_factory=list)
    #: The date step 3 (the penalty case, 立案 of 行政处罚法 Art. 60) began, if it did.
    penalty_started_on: date | None = None

    def recorded(self, event: str) -> list[Record]:
        """The records of ``event``, oldest first."""
        return [r for r in self.records if r.event == event]


class IllegalTransition(Exception):
    """The event is not allowed now; ``str(exc)`` is the reason in the reader's language."""


# --- periods ------------------------------------------------------------------------


def _cfg(facts: CaseFacts, key: str, default):
    return facts.settings.get(key, default)


def persuasion_deadline(facts: CaseFacts) -> Deadline:
    """Step 1 ends ``EDU_GUARD_PERSUASION_DAYS`` calendar days after it began (docs/domain.md §1:
    the school reports within 7 days)."""
    return period(facts.step_started_on, int(_cfg(facts, "EDU_GUARD_PERSUASION_DAYS", 7)), "days")


def order_deadline(facts: CaseFacts) -> Deadline | None:
    """The return deadline of the served order: ``EDU_GUARD_ORDER_TO_CORRECT_DAYS``
    working days after service (义务教育法 Art. 58 责令限期改正; 行政处罚法 Art. 85)."""
    letter = facts.letters.get("order_to_correct")
    if not letter or not letter.served_on:
        return None
    return period(letter.served_on, int(_cfg(facts, "EDU_GUARD_ORDER_TO_CORRECT_DAYS", 10)), "working_days")


def statement_deadline(facts: CaseFacts) -> Deadline | None:
    """The end of the window to state a case or ask for a hearing after the served
    notice: the longer of ``EDU_GUARD_STATEMENT_DAYS`` and
    ``EDU_GUARD_HEARING_REQUEST_DAYS`` working days (行政处罚法 Art. 44–45, 64)."""
    letter = facts.letters.get("penalty_notice")
    if not letter or not letter.served_on:
        return None
    days = max(int(_cfg(facts, "EDU_GUARD_STATEMENT_DAYS", 3)), int(_cfg(facts, "EDU_GUARD_HEARING_REQUEST_DAYS", 5)))
    return period(letter.served_on, days, "working_days")


def hearing_request_deadline(facts: CaseFacts) -> Deadline | None:
    """The last day to ask for a hearing: ``EDU_GUARD_HEARING_REQUEST_DAYS`` (5)
    working days after the notice is served (行政处罚法 Art. 64 (一), Art. 85)."""
    letter = facts.letters.get("penalty_notice")
    if not letter or not letter.served_on:
        return None
    return period(letter.served_on, int(_cfg(facts, "EDU_GUARD_HEARING_REQUEST_DAYS", 5)), "working_days")


def hearing_offered(facts: CaseFacts) -> bool:
    """A hearing must be offered when the notice's fine reaches the county's 较大数额
    (``EDU_GUARD_HEARING_FINE_THRESHOLD``, 行政处罚法 Art. 63 (一)); with no threshold set
    it is offered for every fine."""
    threshold = _cfg(facts, "EDU_GUARD_HEARING_FINE_THRESHOLD", None)
    letter = facts.letters.get("penalty_notice")
    if threshold in (None, "") or letter is None or letter.fine is None:
        return True
    return letter.fine >= Decimal(str(threshold))


def payment_deadline(facts: CaseFacts) -> Deadline | None:
    """The last day to pay the fine: ``EDU_GUARD_FINE_PAYMENT_DAYS`` (15) days after the
    decision is served (行政处罚法 Art. 67), rolled to a working day like every period
    (民事诉讼法 Art. 85); a granted deferral (Art. 66) moves it to its last day."""
    letter = facts.letters.get("penalty_decision")
    if not letter or not letter.served_on:
        return None
    deferrals = facts.recorded("grant_deferral")
    if deferrals:
        return Deadline(date.fromisoformat(str(deferrals[-1].data["until"])))
    return period(letter.served_on, int(_cfg(facts, "EDU_GUARD_FINE_PAYMENT_DAYS", 15)), "days")


def decision_time_limit(facts: CaseFacts) -> Deadline | None:
    """The decision is due within 90 days of the penalty case's 立案 (行政处罚法
    Art. 60): counted from the day step 3 began, until a decision is issued."""
    if facts.penalty_started_on is None or "penalty_decision" in facts.letters:
        return None
    return period(facts.penalty_started_on, int(_cfg(facts, "EDU_GUARD_DECISION_DAYS", 90)), "days")


def decision_service_limit(facts: CaseFacts) -> Deadline | None:
    """An issued decision not handed over must be served within 7 working days
    (行政处罚法 Art. 61, Art. 85), until it is served."""
    letter = facts.letters.get("penalty_decision")
    if letter is None or letter.served_on is not None:
        return None
    return period(letter.issued_on, 7, "working_days")


def paid_in_full(facts: CaseFacts) -> bool:
    """Whether the payments recorded reach the decision's fine."""
    letter = facts.letters.get("penalty_decision")
    if letter is None or letter.fine is None:
        return False
    paid = sum((Decimal(str(r.data.get("amount", "0"))) for r in facts.recorded("record_payment")), Decimal("0"))
    return paid >= letter.fine


def remedy_pending(facts: CaseFacts) -> str | None:
    """The pending 行政复议 or 行政诉讼 against the decision, if any ("行政复议"/"行政诉讼",
    Chinese: a guard translates it when it shows it)."""
    filed = facts.recorded("file_review") + facts.recorded("file_suit")
    decided = facts.recorded("record_remedy_outcome")
    if len(filed) > len(decided):
        last = max(filed, key=lambda r: r.acted_on)
        return N_("行政复议") if last.event == "file_review" else N_("行政诉讼")
    return None


def remedy_deadline(facts: CaseFacts) -> Deadline | None:
    """The end of the review and lawsuit periods after the served decision: the later of
    ``EDU_GUARD_REVIEW_DAYS`` days (行政复议法 Art. 20) and ``EDU_GUARD_LAWSUIT_MONTHS``
    months (行政诉讼法 Art. 46); the fine payment period (行政处罚法 Art. 67, 15 days)
    lies inside both."""
    letter = facts.letters.get("penalty_decision")
    if not letter or not letter.served_on:
        return None
    review = period(letter.served_on, int(_cfg(facts, "EDU_GUARD_REVIEW_DAYS", 60)), "days")
    lawsuit = period(letter.served_on, int(_cfg(facts, "EDU_GUARD_LAWSUIT_MONTHS", 6)), "months")
    return max(review, lawsuit, key=lambda d: d.day)


def demand_deadline(facts: CaseFacts) -> Deadline | None:
    """The court may be applied to only after ``EDU_GUARD_DEMAND_DAYS`` working days
    from service of the 催告书 (行政强制法 Art. 54)."""
    letter = facts.letters.get("demand")
    if not letter or not letter.served_on:
        return None
    return period(letter.served_on, int(_cfg(facts, "EDU_GUARD_DEMAND_DAYS", 10)), "working_days")


def application_last_day(facts: CaseFacts) -> Deadline | None:
    """The last day to apply to the court: ``EDU_GUARD_ENFORCEMENT_APPLY_MONTHS`` months
    after the review and lawsuit periods end (行政强制法 Art. 53)."""
    remedy = remedy_deadline(facts)
    if remedy is None:
        return None
    return period(remedy.day, int(_cfg(facts, "EDU_GUARD_ENFORCEMENT_APPLY_MONTHS", 3)), "months")


def follow_up_deadline(facts: CaseFacts) -> Deadline | None:
    """A returned child is followed ``EDU_GUARD_FOLLOW_UP_DAYS`` days (docs/domain.md §1)."""
    if facts.outcome_on is None:
        return None
    return period(facts.outcome_on, int(_cfg(facts, "EDU_GUARD_FOLLOW_UP_DAYS", 30)), "days")


#: letter kind → the period its service starts: the order's return deadline, the
#: notice's statement and hearing window, the decision's payment period, the demand's
#: ten working days. Read by :func:`edu_guard.cases.services.service_deadline`.
SERVICE_PERIODS: dict[str, Callable[[CaseFacts], "Deadline | None"]] = {
    "order_to_correct": order_deadline,
    "penalty_notice": statement_deadline,
    "penalty_decision": payment_deadline,
    "demand": demand_deadline,
}


def time_limits(facts: CaseFacts) -> list[tuple[str, str, Deadline]]:
    """The time limits the bureau itself must keep now, as ``(key, label, deadline)``:
    the decision within 90 days of 立案 (行政处罚法 Art. 60), its service within 7
    working days (Art. 61), and the last day to apply to the court (行政强制法 Art. 53)
    while no application is made."""
    out = []
    limit = decision_time_limit(facts)
    if limit:
        out.append(("decision", N_("立案后九十日内作出行政处罚决定（行政处罚法第六十条）"), limit))
    limit = decision_service_limit(facts)
    if limit:
        out.append(("decision_service", N_("决定书七个工作日内送达（行政处罚法第六十一条）"), limit))
    last = application_last_day(facts)
    if last and "enforcement_application" not in facts.letters and not paid_in_full(facts):
        out.append(("court_application", N_("申请人民法院强制执行的最后一日（行政强制法第五十三条）"), last))
    return out


def current_deadline(facts: CaseFacts) -> Deadline | None:
    """The deadline that governs the next act in the current state, or ``None`` while
    it is not known yet (e.g. a notice not served)."""
    if facts.state == "persuasion":
        return persuasion_deadline(facts)
    if facts.state == "order_to_correct":
        return order_deadline(facts)
    if facts.state == "penalty":
        return remedy_deadline(facts) or statement_deadline(facts)
    if facts.state == "enforcement":
        return None if "enforcement_application" in facts.letters else demand_deadline(facts)
    if facts.state == "following_up":
        return follow_up_deadline(facts)
    return None


def day_text(deadline: Deadline) -> "Message | str":
    """A deadline's day as a page shows it: ``"2027-01-15（估算）"`` in the reader's
    language when it rests on an estimated holiday calendar, else the ISO date
    (``str(deadline)`` stays Chinese: the letters print it)."""
    return Message("%(day)s（估算）", day=deadline.day.isoformat()) if deadline.estimated else deadline.day.isoformat()


# --- guards: each returns None when satisfied, else the reason ------------------------

Guard = Callable[[CaseFacts, date], "Message | None"]


def _passed(deadline: Deadline | None, on: date, what: Message) -> Message | None:
    if deadline is None:
        return Message("%(what)s尚未送达，期限未开始计算", what=what)
    if on <= deadline.day:
        return Message("%(what)s期限至 %(deadline)s 届满，届满后方可进行下一步", what=what, deadline=day_text(deadline))
    return None


def g_home_visit(f: CaseFacts, on: date) -> Message | None:
    """Step 1 needs at least one home visit on the case (docs/domain.md §1: 家访、劝返记录)."""
    return None if f.home_visits > 0 else Message("尚无家访（劝返）记录，请先登记家访")


def g_persuasion_over(f: CaseFacts, on: date) -> Message | None:
    return _passed(persuasion_deadline(f), on, Message("宣传教育（劝返）"))


def _g_served(kind: str, label: str) -> Guard:
    def guard(f: CaseFacts, on: date) -> Message | None:
        letter = f.letters.get(kind)
        if letter is None:
            return Message("尚未制发%(label)s", label=Message(label))
        if letter.served_on is None:
            return Message("%(label)s尚未送达（请登记送达回证）", label=Message(label))
        return None

    guard.__doc__ = f"The case's {kind} letter has been issued and served."
    return guard


def _g_not_issued(kind: str, label: str) -> Guard:
    def guard(f: CaseFacts, on: date) -> Message | None:
        return Message("本案已制发%(label)s", label=Message(label)) if kind in f.letters else None

    guard.__doc__ = f"No {kind} letter has been issued on the case yet."
    return guard


def g_order_period_over(f: CaseFacts, on: date) -> Message | None:
    return _passed(order_deadline(f), on, Message("责令限期改正通知书"))


def g_statement_over(f: CaseFacts, on: date) -> Message | None:
    return _passed(statement_deadline(f), on, Message("陈述、申辩和听证申请"))


def g_remedy_over(f: CaseFacts, on: date) -> Message | None:
    return _passed(remedy_deadline(f), on, Message("行政复议和行政诉讼"))


def g_demand_over(f: CaseFacts, on: date) -> Message | None:
    return _passed(demand_deadline(f), on, Message("催告书"))


def g_within_application_period(f: CaseFacts, on: date) -> Message | None:
    last = application_last_day(f)
    if last is not None and on > last.day:
        return Message("申请强制执行的期限已于 %(last)s 届满（行政强制法第五十三条）", last=day_text(last))
    return None


def g_follow_up_over(f: CaseFacts, on: date) -> Message | None:
    return _passed(follow_up_deadline(f), on, Message("复学跟踪"))


def g_no_decision(f: CaseFacts, on: date) -> Message | None:
    """Statements and hearings belong before the decision."""
    return Message("本案已制发行政处罚决定书") if "penalty_decision" in f.letters else None


def g_statement_unreviewed(f: CaseFacts, on: date) -> Message | None:
    """复核 needs a statement not yet reviewed (行政处罚法 Art. 45)."""
    if len(f.recorded("record_statement")) <= len(f.recorded("review_statement")):
        return Message("没有待复核的陈述、申辩")
    return None


def g_statements_reviewed(f: CaseFacts, on: date) -> Message | None:
    """Every statement must be reviewed before the decision (行政处罚法 Art. 45, 62)."""
    if len(f.recorded("record_statement")) > len(f.recorded("review_statement")):
        return Message("当事人的陈述、申辩尚未复核（行政处罚法第四十五条）")
    return None


def g_demand_statement_unreviewed(f: CaseFacts, on: date) -> Message | None:
    """复核 needs a statement after the 催告书 not yet reviewed (行政强制法 Art. 36)."""
    if len(f.recorded("record_demand_statement")) <= len(f.recorded("review_demand_statement")):
        return Message("没有待复核的催告后陈述、申辩")
    return None


def g_demand_statements_reviewed(f: CaseFacts, on: date) -> Message | None:
    """What the party said after the 催告书 must be recorded and reviewed before the
    court application (行政强制法 Art. 36: 行政机关应当充分听取当事人的意见，对当事人
    提出的事实、理由和证据，应当进行记录、复核)."""
    if len(f.recorded("record_demand_statement")) > len(f.recorded("review_demand_statement")):
        return Message("当事人收到催告书后的陈述、申辩尚未复核（行政强制法第三十六条）")
    return None


def g_hearing_requestable(f: CaseFacts, on: date) -> Message | None:
    """A hearing may be asked for when offered, within 5 working days of service."""
    if not hearing_offered(f):
        return Message("拟罚款未达到本县规定的较大数额，不适用听证（行政处罚法第六十三条）")
    if f.recorded("request_hearing"):
        return Message("当事人已申请听证")
    last = hearing_request_deadline(f)
    if last and on > last.day:
        return Message("听证申请期限已于 %(last)s 届满（行政处罚法第六十四条）", last=day_text(last))
    return None


def g_hearing_requested(f: CaseFacts, on: date) -> Message | None:
    if not f.recorded("request_hearing"):
        return Message("当事人没有申请听证")
    return Message("已制发听证通知书") if "hearing_notice" in f.letters else None


def g_hearing_due(f: CaseFacts, on: date) -> Message | None:
    """The hearing record needs a served notice and the hearing day reached."""
    letter = f.letters.get("hearing_notice")
    if letter is None:
        return Message("尚未制发听证通知书")
    if letter.served_on is None:
        return Message("听证通知书尚未送达（请登记送达回证）")
    if f.recorded("record_hearing"):
        return Message("已登记听证笔录")
    held = [r for r in f.recorded("issue_hearing_notice")]
    if held and on < date.fromisoformat(str(held[-1].data["hearing_on"])):
        return Message("听证定于 %(hearing_on)s 举行，尚未到期", hearing_on=held[-1].data['hearing_on'])
    return None


def g_hearing_recorded(f: CaseFacts, on: date) -> Message | None:
    if not f.recorded("record_hearing"):
        return Message("尚未登记听证笔录")
    return Message("已提交听证报告") if f.recorded("report_hearing") else None


def g_no_pending_hearing(f: CaseFacts, on: date) -> Message | None:
    """No decision while a requested hearing has not been held and reported
    (行政处罚法 Art. 64–65)."""
    if f.recorded("request_hearing") and not f.recorded("report_hearing"):
        return Message("当事人已申请听证，听证尚未举行完毕（须有听证笔录和听证报告），不能作出决定（行政处罚法第六十五条）")
    return None


def g_decision_served(f: CaseFacts, on: date) -> Message | None:
    return _g_served("penalty_decision", N_("行政处罚决定书"))(f, on)


def g_not_paid(f: CaseFacts, on: date) -> Message | None:
    return Message("罚款已缴清，处罚已履行完毕") if paid_in_full(f) else None


def g_no_pending_remedy(f: CaseFacts, on: date) -> Message | None:
    """A pending review or lawsuit blocks enforcement (行政强制法 Art. 53: only after
    the periods pass without one)."""
    pending = remedy_pending(f)
    return Message("当事人已提起%(pending)s，尚无结果，不能催告或申请强制执行", pending=Message(pending)) if pending else None


def g_remedy_filed(f: CaseFacts, on: date) -> Message | None:
    return None if remedy_pending(f) else Message("没有待结的行政复议或行政诉讼")


def g_payment_due(f: CaseFacts, on: date) -> Message | None:
    """No demand before the (deferred) payment period has passed (行政处罚法 Art. 66–67)."""
    return _passed(payment_deadline(f), on, Message("缴纳罚款（含延期、分期）"))


def g_demand_fits_window(f: CaseFacts, on: date) -> Message | None:
    """The 催告书's 10 working days, counted from its date, must end within the 3-month
    window to apply to the court (行政强制法 Art. 53–54)."""
    last = application_last_day(f)
    if last is None:
        return None
    end = period(on, int(_cfg(f, "EDU_GUARD_DEMAND_DAYS", 10)), "working_days")
    if end.day >= last.day:
        return Message("催告期限（至少至 %(end)s）将晚于申请强制执行的最后一日 %(last)s，"
                 "已来不及催告后申请（行政强制法第五十三条、第五十四条）", end=day_text(end), last=day_text(last))
    return None


def g_application_made(f: CaseFacts, on: date) -> Message | None:
    if "enforcement_application" not in f.letters:
        return Message("尚未制发强制执行申请书")
    return Message("已登记法院裁定") if f.recorded("record_court_ruling") else None


def g_ruling_granted(f: CaseFacts, on: date) -> Message | None:
    rulings = f.recorded("record_court_ruling")
    if not rulings or rulings[-1].data.get("result") != "准予执行":
        return Message("人民法院尚未裁定准予执行")
    return Message("已登记执行结果") if f.recorded("record_execution") else None


def g_penalty_closable(f: CaseFacts, on: date) -> Message | None:
    """The penalty path ends when the fine is paid or executed, the court refuses
    enforcement, or the window to apply passed unused."""
    if paid_in_full(f) or f.recorded("record_execution"):
        return None
    rulings = f.recorded("record_court_ruling")
    if rulings and rulings[-1].data.get("result") == "不准予执行":
        return None
    last = application_last_day(f)
    if last and on > last.day and "enforcement_application" not in f.letters:
        return None
    return Message("罚款未缴清或执行，法院未裁定，申请强制执行的期限也未届满")


# --- the table ------------------------------------------------------------------------


@dataclass(frozen=True)
class Transition:
    """One event of the machine.

    :ivar sources: the states it may fire in.
    :ivar target: the next state; ``None`` keeps the state; ``"<resumed>"`` returns
        to the state before the child's return to school.
    :ivar roles: roles allowed to fire it.
    :ivar letter: the letter kind it issues, if any.
    :ivar basis: the legal source of the rule.
    """

    event: str
    label: str
    sources: tuple[str, ...]
    target: str | None
    roles: tuple[str, ...]
    guards: tuple[Guard, ...] = ()
    letter: str | None = None
    basis: str = ""


RESUMED = "<resumed>"

TRANSITIONS: dict[str, Transition] = {
    t.event: t
    for t in (
        Transition("issue_return_contact", N_("制发劝返联系函"), ("persuasion", "order_to_correct"), None, BUREAU,
                   letter="return_contact", basis="义务教育法第十三条"),
        Transition("escalate_to_order", N_("转入第二步：责令改正"), ("persuasion",), "order_to_correct", BUREAU_AND_TOWNSHIP,
                   (g_home_visit, g_persuasion_over), basis="义务教育法第五十八条"),
        Transition("issue_order", N_("制发责令限期改正通知书"), ("order_to_correct",), None, BUREAU_AND_TOWNSHIP,
                   (_g_not_issued("order_to_correct", N_("责令限期改正通知书")),), letter="order_to_correct",
                   basis="义务教育法第五十八条"),
        Transition("escalate_to_penalty", N_("转入第三步：行政处罚"), ("order_to_correct",), "penalty", BUREAU,
                   (_g_served("order_to_correct", N_("责令限期改正通知书")), g_order_period_over),
                   basis="义务教育法第五十八条；地方性法规"),
        Transition("issue_penalty_notice", N_("制发行政处罚告知书"), ("penalty",), None, BUREAU,
                   (g_no_decision,), letter="penalty_notice",
                   basis="行政处罚法第四十四条、第四十五条、第六十三条"),
        Transition("record_statement", N_("登记陈述、申辩"), ("penalty",), None, BUREAU,
                   (_g_served("penalty_notice", N_("行政处罚告知书")), g_no_decision), basis="行政处罚法第四十五条"),
        Transition("review_statement", N_("复核陈述、申辩"), ("penalty",), None, BUREAU,
                   (g_statement_unreviewed, g_no_decision), basis="行政处罚法第四十五条"),
        Transition("request_hearing", N_("登记听证申请"), ("penalty",), None, BUREAU,
                   (_g_served("penalty_notice", N_("行政处罚告知书")), g_no_decision, g_hearing_requestable),
                   basis="行政处罚法第六十三条、第六十四条第一项"),
        Transition("issue_hearing_notice", N_("制发听证通知书"), ("penalty",), None, BUREAU,
                   (g_hearing_requested, g_no_decision), letter="hearing_notice",
                   basis="行政处罚法第六十四条第二项"),
        Transition("record_hearing", N_("登记听证笔录"), ("penalty",), None, BUREAU,
                   (g_hearing_due, g_no_decision), basis="行政处罚法第六十四条第八项"),
        Transition("report_hearing", N_("提交听证报告"), ("penalty",), None, BUREAU,
                   (g_hearing_recorded, g_no_decision), basis="行政处罚法第六十五条"),
        Transition("issue_penalty_decision", N_("制发行政处罚决定书"), ("penalty",), None, BUREAU,
                   (_g_served("penalty_notice", N_("行政处罚告知书")), _g_not_issued("penalty_decision", N_("行政处罚决定书")),
                    g_statement_over, g_statements_reviewed, g_no_pending_hearing), letter="penalty_decision",
                   basis="行政处罚法第五十七条、第五十九条、第六十一条"),
        Transition("record_payment", N_("登记缴纳罚款"), ("penalty", "enforcement"), None, BUREAU,
                   (g_decision_served, g_not_paid), basis="行政处罚法第六十七条"),
        Transition("grant_deferral", N_("批准延期或分期缴纳"), ("penalty", "enforcement"), None, BUREAU,
                   (g_decision_served, g_not_paid), basis="行政处罚法第六十六条第二款"),
        Transition("file_review", N_("登记当事人申请行政复议"), ("penalty", "enforcement"), None, BUREAU,
                   (g_decision_served,), basis="行政复议法"),
        Transition("file_suit", N_("登记当事人提起行政诉讼"), ("penalty", "enforcement"), None, BUREAU,
                   (g_decision_served,), basis="行政诉讼法"),
        Transition("record_remedy_outcome", N_("登记复议决定或判决"), ("penalty", "enforcement"), None, BUREAU,
                   (g_remedy_filed,), basis="行政复议法；行政诉讼法"),
        Transition("escalate_to_enforcement", N_("转入第四步：申请强制执行"), ("penalty",), "enforcement", BUREAU,
                   (g_decision_served, g_remedy_over, g_no_pending_remedy, g_not_paid),
                   basis="行政强制法第五十三条"),
        Transition("issue_demand", N_("制发催告书"), ("enforcement",), None, BUREAU,
                   (_g_not_issued("demand", N_("催告书")), g_no_pending_remedy, g_not_paid, g_payment_due,
                    g_demand_fits_window),
                   letter="demand", basis="行政强制法第三十五条、第五十四条"),
        Transition("record_demand_statement", N_("登记催告后的陈述、申辩"), ("enforcement",), None, BUREAU,
                   (_g_served("demand", N_("催告书")), _g_not_issued("enforcement_application", N_("强制执行申请书"))),
                   basis="行政强制法第三十六条"),
        Transition("review_demand_statement", N_("复核催告后的陈述、申辩"), ("enforcement",), None, BUREAU,
                   (g_demand_statement_unreviewed, _g_not_issued("enforcement_application", N_("强制执行申请书"))),
                   basis="行政强制法第三十六条"),
        Transition("apply_to_court", N_("制发强制执行申请书"), ("enforcement",), None, BUREAU,
                   (_g_served("demand", N_("催告书")), _g_not_issued("enforcement_application", N_("强制执行申请书")),
                    g_no_pending_remedy, g_not_paid, g_demand_over, g_within_application_period,
                    g_demand_statements_reviewed),
                   letter="enforcement_application", basis="行政强制法第五十三条、第五十四条、第五十五条"),
        Transition("record_court_ruling", N_("登记法院裁定（准予/不准予执行）"), ("enforcement",), None, BUREAU,
                   (g_application_made,), basis="行政强制法第五十七条、第五十八条"),
        Transition("record_execution", N_("登记罚款已强制执行"), ("enforcement",), None, BUREAU,
                   (g_ruling_granted,), basis="行政强制法第六十条"),
        Transition("close_penalty", N_("处罚程序终结销号"), ("penalty", "enforcement"), "closed", BUREAU,
                   (g_penalty_closable,), basis="行政处罚法第六十七条；行政强制法第五十三条、第五十八条"),
        Transition("return_to_school", N_("已复学"), OUT_OF_SCHOOL, "following_up", EVERYONE_WHO_WRITES,
                   basis="控辍保学工作要求：复学后跟踪"),
        Transition("drop_out_again", N_("复学后再次辍学"), ("following_up",), RESUMED, EVERYONE_WHO_WRITES),
        Transition("close_follow_up", N_("跟踪期满销号"), ("following_up",), "closed", BUREAU_AND_TOWNSHIP,
                   (g_follow_up_over,), basis="教基厅函〔2024〕15号：台账销号"),
        Transition("place", N_("安置销号"), OPEN, "closed", BUREAU, basis="残疾人教育条例"),
        Transition("verify_elsewhere", N_("核实异地就读销号"), OPEN, "closed", BUREAU_AND_TOWNSHIP),
        Transition("approve_suspension", N_("批准休学销号"), OPEN, "closed", BUREAU_AND_TOWNSHIP, basis="义务教育法第十一条"),
        Transition("record_death", N_("死亡销号"), OPEN, "closed", BUREAU_AND_TOWNSHIP),
    )
}


#: Labels of every event on a case's timeline: the transitions plus the acts recorded
#: outside the machine (opening, proof of service).
EVENT_LABELS = {"open": N_("立案"), "record_service": N_("登记送达"), "correct_service": N_("更正送达记录"),
                "void_letter": N_("作废文书"), "new_order_cycle": N_("复学后再次辍学：重新责令改正"),
                **{e: t.label for e, t in TRANSITIONS.items()}}

#: Events whose records the guards read (see :class:`Record`).
RECORDED = ("record_statement", "review_statement", "request_hearing", "issue_hearing_notice", "record_hearing",
            "report_hearing", "record_payment", "grant_deferral", "file_review", "file_suit",
            "record_remedy_outcome", "record_court_ruling", "record_execution", "escalate_to_penalty",
            "record_demand_statement", "review_demand_statement")


def check(event: str, facts: CaseFacts, role: str | None, on: date) -> Transition:
    """Return the transition for ``event`` if it may fire now, else raise.

    :param event: a key of :data:`TRANSITIONS`.
    :param facts: the case's facts.
    :param role: the acting user's role; ``None`` for the command line (the bureau).
    :param on: the date of the act.
    :raises IllegalTransition: with the reason (unknown event, wrong state, role, or a
        guard's reason).
    """
    t = TRANSITIONS.get(event)
    if t is None:
        raise IllegalTransition(Message("未知的操作：%(event)s", event=event))
    if facts.state not in t.sources:
        raise IllegalTransition(Message("当前处于“%(state)s”，不能“%(event)s”",
                                        state=Message(STATES[facts.state].label), event=Message(t.label)))
    if role is not None and role not in t.roles:
        raise IllegalTransition(Message("您的角色无权“%(event)s”", event=Message(t.label)))
    if on < facts.step_started_on:
        raise IllegalTransition(Message("日期 %(on)s 早于本步骤开始日期 %(start)s", on=on, start=facts.step_started_on))
    for guard in t.guards:
        reason = guard(facts, on)
        if reason:
            raise IllegalTransition(reason)
    return t


def allowed(facts: CaseFacts, role: str | None, on: date) -> list[tuple[Transition, Message | None]]:
    """List the events of the current state with ``None`` when allowed now or the
    reason why not (for the case page's action list)."""
    out = []
    for t in TRANSITIONS.values():
        if facts.state not in t.sources or (role is not None and role not in t.roles):
            continue
        try:
            check(t.event, facts, role, on)
            out.append((t, None))
        except IllegalTransition as exc:
            out.append((t, message_of(exc)))
    return out


def target_of(t: Transition, facts: CaseFacts) -> str:
    """The state after ``t`` fires on a case with ``facts``."""
    if t.target is None:
        return facts.state
    if t.target == RESUMED:
        return facts.resumed_state or "persuasion"
    return t.target


def fine_in_range(amount: Decimal, low: Decimal, high: Decimal) -> Message | None:
    """Return None if the fine lies in the county's range, else the reason."""
    if amount < low or amount > high:
        return Message("罚款金额 %(amount)s 元不在本地法规规定的 %(low)s–%(high)s 元范围内", amount=amount, low=low, high=high)
    return None
