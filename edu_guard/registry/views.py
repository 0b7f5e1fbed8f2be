"""Registry pages (blueprint ``registry``): the home page, the children list and the
child page, and the import page.

Every list and detail page is scoped with :mod:`edu_guard.auth.scoping`; a child out
of the user's scope is answered with 404, as if it did not exist.
"""

from __future__ import annotations

import io
from pathlib import Path

from flask import Blueprint, abort, current_app, flash, jsonify, redirect, render_template, request, send_file, url_for
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from sqlalchemy.orm import selectinload
from wtforms import IntegerField, SelectField, StringField
from wtforms.validators import DataRequired, NumberRange, Optional

from edu_guard.auth.scoping import can_see_child
from edu_guard.auth.services import role_required
from edu_guard.auth.views import choice_list, optional_int
from edu_guard.auth.audit import full_number_access
from edu_guard.uploads import UploadRefused, check_upload
from edu_guard import clock
from edu_guard.db import db
from edu_guard.jobs.services import JobError, rerun
from edu_guard.jobs.views import export_response
from edu_guard.registry.enrolled import counted_enrolled
from edu_guard.registry import jobs, queries
from edu_guard.registry.importers import importers
from edu_guard.registry.models import ENROLLMENT_STATUSES, FAMILY_STATUS_KINDS, Child, Enrollment, ImportRun
from edu_guard.registry.search import normalise_query
from edu_guard.registry.services import describe_source, rejects_workbook
from edu_guard.web import download_name, refusals

bp = Blueprint("registry", __name__)

#: Roles that import files and see the import runs (auditors read, never upload).
IMPORT_ROLES = ("admin", "clerk")
IMPORT_VIEW_ROLES = IMPORT_ROLES + ("auditor",)


# --- home -----------------------------------------------------------------------


# --- children list --------------------------------------------------------------


class ChildFilterForm(FlaskForm):
    """Search and filters of the children list (a GET form: no CSRF token)."""

    class Meta:
        csrf = False

    q = StringField(_l("姓名 / 身份证号 / 学籍号"))
    township = SelectField(_l("乡镇"), coerce=optional_int)
    school = SelectField(_l("学校"), coerce=optional_int)
    grade = SelectField(_l("年级"), default="")
    status = SelectField(
        _l("学籍状态"), choices=choice_list(((s, _l(s)) for s in ENROLLMENT_STATUSES), _l("全部")), default=""
    )
    family = SelectField(
        _l("家庭类型"), choices=choice_list(((k, _l(k)) for k in FAMILY_STATUS_KINDS), _l("全部")), default=""
    )
    page = IntegerField(default=1, validators=[Optional(), NumberRange(min=1)])

    def fill_choices(self, user) -> None:
        """Offer the townships, schools and grades within ``user``'s scope."""
        townships, schools, grades = queries.filter_choices(user)
        self.township.choices = choice_list(((t.id, t.name) for t in townships), _l("全部"))
        self.school.choices = choice_list(((s.id, s.name) for s in schools), _l("全部"))
        self.grade.choices = choice_list(((g, g) for g in grades), _l("全部"))

    def cleaned(self) -> dict:
        """Validate and return the filters; an invalid value is dropped, not an error
        (a bookmarked list whose school was removed still opens)."""
        self.validate()
        data = {}
        for name in ("q", "township", "school", "grade", "status", "family", "page"):
            field = getattr(self, name)
            if field.errors:
                field.errors = []
                field.data = field.default
            data[name] = field.data or None
        data["q"] = normalise_query(data["q"])
        data["page"] = data["page"] or 1
        return data


@bp.get("/children")
def children():
    """List the children in the user's scope with search, filters and paging; ID
    numbers are masked in the list."""
    form = ChildFilterForm(formdata=request.args)
    form.fill_choices(current_user)
    filters = form.cleaned()
    if request.args.get("format") == "xlsx":  # a big roster is made by a job (registry/jobs.py)
        return export_response("roster", {k: v for k, v in filters.items() if k != "page"})
    stmt = queries.children_query(filters, current_user).options(
        selectinload(Child.enrollments).selectinload(Enrollment.school), selectinload(Child.township)
    )
    page = db.paginate(
        stmt, page=filters["page"], per_page=current_app.config["EDU_GUARD_PAGE_SIZE"], error_out=False, count=True
    )
    return render_template(
        "registry/children.html",
        form=form,
        page=page,
        families=queries.family_kinds([c.id_number for c in page.items]),
        homebound=counted_enrolled(clock.today()),
    )


# --- child page -----------------------------------------------------------------


def get_child_or_404(child_id: int) -> Child:
    """Return the child if it exists and the signed-in user may see it, else 404."""
    child = db.session.get(Child, child_id)
    if child is None or not can_see_child(current_user, child):
        abort(404)
    return child


# --- imports --------------------------------------------------------------------
#
# The upload is stored under <instance>/uploads/<sha256>, then imported in a
# background thread so that the page can show a progress bar: the thread is the
# transaction boundary (it commits once, or rolls back) and writes its progress to a
# small JSON file under <instance>/uploads/jobs/, which the job page polls. A file on
# the instance folder (not memory) lets any web process of the deployment answer
# the poll.


