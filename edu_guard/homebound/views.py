"""Web pages of 送教上门: placements, candidates and placing, a child's file (plan,
sessions, attachments, printables), and compliance with its Excel export."""

from __future__ import annotations

import io
from datetime import date

import sqlalchemy as sa
from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from edu_guard import acts
from edu_guard.i18n import Message
from edu_guard.auth.scoping import can_see_placement
from edu_guard.auth.services import role_required
from edu_guard.cases import services as case_services
from edu_guard.auth.audit import full_number_access
from edu_guard.db import db
from edu_guard.web import download_name, form_errors, refusals
from edu_guard.homebound import compliance as rules
from edu_guard.homebound import queries, schemas, services
from edu_guard.homebound.forms import EndForm, PlaceForm, PlanForm, SessionForm
from edu_guard.homebound.models import HomeboundAttachment, HomeboundPlacement
from edu_guard.letters.schemas import LetterError
from edu_guard.registry.models import Child, School
from edu_guard.letters.services import render_printable
from edu_guard.homebound import excel

bp = Blueprint("homebound", __name__, url_prefix="/homebound")


def _get_placement(placement_id: int) -> HomeboundPlacement:
    placement = db.session.get(HomeboundPlacement, placement_id)
    if placement is None or not can_see_placement(current_user, placement):
        abort(404)
    return placement


def _period(last_act: date | None = None) -> tuple[date, date, str]:
    """The period of the query string (``from``, ``to``); by default the term holding
    the record's time: the current term, or — for a record entered after the fact (its
    last session lies in the past, see :mod:`edu_guard.acts`) — the term of that session,
    as the county's term records give it (:func:`services.term_of`).

    A date that is not a date, or a period ending before it starts, is flashed as a form
    error in Chinese and the default period is used (never a bare 400).
    """
    today = case_services.today()
    day = acts.default_act_date(last_act, today)
    first, last, label = services.term_of(day)
    default = (first, min(last, today) if first <= today else last, label)
    given = request.args.get("from"), request.args.get("to")
    if not any(given):
        return default
    try:
        start = date.fromisoformat(given[0]) if given[0] else first
        end = date.fromisoformat(given[1]) if given[1] else default[1]
    except ValueError:
        flash(_("统计期的日期应写作 年-月-日（如 2021-03-01），已按默认期间（%(label)s）统计", label=label), "error")
        return default
    if end < start:
        flash(_("统计期止日 %(end)s 早于起日 %(start)s，已按默认期间（%(label)s）统计", end=end, start=start, label=label),
              "error")
        return default
    return start, end, Message("%(start)s至%(end)s", start=start.isoformat(), end=end.isoformat())


@bp.get("")
@login_required
def placement_list():
    """The placements the user may see, with their sessions."""
    show = request.args.get("show", "active")
    placed = services.placements(current_user, active_on=case_services.today() if show == "active" else None)
    return render_template("homebound/list.html", placements=schemas.PlacementSchema(many=True).dump(placed), show=show)


@bp.get("/candidates")
@login_required
def candidate_list():
    """Children to be placed: the disabled persons' list (cannot attend school) and
    dropout cases closed as placed 送教上门, without a placement yet; ages are
    counted on ``on`` (today by default)."""
    on = _on()
    found = services.candidates(on, current_user)
    return render_template("homebound/candidates.html", candidates=schemas.CandidateSchema(many=True).dump(found),
                           on=on, today=case_services.today())


def _on() -> date:
    """The ``on`` date of the query string (ages are counted on it), by default today."""
    try:
        on = date.fromisoformat(request.args["on"]) if request.args.get("on") else case_services.today()
    except ValueError:
        abort(400, description="日期应写作 YYYY-MM-DD")
    return on


