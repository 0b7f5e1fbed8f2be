"""Services of 控辍保学 cases: open, act on the four-step machine, log home visits.

The only place that changes case data. Functions add and flush, write the audit log,
and never commit: the request or CLI boundary commits once, then calls
:func:`notify_transition` so a failing notifier never undoes a transition.
"""

from __future__ import annotations

import dataclasses
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any, Iterable

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm.exc import StaleDataError

from edu_guard.auth import audit
from edu_guard.cases import machine
from edu_guard.cases.models import REASONS, RESPONSIBLE_ROLES, SOURCES, VISIT_FORMS, CaseAssignment, CaseEvent, DropoutCase, HomeVisit
from edu_guard.db import db, utcnow
from edu_guard import acts, clock, deadlines, hooks
from edu_guard.registry.enrolled import counted_enrolled
from edu_guard.registry.models import Child
from edu_guard.deadlines import add_calendar_days, add_working_days, effective_service
from edu_guard.letters.models import SERVICE_MANNERS, Letter
from edu_guard.letters.render import chinese_date
from edu_guard.registry.schemas import validate_id_number
from edu_guard.letters import services as letters
from edu_guard.letters.schemas import LetterError
from edu_guard.i18n import Message, N_, message_of

#: Stages of compulsory education (义务教育法 Art. 2: 小学 and 初中).
COMPULSORY_STAGES = ("小学", "初中", "九年一贯制")


class CaseError(ValueError):
    """A request on a case was refused; ``str(exc)`` is the reason in the reader's
    language (raised with a :class:`~edu_guard.i18n.Message`)."""


class StaleCase(CaseError):
    """The case changed since the user loaded it (optimistic lock)."""


def _one_of(values) -> Message:
    """The allowed values of a choice, each in the reader's language ("甲、乙、丙")."""
    return Message.join([Message(v) for v in values], "、")


def _settings() -> dict:
    return {k: v for k, v in current_app.config.items() if k.startswith("EDU_GUARD_")}


def today() -> date:
    """Return today's date (:func:`edu_guard.clock.today`, where tests set it)."""
    return clock.today()


def age_on(birth: date, on: date) -> int:
    """Return the age in whole years on ``on``."""
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


def open_case(
    child: Child,
    *,
    reason: str,
    opened_on: date | None = None,
    reason_note: str | None = None,
    source: str = "manual",
    assignments: Iterable[dict] = (),
    user=None,
) -> DropoutCase:
    """Open a dropout case (控辍保学个案) for ``child`` at step 1 (宣传教育).

    :param reason: one of :data:`edu_guard.cases.models.REASONS`.
    :param opened_on: the date the child was found out of school; today by default.
    :param assignments: responsible people ``{"role": …, "name": …, "phone": …}`` with
        roles of :data:`RESPONSIBLE_ROLES` (包保责任人).
    :raises CaseError: the child already has an open case; the reason, role or date is
        invalid; the child is placed 送教上门 (counts as enrolled, docs/domain.md §3); or the
        child is not of compulsory-school age (义务教育法 Art. 11) and
        not enrolled in a compulsory stage.
    """
    opened_on = opened_on or today()
    if opened_on > today():
        raise CaseError(Message("立案日期不能晚于今天"))
    if child.birth_date is not None and opened_on < child.birth_date:
        # A date typed wrong (a year off) must not start a case: every deadline and
        # every letter would carry it.
        raise CaseError(Message("立案日期 %(opened_on)s 早于%(name)s的出生日期 %(birth_date)s，请核对",
                                opened_on=opened_on, name=child.name, birth_date=child.birth_date))
    if reason not in REASONS:
        raise CaseError(Message("辍学原因须为：%(reasons)s", reasons=_one_of(REASONS)))
    if source not in SOURCES:
        raise CaseError(Message("未知的来源：%(source)s", source=source))
    existing = db.session.execute(
        sa.select(DropoutCase.id).where(DropoutCase.child_id == child.id, DropoutCase.state != "closed")
        .execution_options(unscoped="one open case per child, county-wide")
    ).scalar()
    if existing:
        raise CaseError(Message("%(name)s 已有未销号的个案（编号 %(existing)s），不能重复立案", name=child.name, existing=existing))
    placed = counted_enrolled(opened_on, child.id).get(child.id)
    if placed is not None:
        raise CaseError(Message("%(name)s %(why)s，计为在读，不能作为辍学立案", name=child.name, why=placed.why))
    cfg = current_app.config
    age = age_on(child.birth_date, opened_on)
    enrollment = child.current_enrollment
    in_compulsory_stage = enrollment is not None and enrollment.school.stage in COMPULSORY_STAGES
    if not (cfg["EDU_GUARD_COMPULSORY_MIN_AGE"] <= age <= cfg["EDU_GUARD_COMPULSORY_MAX_AGE"]) and not in_compulsory_stage:
        raise CaseError(Message("%(name)s 于 %(opened_on)s 年满 %(age)s 周岁，不在义务教育年龄段，且未在义务教育学校就读",
                                name=child.name, opened_on=opened_on, age=age))
    case = DropoutCase(
        child=child,
        state="persuasion",
        reason=reason,
        reason_note=reason_note,
        source=source,
        opened_on=opened_on,
        step_started_on=opened_on,
        township_id=(enrollment.school.township_id if enrollment else None) or child.township_id,
        school_id=enrollment.school_id if enrollment else None,
        opened_by_id=audit.acting_user_id(user),
    )
    for a in assignments:
        if not a.get("name"):
            continue
        if a.get("role") not in RESPONSIBLE_ROLES:
            raise CaseError(Message("未知的责任人角色：%(role)s", role=a.get('role')))
        case.assignments.append(CaseAssignment(role=a["role"], name=a["name"].strip(), phone=(a.get("phone") or None)))
    db.session.add(case)
    db.session.flush()
    _refresh_deadline(case)
    db.session.add(CaseEvent(case=case, event="open", from_state=None, to_state="persuasion", acted_on=opened_on,
                             user_id=audit.acting_user_id(user), note=reason_note))
    audit.record("create", case, user=user)
    return case


def _cycle_start(case: DropoutCase) -> tuple[int, int]:
    """``(event id, letter id)`` after which the current cycle's events and letters
    lie: a relapse after an obeyed order starts a new 责令改正 cycle (0, 0: none)."""
    starts = [e for e in case.events if e.event == "new_order_cycle"]
    if not starts:
        return 0, 0
    last = starts[-1]
    return last.id or 0, int((last.data or {}).get("letter_floor", 0))


def live_letters(case: DropoutCase) -> list:
    """The case's letters of the current cycle that are not voided, oldest first."""
    _, floor = _cycle_start(case)
    return [l for l in sorted(case.letters, key=lambda l: l.id) if l.voided_on is None and l.id > floor]


def open_case_of(child: Child) -> DropoutCase | None:
    """The child's case that is not closed (销号), or ``None`` (at most one: :func:`open_case`)."""
    return db.session.execute(
        sa.select(DropoutCase).where(DropoutCase.child_id == child.id, DropoutCase.state != "closed")
    ).scalar_one_or_none()


def last_act_on(case: DropoutCase) -> date | None:
    """The date of the case's latest act: an event, a home visit or a service of a letter."""
    days = [e.acted_on for e in case.events] + [v.visited_on for v in case.visits]
    days += [letter.served_on for letter in case.letters if letter.served_on]
    return max(days, default=None)


def state_on(case: DropoutCase, day: date) -> str:
    """The case's state at the end of ``day`` by its timeline (the events in date order,
    as the reports count it)."""
    state = "persuasion"
    for e in sorted(case.events, key=lambda e: (e.acted_on, e.id or 0)):
        if e.acted_on > day:
            break
        state = e.to_state
    return state


