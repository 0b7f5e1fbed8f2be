"""Services of 控辍保学 cases: open, act on the four-step machine, log home visits.

The only place that changes case data. Functions add and flush, write the audit log,
and never commit: the request or CLI boundary commits once, then calls
:func:`notify_transition` so a failing notifier never undoes a transition.
"""

from __future__ import annotations

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
from edu_guard.registry.models import Child

#: Stages of compulsory education (义务教育法 Art. 2: 小学 and 初中).
COMPULSORY_STAGES = ("小学", "初中", "九年一贯制")


class CaseError(ValueError):
    """A request on a case was refused; ``str(exc)`` is the reason in Chinese."""


class StaleCase(CaseError):
    """The case changed since the user loaded it (optimistic lock)."""


def _settings() -> dict:
    return {k: v for k, v in current_app.config.items() if k.startswith("EDU_GUARD_")}


def today() -> date:
    """Return today's date (one place, so tests can set it)."""
    return date.today()


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
        invalid; the child is placed 送教上门 (counts as enrolled, SPEC 2.7); or the
        child is not of compulsory-school age (义务教育法 Art. 11) and
        not enrolled in a compulsory stage.
    """
    opened_on = opened_on or today()
    if opened_on > today():
        raise CaseError("立案日期不能晚于今天")
    if reason not in REASONS:
        raise CaseError(f"辍学原因须为：{'、'.join(REASONS)}")
    if source not in SOURCES:
        raise CaseError(f"未知的来源：{source}")
    existing = db.session.execute(
        sa.select(DropoutCase.id).where(DropoutCase.child_id == child.id, DropoutCase.state != "closed")
    ).scalar()
    if existing:
        raise CaseError(f"{child.name} 已有未销号的个案（编号 {existing}），不能重复立案")
    from edu_guard.homebound.services import active_placement  # homebound builds on cases: import here

    placed = active_placement(child, opened_on)
    if placed is not None:
        raise CaseError(f"{child.name} 自 {placed.starts_on} 起由{placed.school.name}送教上门，计为在读，不能作为辍学立案")
    cfg = current_app.config
    age = age_on(child.birth_date, opened_on)
    enrollment = child.current_enrollment
    in_compulsory_stage = enrollment is not None and enrollment.school.stage in COMPULSORY_STAGES
    if not (cfg["EDU_GUARD_COMPULSORY_MIN_AGE"] <= age <= cfg["EDU_GUARD_COMPULSORY_MAX_AGE"]) and not in_compulsory_stage:
        raise CaseError(f"{child.name} 于 {opened_on} 年满 {age} 周岁，不在义务教育年龄段，且未在义务教育学校就读")
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
            raise CaseError(f"未知的责任人角色：{a.get('role')}")
        case.assignments.append(CaseAssignment(role=a["role"], name=a["name"].strip(), phone=(a.get("phone") or None)))
    db.session.add(case)
    db.session.flush()
    _refresh_deadline(case)
    db.session.add(CaseEvent(case=case, event="open", from_state=None, to_state="persuasion", acted_on=opened_on,
                             user_id=audit.acting_user_id(user), note=reason_note))
    audit.record("create", case, user=user)
    return case


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


def facts_for(case: DropoutCase) -> machine.CaseFacts:
    """Build the machine's view of ``case`` from the database."""
    letters = {}
    for letter in sorted(case.letters, key=lambda l: l.id):
        letters[letter.kind] = machine.LetterFacts(letter.id, letter.issued_on, letter.served_on)
    return machine.CaseFacts(
        state=case.state,
        opened_on=case.opened_on,
        step_started_on=case.step_started_on,
        home_visits=len(case.visits),
        letters=letters,
        resumed_state=case.resumed_state,
        outcome_on=case.outcome_on,
        settings=_settings(),
    )


def _refresh_deadline(case: DropoutCase) -> None:
    deadline = machine.current_deadline(facts_for(case))
    case.deadline = deadline.day if deadline else None


def _check_version(case: DropoutCase, expected_version: int | None) -> None:
    if expected_version is not None and int(expected_version) != case.version:
        raise StaleCase("本案已被他人修改，请刷新页面后重新操作（您的操作未保存）")


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
    on = on or today()
    if on > today():
        raise CaseError("办理日期不能晚于今天")
    data = dict(data or {})
    facts = facts_for(case)
    try:
        t = machine.check(event, facts, _role(user), on)
    except machine.IllegalTransition as exc:
        raise CaseError(str(exc)) from None
    before = audit.snapshot(case)
    from_state = case.state
    letter = None
    if t.letter == "penalty_notice":
        data["fine"] = str(_fine(data.get("fine")))
    if t.letter:
        letter = _issue_case_letter(t.letter, [case], on, user, data)
    _apply_outcome(case, t, on, data, note)
    to_state = machine.target_of(t, facts)
    if to_state != from_state:
        if from_state in machine.OUT_OF_SCHOOL and to_state == "following_up":
            case.resumed_state = from_state
        case.state = to_state
        case.step_started_on = on
    if to_state == "closed":
        case.closed_on = on
    _refresh_deadline(case)
    case.updated_at = utcnow()  # every act bumps the version: a resubmitted form is refused
    ev = CaseEvent(case=case, event=event, from_state=from_state, to_state=case.state, acted_on=on,
                   user_id=audit.acting_user_id(user), note=note, letter_id=letter.id if letter else None,
                   data=data or None)
    db.session.add(ev)
    _flush_or_stale()
    audit.record("transition", case, before=before, user=user)
    return ev


