"""Web pages of 控辍保学 cases: list, open, the case page with its timeline and the
actions allowed now, home visits, proof of service, bulk 劝返联系函."""

from __future__ import annotations

import base64
import io
from datetime import date

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from edu_guard import acts
from edu_guard.auth.scoping import can_see_child
from edu_guard.cases import jobs as case_jobs
from edu_guard.cases import machine, services
from edu_guard.cases import queries as case_queries
from edu_guard.cases.casefile import case_file_pdf
from edu_guard.cases.forms import (
    ActForm,
    AddressesForm,
    AssignmentForm,
    CorrectServiceForm,
    GuardianForm,
    HolidayArrangementForm,
    OpenCaseForm,
    ReasonForm,
    ReturnContactForm,
    ServiceForm,
    VisitForm,
    VoidLetterForm,
    form_errors,
)
from edu_guard.cases.models import REASONS, RESPONSIBLE_ROLES, DropoutCase
from edu_guard.cases.schemas import mask_id
from edu_guard.auth.audit import full_number_access
from edu_guard.db import db
from edu_guard import deadlines
from edu_guard.letters.models import SERVICE_MANNERS
from edu_guard.letters.services import missing_penalty_settings
from edu_guard.registry.models import Child

from edu_guard.letters.render import LetterError
from edu_guard.jobs.views import export_response
from edu_guard.web import after_commit, download_name, refusals, run_or_flash
from edu_guard.registry.services import add_guardian

bp = Blueprint("cases", __name__)


def _writer() -> None:
    if not current_user.can_write:
        abort(403)


def _run(action, success: str | None = None):
    """Run a service call; a refusal rolls back and is flashed (the request boundary commits)."""
    return run_or_flash(action, (services.CaseError,), success)


def _get_case(case_id: int) -> DropoutCase:
    case = case_queries.case_by_id(case_id, current_user)
    if case is None:
        abort(404)
    return case


def _get_child(child_id: int) -> Child:
    child = db.session.get(Child, child_id)
    if child is None or not can_see_child(current_user, child):
        abort(404)
    return child


@bp.get("/cases")
@login_required
def case_list():
    """List cases with filters: step/state, township, school, overdue, name; paged."""
    args = request.args
    state = args.get("state") or "open"
    filters = {"state": state, "township": args.get("township", type=int), "school": args.get("school", type=int),
               "overdue": bool(args.get("overdue")), "q": args.get("q"), "due_within": args.get("due_within", type=int)}
    if args.get("format") == "xlsx":  # a big one is made by a job (edu_guard.cases.jobs)
        return export_response("cases", filters)
    stmt = case_jobs.case_list_stmt(filters, current_user)
    page = db.paginate(stmt, per_page=current_app.config["EDU_GUARD_PAGE_SIZE"], error_out=False)
    townships, schools = case_queries.areas()
    today = services.today()
    # Entered after the fact: the letter's date follows the listed cases' latest act.
    latest = max((d for d in map(services.last_act_on, page.items) if d), default=None)
    return render_template("cases/list.html", page=page, states=machine.STATES, state=state, townships=townships,
                           schools=schools, mask_id=mask_id, today=today,
                           letter_default=acts.default_act_date(latest, today),
                           base_args={k: v for k, v in args.items() if k != "page"})


@bp.route("/children/<int:child_id>/cases/new", methods=["GET", "POST"])
@login_required
def case_new(child_id: int):
    """Open a case for a child (第一步 宣传教育)."""
    _writer()
    child = _get_child(child_id)
    form = OpenCaseForm()
    typed = request.form if request.method == "POST" else {}
    if not typed and child.guardians:
        typed = {"name_guardian": child.guardians[0].name, "phone_guardian": child.guardians[0].phone or ""}
    if form.validate_on_submit():
        with refusals(services.CaseError) as outcome:
            case = services.open_case(
                child, reason=form.reason.data, opened_on=form.opened_on.data, reason_note=form.reason_note.data,
                assignments=form.assignments(request.form), user=current_user)
        if outcome.ok:
            flash(_("已立案：%(name)s，第一步宣传教育期限 %(deadline)s", name=child.name, deadline=case.deadline), "success")
            return redirect(url_for("cases.case_detail", case_id=case.id))
    return render_template("cases/new.html", child=child, form=form, roles=RESPONSIBLE_ROLES, typed=typed)