def print_day(case: DropoutCase, today: date) -> date:
    """The date printed on a case's registers (一案一档): the case's own time when it is
    entered after the fact (:func:`edu_guard.acts.default_act_date` of its latest act,
    letter issued or opening), else ``today`` — a 2021 case entered in 2026 prints a 2021
    date. No register is dated before the latest act it shows."""
    days = [d for d in (last_act_on(case), case.opened_on, case.closed_on) if d]
    days += [letter.issued_on for letter in case.letters if letter.issued_on]
    return acts.default_act_date(max(days, default=None), today)


def facts_for(case: DropoutCase) -> machine.CaseFacts:
    """Build the machine's view of ``case`` from the database: the current cycle's
    letters not voided (each served on its effective day: 公告送达 counts from the
    deemed day, :func:`~edu_guard.deadlines.effective_service`) and the recorded
    acts of the cycle."""

    letters = {}
    for letter in live_letters(case):
        served = effective_service(letter.served_on, letter.service_manner).day if letter.served_on else None
        fine = (letter.context or {}).get("fine")
        letters[letter.kind] = machine.LetterFacts(letter.id, letter.issued_on, served,
                                                   Decimal(str(fine)) if fine is not None else None)
    floor, _ = _cycle_start(case)
    records = [machine.Record(e.event, e.acted_on, dict(e.data or {}))
               for e in sorted(case.events, key=lambda e: e.id or 0)
               if e.event in machine.RECORDED and (e.id or 0) > floor]
    penalty = [r.acted_on for r in records if r.event == "escalate_to_penalty"]
    return machine.CaseFacts(
        state=case.state,
        opened_on=case.opened_on,
        step_started_on=case.step_started_on,
        home_visits=len(case.visits),
        letters=letters,
        resumed_state=case.resumed_state,
        outcome_on=case.outcome_on,
        settings=_settings(),
        records=records,
        penalty_started_on=penalty[-1] if penalty else None,
    )


def _refresh_deadline(case: DropoutCase) -> None:
    deadline = machine.current_deadline(facts_for(case))
    case.deadline = deadline.day if deadline else None


def _check_version(case: DropoutCase, expected_version: int | None) -> None:
    if expected_version is not None and int(expected_version) != case.version:
        raise StaleCase(Message("本案已被他人修改，请刷新页面后重新操作（您的操作未保存）"))


def _role(user) -> str | None:
    return getattr(user, "role", None)


def fire(
    case: DropoutCase,
    event: str,
    *,
    on: date | None = None,
    user=None,
    note: str | None = None,
    expected_version: int | None = None,
    data: dict[str, Any] | None = None,
) -> CaseEvent:
    """Carry out ``event`` of :data:`machine.TRANSITIONS` on ``case``.

    Letter events issue and store the letter (with its document number) in the same
    transaction. Outcome events need ``data``: ``place`` → ``{"placement": one of
    PLACEMENTS}``; ``verify_elsewhere`` → ``{"school": name}``; ``issue_penalty_notice``
    → ``{"fine": yuan}`` (Decimal or string, within the county's range);
    ``apply_to_court`` → ``{"representative": name}`` unless configured.

    :param on: the date of the act; today by default; never in the future.
    :param expected_version: the case version the user saw; a mismatch is refused.
    :raises StaleCase: the case changed meanwhile.
    :raises CaseError: the event is not allowed now (the reason), or data is missing.
    """
    _check_version(case, expected_version)
    on, facts, t, data = _checked_act(case, event, user, on, data)
    before = audit.snapshot(case)
    from_state = case.state
    letter = None
    if t.letter:
        letter = _issue_case_letter(t.letter, [case], on, user, data)
    _apply_outcome(case, t, on, data, note)
    to_state = machine.target_of(t, facts)
    if event == "drop_out_again" and _obeyed_order(case, facts):
        # The child returned within the order's period: that order was obeyed. The
        # relapse is a new violation and needs a new order (义务教育法 Art. 58).
        to_state = "order_to_correct"
        data["new_cycle"] = True
    if event == "record_remedy_outcome" and data.get("result") in REVOKING:
        _void_decision(case, on, data["result"], data.get("body"), user)
        to_state = "penalty"
    if to_state != from_state:
        if from_state in machine.OUT_OF_SCHOOL and to_state == "following_up":
            case.resumed_state = from_state
        case.state = to_state
        case.step_started_on = on
    if to_state == "closed":
        case.closed_on = on
    case.updated_at = utcnow()  # every act bumps the version: a resubmitted form is refused
    ev = CaseEvent(case=case, event=event, from_state=from_state, to_state=case.state, acted_on=on,
                   user_id=audit.acting_user_id(user), note=note, letter_id=letter.id if letter else None,
                   data=data or None)
    db.session.add(ev)
    _flush_or_stale()
    if data.get("new_cycle"):
        floor = max((l.id for l in case.letters), default=0)
        db.session.add(CaseEvent(case=case, event="new_order_cycle", from_state=case.state, to_state=case.state,
                                 acted_on=on, user_id=audit.acting_user_id(user), data={"letter_floor": floor},
                                 note=Message("上一份责令限期改正通知书已在期限内改正；再次辍学须重新责令改正")))
        _flush_or_stale()
    db.session.refresh(case, ["events"])
    _refresh_deadline(case)
    _flush_or_stale()
    audit.record("transition", case, before=before, user=user)
    return ev


def preview(
    case: DropoutCase,
    event: str,
    *,
    on: date | None = None,
    user=None,
    data: dict[str, Any] | None = None,
) -> tuple[bytes, list[str]]:
    """The letter ``event`` would issue, as a PDF, without issuing it: the same checks
    as :func:`fire` (the machine's guards on ``on``, the event's data, the letter's
    context), nothing numbered, stored or changed. The preview prints "预览" and each
    date resting on an estimated holiday calendar marked 估算.

    :return: ``(pdf_bytes, estimates)``, estimates as ``["缴款期限 2027-01-15（估算）", …]``.
    :raises CaseError: the event is not allowed on ``on``, issues no letter, or its
        data or the case lacks what the letter needs.
    """
    on, facts, t, data = _checked_act(case, event, user, on, data)
    if not t.letter:
        raise CaseError(Message("“%(event)s”不制发文书，无可预览", event=Message(machine.TRANSITIONS[event].label)))
    return _issue_case_letter(t.letter, [case], on, user, data, preview=True)


def _checked_act(case: DropoutCase, event: str, user, on: date | None, data: dict | None):
    """What :func:`fire` and :func:`preview` both check before an act: the date (today by
    default, never in the future), the machine's guards for ``user``'s role on that date,
    and the event's data.

    :return: ``(on, facts, transition, data)`` with ``data`` checked and completed.
    :raises CaseError: a future date, an act not allowed now (the machine's reason), or
        missing or invalid data.
    """
    on = on or today()
    if on > today():
        raise CaseError(Message("办理日期不能晚于今天"))
    facts = facts_for(case)
    try:
        t = machine.check(event, facts, _role(user), on)
    except machine.IllegalTransition as exc:
        raise CaseError(message_of(exc)) from None
    return on, facts, t, _check_data(case, facts, t, on, dict(data or {}))


#: Outcomes of a review or suit that revoke the decision (a new one may be made).
REVOKING = (N_("撤销"), N_("确认无效"))
REMEDY_RESULTS = (N_("维持"), N_("驳回诉讼请求"), N_("撤回申请或起诉"), N_("变更"), N_("撤销"), N_("确认无效"))
STATEMENT_RESULTS = (N_("采纳"), N_("部分采纳"), N_("不采纳"))
#: How a case's children were found, as the 劝返联系函's first sentence says it
#: ("经…，你镇有下列…"), by the case's source.
FOUND_BY = {"comparison": "控辍保学数据比对", "transfer": "学籍转出未入学核查", "absence": "学校报告缺勤",
            "manual": "核查"}
