"""Web pages of comparisons (数据比对): upload and run, the result by category with
filters, bulk opening of cases, closing a suspected-dropout entry, Excel export.

Comparisons are the bureau's work (README.md): admins and clerks run them and open cases;
auditors read them. Their rows span the county, so township and school users use the
ledgers instead (scoped there).
"""

from __future__ import annotations

from io import BytesIO

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField
from wtforms import DateField, SelectField
from wtforms.validators import DataRequired, InputRequired

from edu_guard import acts
from edu_guard.auth.services import role_required
from edu_guard.auth.views import choice_list, safe_next
from edu_guard.cases import services as case_services
from edu_guard.cases.models import REASONS
from edu_guard.comparisons import jobs, services
from edu_guard.comparisons.kinds import kinds, ComparisonError
from edu_guard.comparisons.excel import comparison_workbook
from edu_guard.comparisons.models import ComparisonRow, ComparisonRun
from edu_guard.auth.audit import full_number_access
from edu_guard.db import db
from edu_guard.i18n import Message
from edu_guard.comparisons.forms import CloseRowForm, OpenCasesForm
from edu_guard.web import form_errors, refusals
from edu_guard.auth.services import mask_id_number

bp = Blueprint("comparisons", __name__)

RUN_ROLES = ("admin", "clerk")
VIEW_ROLES = ("admin", "clerk", "auditor")


class CompareForm(FlaskForm):
    """Choose a comparison, its as-of date and (for the register) the file."""

    kind = SelectField(_l("比对类型"), validators=[DataRequired()])
    as_of = DateField(_l("比对基准日"), validators=[InputRequired()])
    file = FileField(_l("户籍名单文件"), validators=[FileAllowed(["xlsx", "csv", "txt"], _l("只能上传 Excel 或 CSV 文件。"))],
                     description=_l("户籍与学籍比对需上传公安户籍名单（Excel 或 CSV）；其他比对直接比对系统内数据。"))


def _run(run_id: int) -> ComparisonRun:
    return db.get_or_404(ComparisonRun, run_id)


@bp.route("/comparisons", methods=["GET", "POST"])
@role_required(*VIEW_ROLES)
def index():
    """The form to run a comparison and the list of past runs."""
    form = CompareForm()
    form.kind.choices = choice_list((k, _l(c.label)) for k, c in kinds().items())
    if request.method == "GET":
        form.as_of.data = acts.latest_term_day(case_services.today())
    if request.method == "POST":
        if current_user.role not in RUN_ROLES:
            abort(403)
        if form.validate_on_submit():
            # Stored unread and run by a queue worker: the worker checks and parses the
            # register under its memory limit (edu_guard.comparisons.jobs).
            with refusals(ComparisonError) as outcome:
                job_id = jobs.start_comparison(form.kind.data, form.as_of.data, form.file.data or None, current_user)
            if outcome.ok:
                acts.flash_closed_term(form.as_of.data, case_services.today())
                return redirect(url_for("jobs.job_page", job_id=job_id))
    page = db.paginate(services.runs(),
                       page=request.args.get("page", 1, type=int), per_page=current_app.config["EDU_GUARD_PAGE_SIZE"],
                       error_out=False)
    return render_template("comparisons/index.html", form=form, page=page, kinds=kinds(),
                           can_run=current_user.role in RUN_ROLES,
                           as_of_note=acts.closed_term_note(form.as_of.data, case_services.today()))


@bp.get("/comparisons/<int:run_id>")
@role_required(*VIEW_ROLES)
def run(run_id: int):
    """A run's counts per category and its stored rows, filtered by category and name."""
    run = _run(run_id)
    kind = kinds()[run.kind]
    category = request.args.get("category") or None
    if category not in kind.categories:
        category = None
    page = db.paginate(services.run_rows(run, category, request.args.get("q")),
                       page=request.args.get("page", 1, type=int), per_page=current_app.config["EDU_GUARD_PAGE_SIZE"],
                       error_out=False)
    return render_template("comparisons/run.html", run=run, kind=kind, category=category, page=page, reasons=REASONS,
                           can_open=current_user.role in RUN_ROLES, full_ids=current_user.sees_full_ids)


@bp.post("/comparisons/<int:run_id>/open-cases")
@role_required(*RUN_ROLES)
def open_cases(run_id: int):
    """Open cases for the ticked rows (or every row of a flagged category)."""
    run = _run(run_id)
    form = OpenCasesForm()
    if not form.validate_on_submit():
        flash(form_errors(form), "error")
        return redirect(url_for("comparisons.run", run_id=run.id))
    row_ids, category, reason = form.row_id.data, form.all_of.data or None, form.reason.data or None
    with refusals(ComparisonError) as outcome:
        result = services.open_cases(run, row_ids or None, category=None if row_ids else category, reason=reason,
                                     user=current_user)
    if outcome.ok:
        flash(_("新立案 %(opened)s 个；已有个案 %(existing)s 个；未立案 %(refused)s 行", opened=len(result["opened"]),
                existing=len(result["existing"]), refused=len(result["refused"])), "success")
        for _row_id, why in result["refused"][:10]:
            flash(why, "error")
    return redirect(url_for("comparisons.run", run_id=run.id, category=form.category.data or None))


@bp.post("/comparisons/rows/<int:row_id>/close")
@role_required(*RUN_ROLES)
def close_row(row_id: int):
    """Close (销号) a suspected-dropout ledger entry with a reason and date."""
    row = db.session.get(ComparisonRow, row_id)
    if row is None:
        abort(404)
    form = CloseRowForm()
    back = safe_next(form.next.data) or url_for("comparisons.run", run_id=row.run_id)
    if not form.validate_on_submit():
        flash(form_errors(form), "error")
        return redirect(back)
    with refusals(ComparisonError) as outcome:
        services.close_entry(row, reason=form.reason.data, on=form.on.data or case_services.today(), user=current_user)
    if outcome.ok:
        flash(_("已销号"), "success")
    return redirect(back)


def _chinese(text):
    """A stored reason as the (Chinese) workbook writes it, whatever the page's language."""
    return text.chinese() if isinstance(text, Message) else text


@bp.get("/comparisons/<int:run_id>.xlsx")
@role_required(*VIEW_ROLES)
def export(run_id: int):
    """The run as a workbook: counts per category, then its stored rows."""
    run = _run(run_id)
    kind = kinds()[run.kind]
    full = current_user.sees_full_ids
    rows = ({"line": r.line, "id_number": r.id_number if full else mask_id_number(r.id_number), "name": r.name,
             "category": kind.categories[r.category].label, "reason": _chinese(r.reason), "case_id": r.case_id,
             "closed_on": r.closed_on.isoformat() if r.closed_on else "", "closed_reason": _chinese(r.closed_reason)}
            for r in db.session.execute(services.run_rows(run)).scalars())
    counts = {c: (cat.label, run.counts.get(c, 0)) for c, cat in kind.categories.items()}
    data = comparison_workbook(f"{kind.label}（截至{run.as_of}，比对记录{run.id}）", counts, rows)
    full_number_access("download_full", "comparison_run", run.id, {"file": "export.xlsx"})
    return send_file(BytesIO(data), as_attachment=True, download_name=f"比对{run.id}_{run.kind}_{run.as_of}.xlsx",
                     mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