@bp.get("/cases/<int:case_id>")
@login_required
def case_detail(case_id: int):
    """The case page: state, deadline, responsible people, timeline, letters, visits,
    and the actions allowed now with the reason for those that are not."""
    case = _get_case(case_id)
    full_number_access("view_full", "dropout_case", case.id)
    facts = services.facts_for(case)
    role = current_user.role if current_user.can_write else None
    today = services.today()
    act_default = acts.default_act_date(services.last_act_on(case), today)
    act_day = request.args.get("on", type=_iso_day) or act_default
    act_day = min(act_day, today)
    # What is allowed is evaluated on the act's date (entered after the fact), not today.
    actions = machine.allowed(facts, role, act_day) if current_user.can_write else []
    deadline = machine.current_deadline(facts)
    # The step's main act (escalate, issue the step's letter) is shown open.
    first_main = next((t.event for t, why in actions if why is None and t.event != "issue_return_contact"), None)
    # "已到期，可办理下一步" only when the step that follows the deadline is in fact allowed
    # on the act's date (a closing such as 已复学 is always open and does not count).
    next_allowed = any(why is None and t.event in NEXT_STEP_EVENTS for t, why in actions)
    return render_template(
        "cases/detail.html", case=case, state=machine.STATES[case.state], actions=actions, deadline=deadline,
        first_main=first_main, next_allowed=next_allowed,
        act_form=ActForm(version=case.version), visit_form=VisitForm(version=case.version),
        service_form=ServiceForm(version=case.version), guardian_form=GuardianForm(), address_form=AddressesForm(),
        correct_form=CorrectServiceForm(version=case.version), void_form=VoidLetterForm(version=case.version),
        limits=services.deadline_report(case, services.today()), missing_settings=missing_penalty_settings(),
        service_manners=SERVICE_MANNERS,
        roles=RESPONSIBLE_ROLES, event_labels=machine.EVENT_LABELS, states=machine.STATES, mask_id=mask_id,
        today=today, reasons=REASONS, visitor_names=_visitor_names(case), act_day=act_day,
        act_default=act_default, act_note=acts.closed_term_note(act_day, today))


#: The acts that follow a step's deadline (the next step of the four, the court, the
#: end of the follow-up period): the deadline badge says the next step may be taken
#: only when one of them is allowed.
NEXT_STEP_EVENTS = frozenset({"escalate_to_order", "escalate_to_penalty", "escalate_to_enforcement", "apply_to_court",
                              "close_follow_up"})


def _iso_day(text: str) -> date:
    return date.fromisoformat(text)