#: The grounds on which a hearing is not public (行政处罚法 Art. 64 (三)).
HEARING_CLOSED_REASONS = (N_("涉及国家秘密"), N_("涉及商业秘密"), N_("涉及个人隐私"))
COURT_RULINGS = (N_("准予执行"), N_("不准予执行"))


def _amount(value, what: str = N_("金额")) -> Decimal:
    try:
        amount = Decimal(str(value).strip())
    except (InvalidOperation, TypeError):
        raise CaseError(Message("请填写%(what)s（元），如 200 或 200.50", what=Message(what))) from None
    if not amount.is_finite() or amount <= 0 or amount != amount.quantize(Decimal("0.01")):
        raise CaseError(Message("%(what)s %(value)s 元应为正数，最多精确到分（两位小数）", what=Message(what), value=value))
    return amount


def _fine(value) -> Decimal:
    """A fine in the county's range (the county's regulation, 行政处罚法 Art. 4)."""

    try:
        rules = letters.penalty_settings()
    except LetterError as exc:
        raise CaseError(message_of(exc)) from None
    if value in (None, ""):
        raise CaseError(Message("请填写罚款金额（元），如 200 或 200.50"))
    amount = _amount(value, N_("罚款金额"))
    reason = machine.fine_in_range(amount, rules.low, rules.high)
    if reason:
        raise CaseError(reason)
    return amount


def _date(value, what: str) -> date:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except (TypeError, ValueError):
        raise CaseError(Message("请填写%(what)s（YYYY-MM-DD）", what=Message(what))) from None


def _text(data: dict, key: str, what: str) -> str:
    text = (data.get(key) or "").strip() if isinstance(data.get(key), str) else data.get(key)
    if not text:
        raise CaseError(Message("请填写%(what)s", what=Message(what)))
    return text


def _check_data(case: DropoutCase, facts: machine.CaseFacts, t: machine.Transition, on: date, data: dict) -> dict:
    """Check and normalise the data an event needs (amounts as strings of yuan, dates
    as ISO strings), per its legal source.

    :raises CaseError: naming the missing or wrong item.
    """

    event = t.event
    if event == "issue_penalty_notice":
        data["fine"] = str(_fine(data.get("fine")))
    elif event == "issue_penalty_decision":
        notice = facts.letters["penalty_notice"]
        fine = _fine(data.get("fine") if data.get("fine") not in (None, "") else notice.fine)
        if fine > notice.fine:
            raise CaseError(Message("决定的罚款 %(fine)s 元高于告知书拟处的 %(proposed)s 元：加重处罚须重新制发行政处罚告知书，重新告知当事人陈述、申辩（"
                                    "和听证）的权利（行政处罚法第四十四条、第四十五条）", fine=fine, proposed=notice.fine))
        if fine < notice.fine and not (data.get("fine_reason") or "").strip():
            raise CaseError(Message("决定的罚款 %(fine)s 元低于告知书拟处的 %(proposed)s 元，请写明理由（fine_reason）",
                                    fine=fine, proposed=notice.fine))
        data["fine"] = str(fine)
    elif event in ("record_statement", "record_demand_statement"):
        _text(data, "content", N_("陈述、申辩的内容"))
    elif event in ("review_statement", "review_demand_statement"):
        if data.get("result") not in STATEMENT_RESULTS:
            raise CaseError(Message("复核结果须为：%(statement_results)s", statement_results=_one_of(STATEMENT_RESULTS)))
        _text(data, "content", N_("复核意见"))
    elif event == "issue_hearing_notice":
        hearing_on = _date(data.get("hearing_on"), N_("听证日期"))
        earliest = add_working_days(on, 7)
        if hearing_on <= earliest.day:
            raise CaseError(Message("听证通知须在听证七个工作日前送达（行政处罚法第六十四条第二项、第八十五条）：%(on)s 制发的通知，听证日期应晚于 "
                                    "%(earliest)s", on=on, earliest=machine.day_text(earliest)))
        data["hearing_on"] = hearing_on.isoformat()
        _text(data, "place", N_("听证地点"))
        _text(data, "host", N_("听证主持人"))
        public = data.get("public")
        if public in (True, "true", "1", "yes", "公开"):
            data["public"] = True
            data.pop("closed_reason", None)
        elif public in (False, "false", "0", "no", "不公开"):
            data["public"] = False
            if data.get("closed_reason") not in HEARING_CLOSED_REASONS:
                raise CaseError(Message("不公开举行听证须写明理由：%(hearing_closed_reasons)s（行政处罚法第六十四条第三项）",
                                        hearing_closed_reasons=_one_of(HEARING_CLOSED_REASONS)))
        else:
            raise CaseError(Message("请选择听证是否公开举行（行政处罚法第六十四条第三项：除涉及国家秘密、商业秘密或者个人隐私依法予以保密外，听证公开举行）"))
    elif event == "record_hearing":
        _text(data, "content", N_("听证笔录要点（当事人的陈述、申辩和质证意见）"))
    elif event == "report_hearing":
        _text(data, "content", N_("听证报告的处理意见"))
    elif event == "record_payment":
        data["amount"] = str(_amount(data.get("amount"), N_("缴纳金额")))
        _text(data, "receipt", N_("缴款凭证号"))
    elif event == "grant_deferral":
        until = _date(data.get("until"), N_("延期或分期缴纳的最后日期"))
        if until <= on:
            raise CaseError(Message("延期（分期）缴纳的最后日期应晚于批准日期"))
        data["until"] = until.isoformat()
        if data.get("kind") not in ("延期", "分期"):
            raise CaseError(Message("请选择延期或分期缴纳"))
    elif event in ("file_review", "file_suit"):
        _text(data, "body", N_("复议机关") if event == "file_review" else N_("受理法院"))
    elif event == "record_remedy_outcome":
        if data.get("result") not in REMEDY_RESULTS:
            raise CaseError(Message("复议决定或判决结果须为：%(remedy_results)s", remedy_results=_one_of(REMEDY_RESULTS)))
        filed = (facts.recorded("file_review") + facts.recorded("file_suit"))
        data.setdefault("body", (filed[-1].data or {}).get("body") if filed else None)
    elif event == "record_court_ruling":
        if data.get("result") not in COURT_RULINGS:
            raise CaseError(Message("法院裁定须为：%(court_rulings)s", court_rulings=_one_of(COURT_RULINGS)))
    elif event == "record_execution":
        data["amount"] = str(_amount(data.get("amount"), N_("执行到位金额")))
    return data


def _obeyed_order(case: DropoutCase, facts: machine.CaseFacts) -> bool:
    """Whether the child's return obeyed the served order: the case was at step 2 and
    the child returned no later than the order's deadline."""
    if case.resumed_state != "order_to_correct":
        return False
    deadline = machine.order_deadline(facts)
    return deadline is not None and facts.outcome_on is not None and facts.outcome_on <= deadline.day