def _fine(value) -> Decimal:
    cfg = current_app.config
    try:
        amount = Decimal(str(value).strip())
    except (InvalidOperation, TypeError):
        raise CaseError("请填写拟处罚款金额（元），如 200 或 200.50") from None
    if not amount.is_finite() or amount != amount.quantize(Decimal("0.01")):
        raise CaseError(f"罚款金额 {value} 元最多精确到分（两位小数）")
    reason = machine.fine_in_range(amount, Decimal(cfg["EDU_GUARD_FINE_MIN"]), Decimal(cfg["EDU_GUARD_FINE_MAX"]))
    if reason:
        raise CaseError(reason)
    return amount


def _apply_outcome(case: DropoutCase, t: machine.Transition, on: date, data: dict, note: str | None) -> None:
    event = t.event
    if event == "return_to_school":
        case.outcome, case.outcome_on = "复学", on
    elif event == "drop_out_again":
        case.outcome, case.outcome_on = None, None
    elif event == "close_follow_up":
        case.closed_reason = f"{case.outcome_on} 复学，跟踪期满销号"
    elif event == "place":
        placement = data.get("placement")
        if placement not in machine.PLACEMENTS:
            raise CaseError(f"安置方式须为：{'、'.join(machine.PLACEMENTS)}")
        case.outcome, case.outcome_on, case.closed_reason = placement, on, f"{on} 安置（{placement}），销号"
    elif event == "verify_elsewhere":
        school = (data.get("school") or "").strip()
        if not school:
            raise CaseError("请填写核实就读的学校")
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
    except StaleDataError:
        db.session.rollback()
        raise StaleCase("本案已被他人修改，请刷新页面后重新操作（您的操作未保存）") from None


def _issue_case_letter(kind: str, cases: list[DropoutCase], on: date, user, data: dict):
    """Build the letter's context from the case and the periods this module decides,
    then number, render and store it (:func:`edu_guard.letters.services.issue_letter`).

    The order prints its period counted from service; the penalty letters print the
    return date that period gave (:func:`machine.order_deadline`).
    """
    from edu_guard.cases.deadlines import add_calendar_days
    from edu_guard.letters import services as letters
    from edu_guard.letters.schemas import LetterError

    cfg = current_app.config
    extra: dict[str, Any] = {}
    if kind == "return_contact":
        extra["reply_by"] = add_calendar_days(on, int(cfg["EDU_GUARD_PERSUASION_DAYS"])).day
    elif kind == "order_to_correct":
        extra["period_days"] = int(cfg["EDU_GUARD_ORDER_TO_CORRECT_DAYS"])
    elif kind in ("penalty_notice", "penalty_decision"):
        extra["order"] = _served_order(cases[0])
        if kind == "penalty_notice":
            extra["fine"] = Decimal(data["fine"])
        elif data.get("statement"):
            extra["statement"] = data["statement"]
    elif kind in ("demand", "enforcement_application"):
        extra["as_of"] = on
        if kind == "enforcement_application":
            extra["representative"] = (data.get("representative") or cfg.get("EDU_GUARD_BUREAU_HEAD") or "").strip()
            if not extra["representative"]:
                raise CaseError("请填写申请人（教育局）的负责人姓名（法定代表人），或在配置中设置 EDU_GUARD_BUREAU_HEAD")
    subject = cases if kind == "return_contact" else cases[0]
    try:
        context = letters.context_for_case(kind, subject, **extra)
        return letters.issue_letter(kind, context, issuer=letters.issuer_for(kind, cases[0]), cases=cases,
                                    issued_on=on, user=user)
    except LetterError as exc:
        raise CaseError(str(exc)) from None


def _served_order(case: DropoutCase) -> dict:
    """The case's served order as the penalty letters cite it, with the return date
    counted from its service."""
    letter = max((l for l in case.letters if l.kind == "order_to_correct"), key=lambda l: l.id)
    deadline = machine.order_deadline(facts_for(case))
    return {"title": letter.title, "doc_number": letter.doc_number, "issuer_name": letter.issuer_name,
            "issued_on": letter.issued_on, "served_on": letter.served_on, "deadline": deadline.day if deadline else None}