@bp.route("/place/<key>", methods=["GET", "POST"])
@login_required
@role_required("admin", "clerk")
def place(key: str):
    """Place a candidate 送教上门 (the bureau records the committee's decision); ``on``
    is the date the candidate's age is counted on (today by default)."""
    on = _on()
    try:
        candidate = services.candidate_by_key(key, on, current_user)
    except services.HomeboundError as exc:
        flash(str(exc), "error")
        return redirect(url_for("homebound.candidate_list"))
    form = PlaceForm()
    schools = queries.delivering_schools()
    form.school.choices = [str(s.id) for s in schools]
    school_names = {str(s.id): f"{s.name}（{s.township.name}）" for s in schools}
    if request.method == "GET":
        form.school.data = str(candidate.school_id) if candidate.school_id else None
        form.certificate_number.data = candidate.certificate_number
        form.assessed_on.data = form.starts_on.data = min(on, case_services.today())
        child = db.session.get(Child, candidate.child_id) if candidate.child_id else None
        if child is not None and child.guardians:
            form.guardian_name.data, form.guardian_phone.data = child.guardians[0].name, child.guardians[0].phone
    if form.validate_on_submit():
        with refusals(services.HomeboundError, sa.exc.IntegrityError, flash_it=False) as outcome:
            placement = services.place(
                candidate=candidate, school=db.session.get(School, int(form.school.data)),
                assessed_on=form.assessed_on.data, assessment=form.assessment.data, teachers=form.teachers.data,
                starts_on=form.starts_on.data, ends_on=form.ends_on.data,
                certificate_number=form.certificate_number.data, guardian_name=form.guardian_name.data,
                guardian_phone=form.guardian_phone.data, user=current_user)
            db.session.flush()
        if isinstance(outcome.refused, services.HomeboundError):
            flash(str(outcome.refused), "error")
        elif outcome.refused is not None:
            # A concurrent request (a double submit) placed the child after this one's
            # check: the one-open-placement index refused the second insert.
            flash(_("%(name)s 已有未结束的送教上门安置（可能是重复提交），本次未重复安置", name=candidate.name), "error")
            existing = queries.open_placement_of(candidate.id_number)
            if existing is not None and can_see_placement(current_user, existing):
                return redirect(url_for("homebound.placement_detail", placement_id=existing.id))
            return redirect(url_for("homebound.candidate_list"))
        else:
            flash(_("已安置：%(name)s，由%(school)s送教上门", name=placement.child.name, school=placement.school.name),
                  "success")
            return redirect(url_for("homebound.placement_detail", placement_id=placement.id))
    elif request.method == "POST":
        flash(form_errors(form), "error")
    return render_template("homebound/place.html", form=form, candidate=schemas.CandidateSchema().dump(candidate),
                           school_names=school_names)


@bp.get("/<int:placement_id>")
@login_required
def placement_detail(placement_id: int):
    """A child's file: placement, plans, sessions, the term's compliance, printables."""
    placement = _get_placement(placement_id)
    full_number_access("view_full", "homebound_placement", placement.id)
    last_act = _last_act(placement)
    start, end, label = _period(last_act)
    try:
        norm, row = services.placement_compliance(placement, start, end)
    except services.HomeboundError as exc:
        abort(400, description=str(exc))
    today = case_services.today()
    act_day = acts.default_act_date(last_act, today)  # entered after the fact: the record's own time
    session_form = SessionForm(teachers=placement.teachers, guardian_name=placement.guardian_name, held_on=act_day)
    plan_form = PlanForm(school_year=services.school_year_of(act_day), made_on=act_day)
    minutes = int(current_app.config["EDU_GUARD_HOMEBOUND_PERIOD_MINUTES"])
    periods = {s.id: rules.session_periods(s.starts_at, s.ends_at, minutes) for s in placement.sessions}
    return render_template(
        "homebound/detail.html", p=placement, row=row, norm=norm, start=start, end=end, label=label,
        session_form=session_form, plan_form=plan_form, end_form=EndForm(ends_on=act_day), periods=periods,
        act_note=acts.closed_term_note(act_day, today),
        can_write=current_user.can_write and current_user.role != "township")


def _last_act(placement: HomeboundPlacement) -> date:
    """The placement's latest session, else its first day (for the default period)."""
    return max((s.held_on for s in placement.sessions), default=placement.starts_on)


def _writer(placement: HomeboundPlacement) -> None:
    if not current_user.can_write or current_user.role == "township":
        abort(403)


@bp.post("/<int:placement_id>/sessions")
@login_required
def session_add(placement_id: int):
    """Log one session with its attachments."""
    placement = _get_placement(placement_id)
    _writer(placement)
    form = SessionForm()
    if not form.validate_on_submit():
        flash(form_errors(form), "error")
        return redirect(url_for("homebound.placement_detail", placement_id=placement.id))
    files = [(f.filename, f.read()) for f in request.files.getlist(form.attachments.name) if f and f.filename]
    with refusals(services.HomeboundError) as outcome:
        services.log_session(
            placement, held_on=form.held_on.data, starts_at=form.starts_at.data, ends_at=form.ends_at.data,
            teachers=form.teachers.data, content_areas=form.content_areas.data, progress=form.progress.data,
            guardian_confirmed=form.guardian_confirmed.data, guardian_name=form.guardian_name.data,
            attachments=files, user=current_user)
    if outcome.ok:
        flash(_("已登记 %(date)s 的送教记录", date=form.held_on.data), "success")
        acts.flash_closed_term(form.held_on.data, case_services.today())
    return redirect(url_for("homebound.placement_detail", placement_id=placement.id))


@bp.post("/<int:placement_id>/plan")
@login_required
def plan_save(placement_id: int):
    """Save the yearly individual education plan (replaces that year's plan)."""
    placement = _get_placement(placement_id)
    _writer(placement)
    form = PlanForm()
    if not form.validate_on_submit():
        flash(form_errors(form), "error")
    else:
        with refusals(services.HomeboundError) as outcome:
            services.save_plan(placement, school_year=form.school_year.data.strip(), made_on=form.made_on.data,
                               goals=services.parse_goals(form.goals.data), user=current_user)
        if outcome.ok:
            flash(_("个别化教育计划已保存"), "success")
    return redirect(url_for("homebound.placement_detail", placement_id=placement.id))