def _apply_outcome(case: DropoutCase, t: machine.Transition, on: date, data: dict, note: str | None) -> None:
    event = t.event
    if event == "return_to_school":
        case.outcome, case.outcome_on = "复学", on
    elif event == "drop_out_again":
        # facts_for is built before this point, so the obeyed-order test still sees
        # the return date.
        case.outcome, case.outcome_on = None, None
    elif event == "close_penalty":
        case.outcome, case.outcome_on = case.outcome or "处罚终结", on
        case.closed_reason = f"{on} {_penalty_end_reason(case, on)}，销号"
    elif event == "close_follow_up":
        case.closed_reason = f"{case.outcome_on} 复学，跟踪期满销号"
    elif event == "place":
        placement = data.get("placement")
        if placement not in machine.PLACEMENTS:
            raise CaseError(Message("安置方式须为：%(placements)s", placements=_one_of(machine.PLACEMENTS)))
        case.outcome, case.outcome_on, case.closed_reason = placement, on, f"{on} 安置（{placement}），销号"
    elif event == "verify_elsewhere":
        school = (data.get("school") or "").strip()
        if not school:
            raise CaseError(Message("请填写核实就读的学校"))
        case.outcome, case.outcome_on, case.closed_reason = "异地就读", on, f"{on} 核实在{school}就读，销号"
    elif event == "approve_suspension":
        case.outcome, case.outcome_on, case.closed_reason = "休学", on, f"{on} 批准休学，销号"
    elif event == "record_death":
        case.outcome, case.outcome_on, case.closed_reason = "死亡", on, f"{on} 死亡，销号"
    if note and case.closed_reason and event not in ("return_to_school", "drop_out_again"):
        case.closed_reason += f"：{note}"


def _flush_or_stale() -> None:
    try:
        db.session.flush()
    except StaleDataError:  # the refusal's handler rolls the session back
        raise StaleCase(Message("本案已被他人修改，请刷新页面后重新操作（您的操作未保存）")) from None


def _cn(day) -> str:

    return chinese_date(day)


def _penalty_end_reason(case: DropoutCase, on: date) -> str:
    """Why the penalty path ends (the 销号 reason), from the records."""
    facts = facts_for(case)
    if machine.paid_in_full(facts):
        return "罚款已缴清"
    if facts.recorded("record_execution"):
        return "罚款经人民法院强制执行到位"
    rulings = facts.recorded("record_court_ruling")
    if rulings and rulings[-1].data.get("result") == "不准予执行":
        return "人民法院裁定不准予执行"
    last = machine.application_last_day(facts)
    return f"申请强制执行的期限已于{_cn(last.day)}届满（行政强制法第五十三条），未申请"


def statement_text(facts: machine.CaseFacts) -> str:
    """What the decision says came of the notice: no statement; each statement and the
    bureau's review; or the hearing and its date (行政处罚法 Art. 45, 59 (二), 62, 65).
    Built only from the case's records, so it states what actually happened."""
    parts = []
    reviews = facts.recorded("review_statement")
    for i, st in enumerate(facts.recorded("record_statement")):
        text = f"当事人于{_cn(st.acted_on)}提出陈述、申辩，称：{str(st.data['content']).rstrip('。')}。"
        if i < len(reviews):
            rv = reviews[i]
            text += f"本机关于{_cn(rv.acted_on)}进行了复核，复核意见：{str(rv.data['content']).rstrip('。')}，{rv.data['result']}。"
        parts.append(text)
    requests = facts.recorded("request_hearing")
    if requests:
        notices = facts.recorded("issue_hearing_notice")
        held = facts.recorded("record_hearing")
        reports = facts.recorded("report_hearing")
        text = f"当事人于{_cn(requests[-1].acted_on)}要求举行听证，"
        if held:
            text += (f"本机关于{_cn(held[-1].acted_on)}依法举行了听证"
                     + (f"（主持人：{notices[-1].data.get('host')}）" if notices else "")
                     + f"，当事人在听证中提出：{str(held[-1].data['content']).rstrip('。')}。")
        if reports:
            text += f"听证结束后，本机关根据听证笔录作出如下处理意见：{str(reports[-1].data['content']).rstrip('。')}。"
        parts.append(text)
    if not parts:
        return "当事人在规定期限内未提出陈述、申辩" + ("，也未要求听证。" if machine.hearing_offered(facts) else "。")
    return "".join(parts)


def demand_statement_text(facts: machine.CaseFacts) -> str:
    """What the court application says of the party after the 催告书: that the party
    made no statement, or each statement with the bureau's review (行政强制法 Art. 36:
    the party may state a case; the bureau records and reviews it; Art. 55 (三): the
    application is accompanied by 当事人的意见及行政机关催告情况). From the records only."""
    reviews = facts.recorded("review_demand_statement")
    statements = facts.recorded("record_demand_statement")
    if not statements:
        return "被申请人收到催告书后，未进行陈述、申辩。"
    parts = []
    for i, st in enumerate(statements):
        text = f"被申请人于{_cn(st.acted_on)}进行陈述、申辩，称：{str(st.data['content']).rstrip('。')}。"
        if i < len(reviews):
            rv = reviews[i]
            text += (f"申请人于{_cn(rv.acted_on)}进行了复核，复核意见：{str(rv.data['content']).rstrip('。')}，"
                     f"{rv.data['result']}。")
        parts.append(text)
    return "".join(parts)


def application_attachments(case: DropoutCase, facts: machine.CaseFacts) -> list[str]:
    """The materials sent with the court application (行政强制法 Art. 55), one item per
    record the case holds and nothing it does not: the decision and its 送达回证; the
    facts, reasons and basis of the decision (the notice and its service, the served
    order, home-visit records, the statements and hearing of the penalty step as
    recorded); the party's statement after the 催告书 with the review — only when made
    (Art. 36) — and the 催告书 with its 送达回证; payment receipts when part was paid.
    The amount sought (Art. 55 (四), 标的) is stated in the application itself.

    :return: Chinese items in order, e.g. ``["《行政处罚决定书》（…）及其送达回证", …]``.
    """
    by_id = {l.id: l for l in live_letters(case)}

    def served(kind: str, title: str) -> str:
        letter = by_id.get(facts.letters[kind].id) if kind in facts.letters else None
        return f"《{title}》（{letter.doc_number}）及其送达回证" if letter and letter.doc_number else f"《{title}》及其送达回证"

    items = [served("penalty_decision", "行政处罚决定书"), served("penalty_notice", "行政处罚告知书")]
    items += letters.case_evidence(case, _served_order(case))
    if facts.recorded("record_statement"):
        items.append(f"当事人收到行政处罚告知书后的陈述、申辩记录{len(facts.recorded('record_statement'))}份"
                     f"及复核意见{len(facts.recorded('review_statement'))}份")
    if facts.recorded("record_hearing"):
        items.append("听证笔录" + ("及听证报告" if facts.recorded("report_hearing") else ""))
    statements = facts.recorded("record_demand_statement")
    if statements:
        items.append(f"当事人的意见：收到催告书后的陈述、申辩记录{len(statements)}份"
                     f"及复核意见{len(facts.recorded('review_demand_statement'))}份")
    items.append(served("demand", "催告书"))
    payments = facts.recorded("record_payment")
    if payments:
        items.append(f"缴款凭证{len(payments)}份（" + "、".join(str(r.data.get("receipt")) for r in payments) + "）")
    return items