class ImportForm(FlaskForm):
    """Upload one file of a chosen kind."""

    kind = SelectField(_l("文件类型"), validators=[DataRequired()])
    file = FileField(
        _l("文件"),
        validators=[
            FileRequired(_l("请选择要导入的文件。")),
            FileAllowed(["xlsx", "xlsm", "csv", "txt"], _l("只能导入 Excel（.xlsx）或 CSV 文件。")),
        ],
        description=_l("Excel（.xlsx）或 CSV（UTF-8 或 GB18030 编码）；标题行、表尾签名行可保留。"),
    )

    def fill_choices(self) -> None:
        """Offer the kinds the importers know (schools, roster, …)."""
        self.kind.choices = choice_list((kind, _l(cls.label)) for kind, cls in importers().items())



@bp.route("/imports", methods=["GET", "POST"])
@role_required(*IMPORT_VIEW_ROLES)
def import_page():
    """Show the upload form and the past import runs; start an import on POST."""
    form = ImportForm()
    form.fill_choices()
    if request.method == "POST":
        if current_user.role not in IMPORT_ROLES:
            abort(403)
        if form.validate_on_submit():
            upload = form.file.data
            try:  # refused before it is stored or parsed (edu_guard.uploads)
                check_upload(upload.stream.read(), upload.filename or "upload")
            except UploadRefused as exc:
                flash(str(exc), "error")
            else:
                upload.stream.seek(0)
                job_id = jobs.start_import(form.kind.data, upload, current_user)
                return redirect(url_for("registry.import_job", job_id=job_id))
    page = db.paginate(
        queries.import_runs(),
        page=request.args.get("page", 1, type=int),
        per_page=current_app.config["EDU_GUARD_PAGE_SIZE"],
        error_out=False,
    )
    return render_template(
        "registry/imports.html",
        form=form,
        page=page,
        users=queries.user_names(page.items),
        kinds=import_kinds(),
        can_import=current_user.role in IMPORT_ROLES,
    )


@bp.get("/imports/jobs/<int:job_id>")
@role_required(*IMPORT_ROLES)
def import_job(job_id: int):
    """Show an import job's progress; when it has finished, go to its result."""
    job = jobs.read_job(job_id)
    if job is None:
        abort(404)
    if job["state"] == "done":
        return redirect(url_for("registry.import_run", run_id=job["result"]["import_run_id"]))
    return render_template("registry/import_job.html", job=job, kinds=import_kinds())


@bp.get("/imports/jobs/<int:job_id>.json")
@role_required(*IMPORT_ROLES)
def import_job_state(job_id: int):
    """Return a job's state for the progress bar: state, done, total, run URL, error."""
    job = jobs.read_job(job_id)
    if job is None:
        abort(404)
    out = {k: job.get(k) for k in ("state", "done", "total", "error")}
    if job["state"] == "done":
        out["url"] = url_for("registry.import_run", run_id=job["result"]["import_run_id"])
    return jsonify(out)


@bp.post("/imports/jobs/<int:job_id>/rerun")
@role_required(*IMPORT_ROLES)
def import_job_rerun(job_id: int):
    """Run a failed import job again (its stored file; nothing of the failed run was written)."""
    job = jobs.get_job(job_id)
    if job is None:
        abort(404)
    with refusals(JobError):
        rerun(job)
    return redirect(url_for("registry.import_job", job_id=job_id))


def _get_run(run_id: int) -> ImportRun:
    run = db.session.get(ImportRun, run_id)
    if run is None:
        abort(404)
    return run


#: Rejected rows shown on the result page; the workbook has them all.
REJECTS_SHOWN = 500


@bp.get("/imports/<int:run_id>")
@role_required(*IMPORT_VIEW_ROLES)
def import_run(run_id: int):
    """Show one import's counts and rejected rows (row, column, reason)."""
    run = _get_run(run_id)
    return render_template(
        "registry/import_run.html",
        run=run,
        who=queries.user_names([run]).get(run.user_id),
        kinds=import_kinds(),
        rejects=(run.rejects or [])[:REJECTS_SHOWN],
        can_download=current_user.role in IMPORT_ROLES,
        read_lines=describe_source(run.source),
        several_sheets=len((run.source or {}).get("sheets", [])) > 1,
    )


@bp.get("/imports/<int:run_id>/rejects.xlsx")
@role_required(*IMPORT_ROLES)
def import_rejects(run_id: int):
    """Download the rejected rows with their reasons as a workbook to fix and re-upload.

    Not for auditors: the rows carry unmasked ID numbers.
    """
    run = _get_run(run_id)
    stem = Path(run.filename).stem
    full_number_access("download_full", "import_run", run.id, {"file": "rejects.xlsx"})
    return send_file(
        io.BytesIO(rejects_workbook(run)),
        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        as_attachment=True,
        download_name=download_name(f"{stem}_未导入的行.xlsx"),
    )


def import_kinds() -> dict[str, str]:
    """Return import kind → label, in the interface's language (a request's)."""
    return {kind: gettext(cls.label) for kind, cls in importers().items()}