@bp.post("/<int:placement_id>/end")
@login_required
@role_required("admin", "clerk")
def placement_end(placement_id: int):
    """End a placement (the child goes to school, ages out, moves away)."""
    placement = _get_placement(placement_id)
    form = EndForm()
    if form.validate_on_submit():
        with refusals(services.HomeboundError) as outcome:
            services.end_placement(placement, form.ends_on.data, user=current_user)
        if outcome.ok:
            flash(_("送教上门已于 %(date)s 结束", date=form.ends_on.data), "success")
    else:
        flash(form_errors(form), "error")
    return redirect(url_for("homebound.placement_detail", placement_id=placement.id))


@bp.get("/attachments/<int:attachment_id>")
@login_required
def attachment(attachment_id: int):
    """Download an attachment (only for users who may see its child)."""
    att = db.session.get(HomeboundAttachment, attachment_id)
    if att is None:
        abort(404)
    _get_placement(att.session.placement_id)
    try:
        data = services.read_attachment(att)
    except services.HomeboundError as exc:
        abort(410, description=str(exc))
    return send_file(io.BytesIO(data), mimetype=att.content_type, download_name=download_name(att.filename, "attachment"))


def _pdf(kind: str, context: dict, placement: HomeboundPlacement, name: str, issued_on: date | None = None):
    """Print ``kind``; dated ``issued_on``, by default the record's own time (its last
    session when it is entered after the fact, :func:`edu_guard.acts.default_act_date`)."""
    if issued_on is None:
        issued_on = acts.default_act_date(_last_act(placement), case_services.today())
    with refusals(LetterError) as outcome:
        pdf = render_printable(kind, context, issuer={"name": placement.school.name, "code": "-"},
                               issued_on=issued_on, user=current_user, audited=placement)
    if not outcome.ok:
        return redirect(url_for("homebound.placement_detail", placement_id=placement.id))
    return send_file(io.BytesIO(pdf), mimetype="application/pdf", download_name=download_name(name))


@bp.get("/<int:placement_id>/agreement.pdf")
@login_required
def agreement_pdf(placement_id: int):
    """The placement record and 服务协议书 to print and sign."""
    placement = _get_placement(placement_id)
    return _pdf("homebound_agreement", schemas.agreement_context(placement, full_ids=current_user.sees_full_ids), placement,
                f"送教上门安置记录及服务协议书_{placement.child.name}.pdf")


@bp.get("/<int:placement_id>/log.pdf")
@login_required
def log_pdf(placement_id: int):
    """The child's session log for a term (``from``/``to``; the current term by default)."""
    placement = _get_placement(placement_id)
    start, end, label = _period(_last_act(placement))
    try:
        _norm, row = services.placement_compliance(placement, start, end)
    except services.HomeboundError as exc:
        abort(400, description=str(exc))
    if row is None:
        flash(_("%(period)s不在安置期内", period=label), "error")
        return redirect(url_for("homebound.placement_detail", placement_id=placement.id))
    label = label.chinese() if isinstance(label, Message) else label  # the log is a document: Chinese
    return _pdf("homebound_log", schemas.log_context(placement, start, end, label, row.figures), placement,
                f"送教上门记录表_{placement.child.name}_{start}_{end}.pdf",
                issued_on=min(end, case_services.today()))


@bp.get("/compliance")
@login_required
def compliance_report():
    """Compliance per child, school and township for a period (the current term by
    default), with who is behind and by how much; ``?format=xlsx`` exports it."""
    start, end, label = _period(services.latest_session_day())
    try:
        norm, rows = services.compliance(start, end, current_user)
    except services.HomeboundError as exc:  # a norm the county configured wrongly
        flash(str(exc), "error")
        return render_template("homebound/compliance.html", norm=None, start=start, end=end, label=label,
                               rows=[], by_school=[], by_township=[], totals=None)
    by_school = services.summarise(rows, "school")
    by_township = services.summarise(rows, "township")
    if request.args.get("format") == "xlsx":

        data = excel.compliance_workbook(norm, start, end, rows, by_school, by_township)
        return send_file(io.BytesIO(data), as_attachment=True, download_name=f"送教上门统计_{start}_{end}.xlsx",
                         mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    return render_template(
        "homebound/compliance.html", norm=norm, start=start, end=end, label=label,
        rows=schemas.ComplianceRowSchema(many=True).dump(rows),
        by_school=schemas.GroupSummarySchema(many=True).dump(by_school),
        by_township=schemas.GroupSummarySchema(many=True).dump(by_township))