def remedy_history(facts: machine.CaseFacts, as_of: date) -> str | None:
    """What happened after the decision (review, suit, deferral, payments), as the 催告书
    and the court application state it; ``None`` when nothing did (the letter's own
    sentence: no review, no suit, not paid)."""
    parts = []
    outcomes = facts.recorded("record_remedy_outcome")
    filed = sorted(facts.recorded("file_review") + facts.recorded("file_suit"), key=lambda r: r.acted_on)
    for i, f in enumerate(filed):
        what = "申请行政复议" if f.event == "file_review" else "提起行政诉讼"
        text = f"你于{_cn(f.acted_on)}向{f.data.get('body')}{what}"
        if i < len(outcomes):
            o = outcomes[i]
            text += f"，{o.data.get('body') or f.data.get('body')}于{_cn(o.acted_on)}作出{o.data['result']}的" + (
                "复议决定" if f.event == "file_review" else "裁判")
        parts.append(text + "。")
    for d in facts.recorded("grant_deferral"):
        parts.append(f"本机关于{_cn(d.acted_on)}批准你{d.data['kind']}缴纳罚款至{_cn(date.fromisoformat(d.data['until']))}。")
    paid = facts.recorded("record_payment")
    if paid:
        total = sum((Decimal(r.data["amount"]) for r in paid), Decimal("0"))
        parts.append(f"你已缴纳罚款人民币{total:.2f}元，尚未缴清。")
    if not parts:
        return None
    if not paid:
        parts.append("你至今仍未缴纳罚款。")
    return "".join(parts)


def _issue_case_letter(kind: str, cases: list[DropoutCase], on: date, user, data: dict, *, preview: bool = False):
    """Build the letter's context from the case and the periods this module decides,
    then number, render and store it (:func:`edu_guard.letters.services.issue_letter`).

    The order prints its period counted from service; the penalty letters print the
    return date that period gave (:func:`machine.order_deadline`); the decision states
    what came of the notice (:func:`statement_text`) and the fine decided then; the 催告书
    and the application state the review, suit, deferral and payments recorded
    (:func:`remedy_history`) and the surcharge from the payment deadline
    (:func:`machine.payment_deadline`, the same calendar rule as every period).

    A letter whose printed dates rest on an estimated holiday calendar needs
    ``data["confirm_estimate"]`` (:func:`estimated_dates`).
    """

    cfg = current_app.config
    extra: dict[str, Any] = {}
    facts = facts_for(cases[0])
    estimates: list[Message] = []
    if kind == "return_contact":
        reply = add_calendar_days(on, int(cfg["EDU_GUARD_PERSUASION_DAYS"]))
        extra["reply_by"] = reply.day
        # How the children were found, from the cases' sources (never a fixed phrase).
        found = dict.fromkeys(FOUND_BY[c.source] for c in cases if c.source in FOUND_BY)
        if found:
            extra["source"] = "和".join(found)
        if reply.estimated:
            estimates.append(Message("反馈期限 %(day)s", day=machine.day_text(reply)))
    elif kind == "order_to_correct":
        extra["period_days"] = int(cfg["EDU_GUARD_ORDER_TO_CORRECT_DAYS"])
    elif kind in ("penalty_notice", "penalty_decision", "hearing_notice"):
        extra["order"] = _served_order(cases[0])
        deadline = machine.order_deadline(facts)
        if deadline and deadline.estimated:
            estimates.append(Message("责令改正期限 %(day)s", day=machine.day_text(deadline)))
        if kind == "penalty_notice":
            extra["fine"] = Decimal(data["fine"])
            extra["hearing"] = _hearing_offered_for(Decimal(data["fine"]))
        elif kind == "hearing_notice":
            requests = facts.recorded("request_hearing")
            extra.update(hearing_on=date.fromisoformat(data["hearing_on"]), place=data["place"], host=data["host"],
                         public=data["public"], closed_reason=data.get("closed_reason"),
                         requested_on=requests[-1].acted_on if requests else None)
            if data.get("hearing_time"):
                extra["hearing_time"] = data["hearing_time"]
        else:
            notice = next(l for l in live_letters(cases[0]) if l.kind == "penalty_notice" and l.id == facts.letters["penalty_notice"].id)
            extra["notice"] = notice
            extra["fine"] = Decimal(data["fine"])
            extra["fine_reason"] = (data.get("fine_reason") or "").strip().rstrip("。") or None
            extra["statement"] = statement_text(facts)
            extra["hearing"] = bool((notice.context or {}).get("hearing", True))
    elif kind in ("demand", "enforcement_application"):
        extra["as_of"] = on
        due = machine.payment_deadline(facts)
        if due:
            extra["due_on"] = due.day
            if due.estimated:
                estimates.append(Message("缴款期限 %(day)s", day=machine.day_text(due)))
        paid = sum((Decimal(r.data["amount"]) for r in facts.recorded("record_payment")), Decimal("0"))
        extra["paid"] = paid
        extra["history"] = remedy_history(facts, on)
        if kind == "enforcement_application":
            extra["party_statement"] = demand_statement_text(facts)
            extra["attachments"] = application_attachments(cases[0], facts)
            extra["representative"] = (data.get("representative") or cfg.get("EDU_GUARD_BUREAU_HEAD") or "").strip()
            if not extra["representative"]:
                raise CaseError(Message("请填写申请人（教育局）的负责人姓名（法定代表人），或在配置中设置 EDU_GUARD_BUREAU_HEAD"))
    if preview:
        subject = cases if kind == "return_contact" else cases[0]
        try:
            context = letters.context_for_case(kind, subject, **extra)
            return letters.preview_letter(kind, context, issuer=letters.issuer_for(kind, cases[0]), issued_on=on,
                                          notes=[e.chinese() for e in estimates]), estimates
        except LetterError as exc:
            raise CaseError(message_of(exc)) from None
    if estimates and not data.get("confirm_estimate"):
        raise CaseError(Message("本文书的期限按估算的节假日安排计算（%(estimates)s），该年度的国务院放假安排尚未载入：请由管理员载入后再制发，或确认按估算日期制"
                                "发（网页上勾选“确认按估算日期制发”，命令行加 --confirm-estimate）", estimates=Message.join(estimates, "；")))
    data.pop("confirm_estimate", None)
    if estimates:
        data["estimated"] = estimates  # shown on the letter's page in the reader's language
    subject = cases if kind == "return_contact" else cases[0]
    try:
        context = letters.context_for_case(kind, subject, **extra)
        return letters.issue_letter(kind, context, issuer=letters.issuer_for(kind, cases[0]), cases=cases,
                                    issued_on=on, user=user)
    except LetterError as exc:
        raise CaseError(message_of(exc)) from None


def _hearing_offered_for(fine: Decimal) -> bool:
    """A hearing is offered for a fine at or above the county's 较大数额
    (``EDU_GUARD_HEARING_FINE_THRESHOLD``; none set: always; 行政处罚法 Art. 63 (一))."""
    threshold = current_app.config.get("EDU_GUARD_HEARING_FINE_THRESHOLD")
    return threshold in (None, "") or fine >= Decimal(str(threshold))


def _served_order(case: DropoutCase) -> dict:
    """The case's served order (of the current cycle) as the penalty letters cite it,
    with the return date counted from its (effective) service."""

    letter = max((l for l in live_letters(case) if l.kind == "order_to_correct"), key=lambda l: l.id)
    deadline = machine.order_deadline(facts_for(case))
    deemed = effective_service(letter.served_on, letter.service_manner).day
    return {"title": letter.title, "doc_number": letter.doc_number, "issuer_name": letter.issuer_name,
            "issued_on": letter.issued_on, "served_on": letter.served_on, "deadline": deadline.day if deadline else None,
            "service_manner": letter.service_manner, "deemed_on": deemed if deemed != letter.served_on else None}


def _void_decision(case: DropoutCase, on: date, result: str, body: str | None, user) -> None:
    """Void the case's decision after a review or court revoked it (its number stays
    used), so a new decision may be made; the reason is shown in the reader's language."""
    for letter in live_letters(case):
        if letter.kind in ("penalty_decision", "demand", "enforcement_application"):
            _void(letter, on, Message("行政处罚决定被%(result)s（%(body)s）", result=Message(result), body=body or ""), user)