@bp.post("/cases/<int:case_id>/act")
@login_required
def case_act(case_id: int):
    """Carry out one event of the machine; refusals are shown with their reason."""
    _writer()
    case = _get_case(case_id)
    form = ActForm()
    if not form.validate_on_submit():
        flash(form_errors(form), "error")
        return redirect(url_for("cases.case_detail", case_id=case.id))
    data = {k: getattr(form, k).data for k in ("fine", "placement", "school", "representative", "fine_reason",
                                                  "content", "result", "hearing_time", "place", "host", "amount",
                                                  "receipt", "body", "public", "closed_reason")}
    data.update(hearing_on=form.hearing_on.data.isoformat() if form.hearing_on.data else None,
                until=form.until.data.isoformat() if form.until.data else None, kind=form.pay_kind.data,
                confirm_estimate=bool(form.confirm_estimate.data))
    data = {k: v for k, v in data.items() if v not in (None, "", False)}
    if form.preview.data:
        # The letter as it would be issued: nothing numbered, stored or changed.
        with refusals(services.CaseError) as outcome:
            pdf, estimates = services.preview(case, form.event.data, on=form.on.data, user=current_user, data=data)
        if not outcome.ok:
            return redirect(url_for("cases.case_detail", case_id=case.id))
        return render_template("cases/preview.html", case=case, event=machine.TRANSITIONS[form.event.data],
                               estimates=estimates, pdf_b64=base64.b64encode(pdf).decode("ascii"))
    with refusals(services.CaseError) as outcome:
        ev = services.fire(case, form.event.data, on=form.on.data, note=form.note.data or None,
                           expected_version=form.version.data, user=current_user,
                           data=data)
    if outcome.ok:
        user = current_user._get_current_object()
        after_commit(lambda: services.notify_transition(case, ev, user))
        label = _(machine.TRANSITIONS[ev.event].label)
        if ev.letter:
            msg = _("已办理：%(step)s，文书 %(number)s 已生成，请打印送达后登记送达回证", step=label,
                    number=ev.letter.doc_number)
        else:
            msg = _("已办理：%(step)s", step=label)
        flash(msg, "success")
        acts.flash_closed_term(ev.acted_on, services.today())
    return redirect(url_for("cases.case_detail", case_id=case.id))


@bp.post("/cases/<int:case_id>/visits")
@login_required
def case_visit(case_id: int):
    """Log a home visit on the case."""
    _writer()
    case = _get_case(case_id)
    form = VisitForm()
    if form.validate_on_submit():
        _run(lambda: services.log_home_visit(case.child, case=case, user=current_user,
                                                expected_version=form.version.data, **_visit_fields(form)),
                _("已登记家访"))
    else:
        flash(form_errors(form), "error")
    return redirect(url_for("cases.case_detail", case_id=case.id))


@bp.route("/children/<int:child_id>/visits", methods=["GET", "POST"])
@login_required
def child_visit(child_id: int):
    """Log a home visit from the child's page: on the child's open case if there is one
    (from its opening day), otherwise to a child at risk."""
    _writer()
    child = _get_child(child_id)
    case = services.open_case_of(child)
    form = VisitForm()
    if form.validate_on_submit():
        if _run(lambda: services.log_home_visit(child, user=current_user, **_visit_fields(form)), _("已登记家访")):
            return redirect(url_for("registry.child_detail", child_id=child.id))
    elif form.is_submitted():
        flash(form_errors(form), "error")  # a field missing or not a date: say which
    return render_template("cases/visit.html", child=child, visit_form=form, case=case,
                           visitor_names=_visitor_names(case))


def _visitor_names(case: DropoutCase | None) -> list[str]:
    """The case's current responsible people, offered as visitors (包保责任人 visit)."""
    if case is None:
        return []
    return [a.name for a in case.assignments if a.ended_on is None]


def _visit_fields(form: VisitForm) -> dict:
    return {k: getattr(form, k).data for k in ("visited_on", "visitors", "form", "findings", "outcome", "next_action")}


@bp.post("/cases/<int:case_id>/service")
@login_required
def case_service(case_id: int):
    """Record the proof of service (送达回证) of one of the case's letters."""
    _writer()
    case = _get_case(case_id)
    form = ServiceForm()
    if form.validate_on_submit():
        if _run(lambda: services.record_service(
                case, form.letter_id.data, served_on=form.served_on.data, manner=form.manner.data,
                served_to=form.served_to.data, served_by=form.served_by.data, user=current_user,
                expected_version=form.version.data)):
            flash(_("已登记送达；本步期限 %(deadline)s", deadline=case.deadline or "—"), "success")
    else:
        flash(form_errors(form), "error")
    return redirect(url_for("cases.case_detail", case_id=case.id))