def issue_return_contact(cases: list[DropoutCase], *, on: date | None = None, user=None) -> list[CaseEvent]:
    """Issue one 劝返联系函 to a township government listing the children of ``cases``.

    :raises CaseError: the cases are of several townships, or one may not receive it.
    """
    if not cases:
        raise CaseError("请选择个案")
    townships = {c.township_id for c in cases}
    if len(townships) != 1:
        raise CaseError("一份劝返联系函只能发给一个乡镇，请按乡镇分别选择")
    on = on or today()
    for case in cases:
        try:
            machine.check("issue_return_contact", facts_for(case), _role(user), on)
        except machine.IllegalTransition as exc:
            raise CaseError(f"{case.child.name}：{exc}") from None
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
    from edu_guard.letters import services as letters
    from edu_guard.letters.schemas import LetterError

    _check_version(case, expected_version)
    letter = next((l for l in case.letters if l.id == int(letter_id)), None)
    if letter is None:
        raise CaseError("该文书不属于本案")
    if letter.kind == "return_contact":
        raise CaseError("劝返联系函是发给乡镇人民政府的工作函，不需登记送达回证")
    if _role(user) is not None and _role(user) not in machine.BUREAU_AND_TOWNSHIP:
        raise CaseError("您的角色无权登记送达")
    try:
        letters.record_service(letter, served_on=served_on, manner=manner, served_to=served_to, served_by=served_by, user=user)
    except LetterError as exc:
        raise CaseError(str(exc)) from None
    _refresh_deadline(case)
    case.updated_at = utcnow()  # bump the version: the deadline changed
    ev = CaseEvent(case=case, event="record_service", from_state=case.state, to_state=case.state, acted_on=served_on,
                   user_id=audit.acting_user_id(user), letter_id=letter.id,
                   note=f"{letter.title}（{letter.doc_number}）{served_on} {manner}，受送达人 {served_to}")
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
        raise CaseError(f"家访形式须为：{'、'.join(VISIT_FORMS)}")
    if not (visitors or "").strip() or not (findings or "").strip():
        raise CaseError("请填写家访人员和家访情况")
    if visited_on > today():
        raise CaseError("家访日期不能晚于今天")
    if case is None:
        case = open_case_of(child)
        if case is not None and visited_on < case.opened_on:
            case = None
        expected_version = None
    if case is not None:
        _check_version(case, expected_version)
        if case.child_id != child.id:
            raise CaseError("个案与学生不符")
        if case.state == "closed":
            raise CaseError("个案已销号")
        if visited_on < case.opened_on:
            raise CaseError(f"家访日期 {visited_on} 早于立案日期 {case.opened_on}；立案前的家访请登记在学生页面")
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
    from edu_guard.plugins import EXTENSION_KEY, notify

    notify(current_app.extensions[EXTENSION_KEY], "case_transitioned", case=case, transition=event, user=user)


def _editable(case: DropoutCase, expected_version: int | None) -> None:
    _check_version(case, expected_version)
    if case.state == "closed":
        raise CaseError("个案已销号，不能再修改")


def add_assignment(case: DropoutCase, *, role: str, name: str, phone: str | None = None, user=None,
                   expected_version: int | None = None) -> CaseAssignment:
    """Add a responsible person (包保责任人) to an open case; audited.

    :param role: one of :data:`RESPONSIBLE_ROLES`.
    :raises CaseError: unknown role, empty name, closed or stale case.
    """
    _editable(case, expected_version)
    if role not in RESPONSIBLE_ROLES:
        raise CaseError(f"未知的责任人角色：{role}")
    if not (name or "").strip():
        raise CaseError("请填写责任人姓名")
    row = CaseAssignment(case=case, role=role, name=name.strip(), phone=(phone or "").strip() or None)
    db.session.add(row)
    case.updated_at = utcnow()
    _flush_or_stale()
    audit.record("create", row, user=user)
    return row


def _assignment(case: DropoutCase, assignment_id: int) -> CaseAssignment:
    row = db.session.get(CaseAssignment, assignment_id)
    if row is None or row.case_id != case.id:
        raise CaseError("本案无此责任人")
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
        raise CaseError(f"{row.name} 已于 {row.ended_on} 终止包保，不能修改")
    if not (name or "").strip():
        raise CaseError("请填写责任人姓名")
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
        raise CaseError(f"{row.name} 已于 {row.ended_on} 终止包保")
    if on > today():
        raise CaseError("终止日期不能晚于今天")
    if on < case.opened_on:
        raise CaseError(f"终止日期 {on} 早于立案日期 {case.opened_on}")
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
        raise CaseError(f"辍学原因须为：{'、'.join(REASONS)}")
    before = audit.snapshot(case, ["reason", "reason_note"])
    case.reason, case.reason_note = reason, (reason_note or "").strip() or None
    _flush_or_stale()
    audit.record("update", case, before=before, after=audit.snapshot(case, ["reason", "reason_note"]), user=user)
    return case