def _void(letter, on: date, reason: "Message | str", user) -> None:
    before = {"voided_on": None, "void_reason": None}
    letter.voided_on, letter.void_reason = on, reason
    audited = reason.chinese() if isinstance(reason, Message) else reason  # the audit log keeps text
    audit.record("void", letter, before=before, after={"voided_on": on.isoformat(), "void_reason": audited}, user=user)


def _check_letter_role(user, letter: Letter, what: str) -> None:
    """Refuse ``what`` (作废, 更正送达) on ``letter`` to a role that may not issue it: the
    roles of the transitions issuing its kind (义务教育法第五十八条 names the township
    government and the county bureau; a school issues no letter). No user: the CLI.

    :raises CaseError: the user's role issues no letter of this kind.
    """
    role = _role(user)
    issuers = {r for t in machine.TRANSITIONS.values() if t.letter == letter.kind for r in t.roles}
    if role is not None and issuers and role not in issuers:
        refusal = (Message("您的角色无权作废%(title)s（%(doc_number)s）", title=letter.title, doc_number=letter.doc_number)
                   if what == "作废" else
                   Message("您的角色无权更正送达%(title)s（%(doc_number)s）", title=letter.title,
                           doc_number=letter.doc_number))
        raise CaseError(refusal)


def void_letter(case: DropoutCase, letter_id: int, *, on: date, reason: str, user=None,
                expected_version: int | None = None) -> CaseEvent:
    """Void (作废) a letter of ``case`` so it may be issued again; its document number
    stays used and is never given to another letter (GB/T 9704 7.2.4: numbers are not
    reused). Only the case's latest live letter may be voided (the later ones rest on
    it).

    :param on: the date of the voiding, shown in the case's timeline: a case entered
        after the fact is voided on its own time (the form proposes
        :func:`edu_guard.acts.default_act_date` of :func:`last_act_on`), not today.
    :raises CaseError: no reason, not the case's letter, already void, a role that may
        not issue it, a date before the letter's issue date or in the future, or a later
        live letter exists.
    """
    _check_version(case, expected_version)
    reason = (reason or "").strip()
    if not reason:
        raise CaseError(Message("请填写作废理由"))
    live = live_letters(case)
    letter = next((l for l in case.letters if l.id == int(letter_id)), None)
    if letter is None:
        raise CaseError(Message("该文书不属于本案"))
    if letter.voided_on is not None:
        raise CaseError(Message("%(doc_number)s 已于 %(voided_on)s 作废",
                                doc_number=letter.doc_number, voided_on=letter.voided_on))
    _check_letter_role(user, letter, "作废")
    if on < letter.issued_on:
        raise CaseError(Message("作废日期 %(on)s 早于文书日期 %(issued_on)s", on=on, issued_on=letter.issued_on))
    if on > today():
        raise CaseError(Message("作废日期不能晚于今天"))
    later = [l for l in live if l.id > letter.id and l.kind != "return_contact"]
    if later:
        raise CaseError(Message("请先作废其后制发的%(doc_numbers)s", doc_numbers="、".join(l.doc_number for l in later)))
    _void(letter, on, reason, user)
    if letter.kind == "penalty_decision" and case.state == "enforcement":
        case.state, case.step_started_on = "penalty", on
    case.updated_at = utcnow()
    ev = CaseEvent(case=case, event="void_letter", from_state=case.state, to_state=case.state, acted_on=on,
                   user_id=audit.acting_user_id(user), letter_id=letter.id,
                   note=Message("%(title)s（%(doc_number)s）作废：%(reason)s；文号不再使用", title=letter.title,
                                doc_number=letter.doc_number, reason=reason))
    db.session.add(ev)
    _flush_or_stale()
    _refresh_deadline(case)
    _flush_or_stale()
    return ev


def correct_service(case: DropoutCase, letter_id: int, *, served_on: date, manner: str | None = None,
                    reason: str, user=None, expected_version: int | None = None) -> CaseEvent:
    """Correct a mistyped proof of service (送达回证) of a letter of ``case``; every later
    deadline follows from the corrected date. The audit log and the case's timeline
    keep both the old and the new record; the timeline's entry is dated on the corrected
    service day (the act's date), the correction itself is audited now (its day also in
    the event's data, ``corrected_on``).

    :raises CaseError: no reason, a letter not served, void or not the case's, a role
        that may not issue it, a date before the letter's or in the future, or an unknown
        manner.
    """

    _check_version(case, expected_version)
    reason = (reason or "").strip()
    if not reason:
        raise CaseError(Message("请填写更正理由"))
    letter = next((l for l in case.letters if l.id == int(letter_id)), None)
    if letter is None:
        raise CaseError(Message("该文书不属于本案"))
    if letter.served_on is None:
        raise CaseError(Message("%(doc_number)s 尚未登记送达，请直接登记送达", doc_number=letter.doc_number))
    if letter.voided_on is not None:
        raise CaseError(Message("%(doc_number)s 已于 %(voided_on)s 作废，不能更正送达记录",
                                doc_number=letter.doc_number, voided_on=letter.voided_on))
    _check_letter_role(user, letter, "更正送达")
    manner = manner or letter.service_manner
    if manner not in SERVICE_MANNERS:
        raise CaseError(Message("送达方式须为：%(service_manners)s", service_manners=_one_of(SERVICE_MANNERS)))
    if served_on < letter.issued_on:
        raise CaseError(Message("送达日期 %(served_on)s 早于文书日期 %(issued_on)s",
                                served_on=served_on, issued_on=letter.issued_on))
    if served_on > today():
        raise CaseError(Message("送达日期不能晚于今天"))
    before = {"served_on": letter.served_on.isoformat(), "service_manner": letter.service_manner}
    after = {"served_on": served_on.isoformat(), "service_manner": manner}
    letter.served_on, letter.service_manner = served_on, manner
    audit.record("correct_service", letter, before=before, after={**after, "reason": reason}, user=user)
    case.updated_at = utcnow()
    # The timeline dates the corrected service on its (corrected) day, like any service,
    # in the state the case was in then (the reports read each event's state at its
    # date); the day the correction was made is kept in the event's data and the audit log.
    then = state_on(case, served_on)
    ev = CaseEvent(case=case, event="correct_service", from_state=then, to_state=then, acted_on=served_on,
                   user_id=audit.acting_user_id(user), letter_id=letter.id,
                   data={"before": before, "after": after, "reason": reason, "corrected_on": today().isoformat()},
                   note=Message("%(doc_number)s 送达记录由 %(old_day)s %(old_manner)s 更正为 %(day)s %(manner)s：%(reason)s",
                                doc_number=letter.doc_number, old_day=before["served_on"],
                                old_manner=Message(before["service_manner"]), day=served_on, manner=Message(manner),
                                reason=reason))
    db.session.add(ev)
    _flush_or_stale()
    _refresh_deadline(case)
    _flush_or_stale()
    return ev


def service_deadline(case: DropoutCase, letter: Letter) -> date | None:
    """The last day of the period that the service of ``letter`` starts
    (:data:`machine.SERVICE_PERIODS`: 责令改正 return deadline, 陈述申辩/听证 window,
    罚款缴纳 15 days, 催告 10 working days), counted from its effective service
    (:func:`~edu_guard.deadlines.effective_service`); shown after a service is
    corrected, whatever step the case is in now.

    :return: the day, or ``None`` for a letter not served or of a kind that starts no
        period (劝返联系函, 强制执行申请书).
    """
    compute = machine.SERVICE_PERIODS.get(letter.kind)
    if compute is None or letter.served_on is None:
        return None
    facts = facts_for(case)
    served = effective_service(letter.served_on, letter.service_manner).day
    fine = (letter.context or {}).get("fine")
    mine = machine.LetterFacts(letter.id, letter.issued_on, served, Decimal(str(fine)) if fine is not None else None)
    deadline = compute(dataclasses.replace(facts, letters={**facts.letters, letter.kind: mine}))
    return deadline.day if deadline else None