@bp.post("/cases/<int:case_id>/service/correct")
@login_required
def case_correct_service(case_id: int):
    """Correct a mistyped proof of service; the old record stays in the timeline and the
    audit log, and every later deadline follows."""
    _writer()
    case = _get_case(case_id)
    form = CorrectServiceForm()
    if form.validate_on_submit():
        if _run(lambda: services.correct_service(
                case, form.letter_id.data, served_on=form.served_on.data, manner=form.manner.data,
                reason=form.reason.data, user=current_user, expected_version=form.version.data)):
            letter = next(l for l in case.letters if l.id == form.letter_id.data)
            until = services.service_deadline(case, letter)
            if until:
                flash(_("已更正送达记录；按更正后的送达日期，%(title)s（%(number)s）规定的期限至 %(deadline)s",
                        title=letter.title, number=letter.doc_number, deadline=until), "success")
            else:
                flash(_("已更正送达记录"), "success")
    else:
        flash(form_errors(form), "error")
    return redirect(url_for("cases.case_detail", case_id=case.id))


@bp.post("/cases/<int:case_id>/letters/void")
@login_required
def case_void_letter(case_id: int):
    """Void a letter (its number stays used) so it can be issued again."""
    _writer()
    case = _get_case(case_id)
    form = VoidLetterForm()
    if form.validate_on_submit():
        on = form.on.data or acts.default_act_date(services.last_act_on(case), services.today())
        if _run(lambda: services.void_letter(case, form.letter_id.data, on=on, reason=form.reason.data,
                                                user=current_user, expected_version=form.version.data)):
            flash(_("文书已作废，文号不再使用；可重新制发"), "success")
    else:
        flash(form_errors(form), "error")
    return redirect(url_for("cases.case_detail", case_id=case.id))


@bp.post("/cases/return-contact")
@login_required
def return_contact():
    """Issue one 劝返联系函 for the selected cases (of one township)."""
    _writer()
    form = ReturnContactForm()
    if not form.validate_on_submit():
        flash(_("日期格式不对，应为 年-月-日") if form.on.errors else form_errors(form), "error")
        return redirect(url_for("cases.case_list"))
    cases = [_get_case(i) for i in form.case_id.data]
    on = form.on.data
    with refusals(services.CaseError) as outcome:
        events = services.issue_return_contact(cases, on=on, user=current_user)
    if not outcome.ok:
        return redirect(url_for("cases.case_list"))
    letter = events[0].letter
    flash(_("已生成劝返联系函 %(number)s（%(count)s 名学生）", number=letter.doc_number, count=len(cases)), "success")
    return redirect(url_for("letters.letter_detail", letter_id=letter.id))


@bp.post("/cases/<int:case_id>/guardians")
@login_required
def case_guardian(case_id: int):
    """Register a guardian of the case's child (letters to the guardian need one)."""

    _writer()
    case = _get_case(case_id)
    form = GuardianForm()
    if form.validate_on_submit():
        with refusals(ValueError):
            add_guardian(case.child, name=form.name.data, relation=form.relation.data, phone=form.phone.data,
                         address=form.address.data, id_number=form.id_number.data, user=current_user)
            flash(_("已登记监护人 %(name)s", name=form.name.data), "success")
    else:
        flash(form_errors(form), "error")
    return redirect(url_for("cases.case_detail", case_id=case.id))


@bp.post("/cases/<int:case_id>/addresses")
@login_required
def case_addresses(case_id: int):
    """Record the first guardian's address and ID number and the child's address (an
    address on record is changed only here or by ``cases guardian``, audited)."""
    _writer()
    case = _get_case(case_id)
    form = AddressesForm()
    if form.validate_on_submit():
        _run(lambda: services.set_addresses(case, guardian_address=form.guardian_address.data or None,
                                            guardian_id_number=form.guardian_id_number.data or None,
                                            child_address=form.child_address.data or None, user=current_user),
             _("已登记住址和身份信息"))
    else:
        flash(form_errors(form), "error")
    return redirect(url_for("cases.case_detail", case_id=case.id))


@bp.post("/cases/<int:case_id>/assignments")
@login_required
def case_assignment_add(case_id: int):
    """Add a responsible person (包保责任人) on the case page."""
    _writer()
    case = _get_case(case_id)
    f = AssignmentForm()
    f.validate_on_submit()  # the service judges role, name and version, by name
    _run(lambda: services.add_assignment(case, role=f.role.data or "", name=f.name.data or "", phone=f.phone.data,
                                         user=current_user, expected_version=f.version.data),
         _("已添加包保责任人"))
    return redirect(url_for("cases.case_detail", case_id=case.id) + "#people")