def issue_return_contact(cases: list[DropoutCase], *, on: date | None = None, user=None) -> list[CaseEvent]:
    """Issue one 劝返联系函 to a township government listing the children of ``cases``.

    :raises CaseError: the cases are of several townships, or one may not receive it.
    """
    if not cases:
        raise CaseError(Message("请选择个案"))
    townships = {c.township_id for c in cases}
    if len(townships) != 1:
        raise CaseError(Message("一份劝返联系函只能发给一个乡镇，请按乡镇分别选择"))
    on = on or today()
    for case in cases:
        try:
            machine.check("issue_return_contact", facts_for(case), _role(user), on)
        except machine.IllegalTransition as exc:
            raise CaseError(Message("%(name)s：%(reason)s", name=case.child.name, reason=message_of(exc))) from None
    letter = _issue_case_letter("return_contact", cases, on, user, {})
    events = []
    for case in cases:
        case.updated_at = utcnow()
        ev = CaseEvent(case=case, event="issue_return_contact", from_state=case.state, to_state=case.state,
                       acted_on=on, user_id=audit.acting_user_id(user), letter_id=letter.id)
        db.session.add(ev)
        events.append(ev)
    db.session.flush()
    return events


def record_service(
    case: DropoutCase,
    letter_id: int,
    *,
    served_on: date,
    manner: str,
    served_to: str,
    served_by: str,
    user=None,
    expected_version: int | None = None,
) -> CaseEvent:
    """Record the proof of service (送达回证) of a letter of ``case``; the step's
    deadline starts from it (行政处罚法 Art. 61; 民事诉讼法 Art. 85–87).

    :raises CaseError: the letter is not the case's, already served, or the date is
        before the letter's issue date or in the future.
    """

    _check_version(case, expected_version)
    letter = next((l for l in case.letters if l.id == int(letter_id)), None)
    if letter is None:
        raise CaseError(Message("该文书不属于本案"))
    if letter.kind == "return_contact":
        raise CaseError(Message("劝返联系函是发给乡镇人民政府的工作函，不需登记送达回证"))
    if _role(user) is not None and _role(user) not in machine.BUREAU_AND_TOWNSHIP:
        raise CaseError(Message("您的角色无权登记送达"))
    try:
        letters.record_service(letter, served_on=served_on, manner=manner, served_to=served_to, served_by=served_by, user=user)
    except LetterError as exc:
        raise CaseError(message_of(exc)) from None
    _refresh_deadline(case)
    case.updated_at = utcnow()  # bump the version: the deadline changed
    ev = CaseEvent(case=case, event="record_service", from_state=case.state, to_state=case.state, acted_on=served_on,
                   user_id=audit.acting_user_id(user), letter_id=letter.id,
                   note=Message("%(title)s（%(doc_number)s）%(served_on)s %(manner)s，受送达人 %(served_to)s",
                                title=letter.title, doc_number=letter.doc_number, served_on=served_on,
                                manner=Message(manner), served_to=served_to))
    db.session.add(ev)
    _flush_or_stale()
    return ev


def log_home_visit(
    child: Child,
    *,
    visited_on: date,
    visitors: str,
    form: str,
    findings: str,
    outcome: str | None = None,
    next_action: str | None = None,
    case: DropoutCase | None = None,
    user=None,
    expected_version: int | None = None,
) -> HomeVisit:
    """Log a home visit (家访) to ``child``, on ``case`` or to a child at risk.

    Without ``case``, a visit on or after the opening day of the child's open case
    belongs to that case (logged from the child's page, it still counts for the step);
    an earlier one stays a visit to a child at risk.

    :param expected_version: the case version the user saw (web forms).
    :raises StaleCase: the case changed meanwhile (e.g. the same form sent twice).
    :raises CaseError: the form is unknown, a required field is empty, the date lies in
        the future or before the case was opened, or the case is closed or belongs to
        another child.
    """
    if form not in VISIT_FORMS:
        raise CaseError(Message("家访形式须为：%(visit_forms)s", visit_forms=_one_of(VISIT_FORMS)))
    if not (visitors or "").strip() or not (findings or "").strip():
        raise CaseError(Message("请填写家访人员和家访情况"))
    if visited_on > today():
        raise CaseError(Message("家访日期不能晚于今天"))
    if case is None:
        case = open_case_of(child)
        if case is not None and visited_on < case.opened_on:
            case = None
        expected_version = None
    if case is not None:
        _check_version(case, expected_version)
        if case.child_id != child.id:
            raise CaseError(Message("个案与学生不符"))
        if case.state == "closed":
            raise CaseError(Message("个案已销号"))
        if visited_on < case.opened_on:
            raise CaseError(Message("家访日期 %(visited_on)s 早于立案日期 %(opened_on)s；立案前的家访请登记在学生页面",
                                    visited_on=visited_on, opened_on=case.opened_on))
    visit = HomeVisit(child=child, case=case, visited_on=visited_on, visitors=visitors.strip(), form=form,
                      findings=findings.strip(), outcome=outcome, next_action=next_action,
                      recorded_by_id=audit.acting_user_id(user))
    db.session.add(visit)
    db.session.flush()
    if case is not None:
        db.session.refresh(case, ["visits"])
        _refresh_deadline(case)
        case.updated_at = utcnow()  # bumps the version: a resubmitted visit form is refused
        _flush_or_stale()
    audit.record("create", visit, user=user)
    return visit


def notify_transition(case: DropoutCase, event: CaseEvent, user=None) -> None:
    """Call the ``case_transitioned`` hook after the commit; a failing notifier is
    logged and never undoes the transition nor stops the other notifiers."""
    hooks.notify("case_transitioned", case=case, transition=event, user=user)


def deadline_report(case: DropoutCase, on: date) -> dict:
    """The case's deadlines as the page and ``cases show --json`` give them.

    :return: ``{"deadline_estimated": bool, "time_limits": [{"key", "label", "day"
        (ISO), "estimated", "days_left", "warning"}], "estimated_note": str | None}``;
        a limit warns within ``EDU_GUARD_DEADLINE_WARN_DAYS`` (default 10) calendar days
        and once passed (行政处罚法 Art. 60, 61; 行政强制法 Art. 53).
    """
    facts = facts_for(case)
    current = machine.current_deadline(facts) if case.state != "closed" else None
    warn = int(current_app.config.get("EDU_GUARD_DEADLINE_WARN_DAYS", 10))
    limits = []
    for key, label, deadline in (machine.time_limits(facts) if case.state != "closed" else []):
        left = (deadline.day - on).days
        warning = None
        if left < 0:
            warning = Message("已于 %(day)s 届满", day=deadline.day)
        elif left <= warn:
            warning = Message("%(days)s 日后届满", days=left)
        limits.append({"key": key, "label": label, "day": deadline.day.isoformat(), "estimated": deadline.estimated,
                       "days_left": left, "warning": warning})
    estimated = bool(current and current.estimated) or any(l["estimated"] for l in limits)
    return {
        "deadline_estimated": bool(current and current.estimated),
        "time_limits": limits,
        "estimated_note": (Message("估算：该年度国务院节假日安排尚未载入，按法定节假日和周末推算，调休工作日未计入")
                           if estimated else None),
    }