@bp.post("/cases/<int:case_id>/assignments/<int:assignment_id>")
@login_required
def case_assignment_edit(case_id: int, assignment_id: int):
    """Change (name, phone) or end (``end`` with a date) a responsible person."""
    _writer()
    case = _get_case(case_id)
    f = AssignmentForm()
    f.validate_on_submit()
    if f.end.data:
        if f.ended_on.data is None:
            flash(_("请填写终止日期（年-月-日）"), "error")
        else:
            _run(lambda: services.end_assignment(case, assignment_id, on=f.ended_on.data, user=current_user,
                                                 expected_version=f.version.data), _("已终止包保"))
    else:
        _run(lambda: services.change_assignment(case, assignment_id, name=f.name.data or "", phone=f.phone.data,
                                                user=current_user, expected_version=f.version.data),
             _("已修改包保责任人"))
    return redirect(url_for("cases.case_detail", case_id=case.id) + "#people")


@bp.post("/cases/<int:case_id>/reason")
@login_required
def case_reason(case_id: int):
    """Correct the 辍学原因 of the case."""
    _writer()
    case = _get_case(case_id)
    f = ReasonForm()
    f.validate_on_submit()  # the service refuses a reason not in the list, by name
    _run(lambda: services.correct_reason(case, reason=f.reason.data or "", reason_note=f.reason_note.data,
                                         user=current_user, expected_version=f.version.data),
         _("已更正辍学原因"))
    return redirect(url_for("cases.case_detail", case_id=case.id))


@bp.get("/cases/<int:case_id>/file.pdf")
@login_required
def case_file(case_id: int):
    """一案一档: the whole case file as one PDF (register, letters with their 送达回证, 销号)."""
    case = _get_case(case_id)
    with refusals(LetterError, flash_it=False) as outcome:
        pdf = case_file_pdf(case, printed_on=services.print_day(case, services.today()), full_id=current_user.sees_full_ids, user=current_user)
    if not outcome.ok:
        flash(_("一案一档未能打印：%(reason)s", reason=outcome.refused), "error")
        return redirect(url_for("cases.case_detail", case_id=case.id))
    return send_file(io.BytesIO(pdf), mimetype="application/pdf", as_attachment=False,
                     download_name=download_name(f"一案一档-{case.child.name}-{case.id}.pdf"))


@bp.route("/admin/holidays", methods=["GET", "POST"])
@login_required
def holiday_arrangements():
    """The admin loads a year's official holiday arrangement (the State Council's
    notice: rest days and 调休 make-up working days). Until a year is loaded, its
    deadlines are estimates (估算) on the statutory holidays (edu_guard.deadlines)."""
    if current_user.role != "admin":
        abort(403)
    form = HolidayArrangementForm()
    if form.validate_on_submit():
        with refusals(services.CaseError) as outcome:
            services.load_holiday_arrangement(form.year.data, form.holidays.data, form.workdays.data or "",
                                              form.source.data, user=current_user)
        if outcome.ok:
            flash(_("已载入 %(year)s 年的节假日安排：该年度的期限不再是估算", year=form.year.data), "success")
            return redirect(url_for("cases.holiday_arrangements"))
    elif request.method == "POST":
        flash(form_errors(form), "error")
    today = services.today()
    stored = deadlines.stored_arrangements()
    years = [{"year": y, "loaded": deadlines.arrangement_loaded(y), "stored": stored.get(str(y)),
              "statutory": [d.isoformat() for d in deadlines.statutory_holidays(y)]}
             for y in range(today.year, today.year + 3)]
    if form.year.data is None:
        form.year.data = next((y["year"] for y in years if not y["loaded"]), today.year + 1)
    return render_template("cases/holidays.html", form=form, years=years)