def due_within(cases: Iterable[DropoutCase], days: int, on: date) -> list[DropoutCase]:
    """The cases with the current step's deadline or one of the bureau's time limits
    (:func:`machine.time_limits`) falling from ``on`` to ``days`` calendar days later
    (passed ones are the list's "已到期" filter)."""
    from datetime import timedelta

    until = on + timedelta(days=days)
    out = []
    for case in cases:
        days_due = [case.deadline] if case.deadline else []
        if case.state != "closed":
            days_due += [d.day for _, _, d in machine.time_limits(facts_for(case))]
        if any(on <= d <= until for d in days_due):
            out.append(case)
    return out


def load_holiday_arrangement(year: int, holidays_text: str, workdays_text: str, source: str,
                             user=None) -> dict:
    """Check and load a year's official holiday arrangement (the State Council's notice)
    into the database, audited (``load_holidays``: who, the year, the source, the days;
    the earlier load of the year as ``before``). Every process counts by it once the
    unit of work commits (:mod:`edu_guard.deadlines`).

    :param year: the year (e.g. 2027).
    :param holidays_text: the rest days, dates or ``YYYY-MM-DD~YYYY-MM-DD`` ranges.
    :param workdays_text: the make-up working days (调休上班).
    :param source: the notice's document number.
    :param user: who loads it (the signed-in user by default; ``None`` on the CLI).
    :return: ``{"holidays": [ISO …], "workdays": [ISO …]}`` as stored.
    :raises CaseError: a bad date, a statutory holiday missing or made a working day
        (全国年节及纪念日放假办法), no source.
    """
    source = (source or "").strip()
    if not source:
        raise CaseError(Message("请填写国务院办公厅通知的文号"))
    try:
        arrangement = deadlines.parse_arrangement(year, holidays_text, workdays_text)
    except deadlines.ArrangementError as exc:
        raise CaseError(message_of(exc)) from None
    old = db.session.get(deadlines.HolidayArrangement, year)
    before = {"year": year, "source": old.source, "holidays": list(old.holidays), "workdays": list(old.workdays)} \
        if old is not None else None
    row = deadlines.save_arrangement(year, arrangement, source)
    entry = audit.record("load_holidays", row, before=before,
                         after={"year": year, "source": source, **arrangement}, user=user)
    entry.entity_id = year
    return arrangement


def set_addresses(case: DropoutCase, *, guardian_address: str | None = None, guardian_id_number: str | None = None,
                  child_address: str | None = None, user=None) -> None:
    """Record the child's and the first guardian's address and the guardian's ID number
    (the party's address: 行政处罚法 Art. 59 (一); the respondent's identity: 行政强制法
    Art. 55), audited.

    :raises CaseError: no guardian registered, or an invalid ID number.
    """
    child = case.child
    guardian = child.guardians[0] if child.guardians else None
    # A value equal to the one on record changes nothing (the form shows them filled in).
    if child_address and child_address.strip() == (child.address or ""):
        child_address = None
    if guardian is not None and guardian_address and guardian_address.strip() == (guardian.address or ""):
        guardian_address = None
    if child_address:
        before = audit.snapshot(child)
        child.address = child_address.strip()
        audit.record("update", child, before=before, user=user)
    if guardian_address or guardian_id_number:
        if not child.guardians:
            raise CaseError(Message("%(name)s没有登记监护人，请先登记监护人", name=child.name))
        g = child.guardians[0]
        before = audit.snapshot(g)
        if guardian_address:
            g.address = guardian_address.strip()
        if guardian_id_number:

            try:
                g.id_number = validate_id_number(guardian_id_number.strip())
            except ValueError as exc:
                raise CaseError(Message("监护人身份证号 %(guardian_id_number)s 无效：%(exc)s",
                                        guardian_id_number=guardian_id_number, exc=message_of(exc))) from None
        audit.record("update", g, before=before, user=user)
    case.updated_at = utcnow()
    _flush_or_stale()


def _editable(case: DropoutCase, expected_version: int | None) -> None:
    _check_version(case, expected_version)
    if case.state == "closed":
        raise CaseError(Message("个案已销号，不能再修改"))


def add_assignment(case: DropoutCase, *, role: str, name: str, phone: str | None = None, user=None,
                   expected_version: int | None = None) -> CaseAssignment:
    """Add a responsible person (包保责任人) to an open case; audited.

    :param role: one of :data:`RESPONSIBLE_ROLES`.
    :raises CaseError: unknown role, empty name, closed or stale case.
    """
    _editable(case, expected_version)
    if role not in RESPONSIBLE_ROLES:
        raise CaseError(Message("未知的责任人角色：%(role)s", role=role))
    if not (name or "").strip():
        raise CaseError(Message("请填写责任人姓名"))
    row = CaseAssignment(case=case, role=role, name=name.strip(), phone=(phone or "").strip() or None)
    db.session.add(row)
    case.updated_at = utcnow()
    _flush_or_stale()
    audit.record("create", row, user=user)
    return row


def _assignment(case: DropoutCase, assignment_id: int) -> CaseAssignment:
    row = db.session.get(CaseAssignment, assignment_id)
    if row is None or row.case_id != case.id:
        raise CaseError(Message("本案无此责任人"))
    return row


def change_assignment(case: DropoutCase, assignment_id: int, *, name: str, phone: str | None = None, user=None,
                      expected_version: int | None = None) -> CaseAssignment:
    """Change a responsible person's name or phone (e.g. a new 班主任); audited with the
    values before and after.

    :raises CaseError: empty name, unknown or ended person, closed or stale case.
    """
    _editable(case, expected_version)
    row = _assignment(case, assignment_id)
    if row.ended_on is not None:
        raise CaseError(Message("%(name)s 已于 %(ended_on)s 终止包保，不能修改", name=row.name, ended_on=row.ended_on))
    if not (name or "").strip():
        raise CaseError(Message("请填写责任人姓名"))
    before = audit.snapshot(row)
    row.name, row.phone = name.strip(), (phone or "").strip() or None
    case.updated_at = utcnow()
    _flush_or_stale()
    audit.record("update", row, before=before, user=user)
    return row


def end_assignment(case: DropoutCase, assignment_id: int, *, on: date, user=None,
                   expected_version: int | None = None) -> CaseAssignment:
    """End a responsible person's duty on ``on`` (the row stays in the case file); audited.

    :raises CaseError: the date is in the future or before the case was opened, the
        person already ended, closed or stale case.
    """
    _editable(case, expected_version)
    row = _assignment(case, assignment_id)
    if row.ended_on is not None:
        raise CaseError(Message("%(name)s 已于 %(ended_on)s 终止包保", name=row.name, ended_on=row.ended_on))
    if on > today():
        raise CaseError(Message("终止日期不能晚于今天"))
    if on < case.opened_on:
        raise CaseError(Message("终止日期 %(on)s 早于立案日期 %(opened_on)s", on=on, opened_on=case.opened_on))
    before = audit.snapshot(row)
    row.ended_on = on
    case.updated_at = utcnow()
    _flush_or_stale()
    audit.record("update", row, before=before, user=user)
    return row


def correct_reason(case: DropoutCase, *, reason: str, reason_note: str | None = None, user=None,
                   expected_version: int | None = None) -> DropoutCase:
    """Correct the 辍学原因 (and its note) of a case, e.g. one opened in bulk from a
    comparison; audited with the values before and after.

    :raises CaseError: the reason is not one of :data:`REASONS`; closed or stale case.
    """
    _editable(case, expected_version)
    if reason not in REASONS:
        raise CaseError(Message("辍学原因须为：%(reasons)s", reasons=_one_of(REASONS)))
    before = audit.snapshot(case, ["reason", "reason_note"])
    case.reason, case.reason_note = reason, (reason_note or "").strip() or None
    _flush_or_stale()
    audit.record("update", case, before=before, after=audit.snapshot(case, ["reason", "reason_note"]), user=user)
    return case
