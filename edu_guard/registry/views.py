"""Registry pages (blueprint ``registry``): the home page, the children list and the
child page, and the import page.

Every list and detail page is scoped with :mod:`edu_guard.auth.scoping`; a child out
of the user's scope is answered with 404, as if it did not exist.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import threading
import time
import uuid
from collections import defaultdict
from pathlib import Path

import sqlalchemy as sa
from flask import Blueprint, abort, current_app, flash, jsonify, redirect, render_template, request, send_file, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from sqlalchemy.orm import selectinload
from wtforms import IntegerField, SelectField, StringField
from wtforms.validators import DataRequired, NumberRange, Optional

from edu_guard.auth.scoping import can_see_child, scope_cases, scope_children, scope_schools
from edu_guard.auth.services import role_required
from edu_guard.auth.views import choice_list, optional_int
from edu_guard.cases.machine import OPEN, STATES
from edu_guard.cases.models import DropoutCase, HomeVisit
from edu_guard.auth.audit import full_number_access
from edu_guard.db import db, utcnow
from edu_guard.registry.importers import importers
from edu_guard.registry.models import (
    ENROLLMENT_STATUSES,
    FAMILY_STATUS_KINDS,
    Child,
    DisabilityRecord,
    Enrollment,
    FamilyStatus,
    ImportRun,
    School,
    StatusChange,
    Township,
)
from edu_guard.registry.search import child_condition, normalise_query
from edu_guard.registry.services import ImportFileError, describe_source, import_file, rejects_workbook

bp = Blueprint("registry", __name__)

#: Roles that import files and see the import runs (auditors read, never upload).
IMPORT_ROLES = ("admin", "clerk")
IMPORT_VIEW_ROLES = IMPORT_ROLES + ("auditor",)
#: Grades in school order; others sort after them by name.
GRADE_ORDER = ("一年级", "二年级", "三年级", "四年级", "五年级", "六年级", "七年级", "八年级", "九年级")


# --- home -----------------------------------------------------------------------


@bp.get("/")
def index():
    """Show the home page: children in school, open cases by step, schools, and the
    latest imports, all within the user's scope."""
    enrolled = db.session.execute(
        scope_children(
            sa.select(sa.func.count(Child.id)).where(
                Child.id.in_(sa.select(Enrollment.child_id).where(Enrollment.status == "在读"))
            ),
            current_user,
        )
    ).scalar_one()
    children_total = db.session.execute(scope_children(sa.select(sa.func.count(Child.id)), current_user)).scalar_one()
    by_state = dict(
        db.session.execute(
            scope_cases(
                sa.select(DropoutCase.state, sa.func.count(DropoutCase.id)).where(DropoutCase.state.in_(OPEN)),
                current_user,
            ).group_by(DropoutCase.state)
        ).all()
    )
    steps = [{"state": name, "label": STATES[name].label, "count": by_state.get(name, 0)} for name in OPEN]
    schools = db.session.execute(scope_schools(sa.select(sa.func.count(School.id)), current_user)).scalar_one()
    imports = _import_runs(limit=5) if current_user.role in IMPORT_VIEW_ROLES else None
    return render_template(
        "registry/index.html",
        enrolled=enrolled,
        children_total=children_total,
        steps=steps,
        open_cases=sum(s["count"] for s in steps),
        max_step=max([s["count"] for s in steps] + [1]),
        schools=schools,
        imports=imports,
        import_kinds=import_kinds(),
    )


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
        _l("学籍状态"), choices=choice_list(((s, s) for s in ENROLLMENT_STATUSES), _l("全部")), default=""
    )
    family = SelectField(
        _l("家庭类型"), choices=choice_list(((k, k) for k in FAMILY_STATUS_KINDS), _l("全部")), default=""
    )
    page = IntegerField(default=1, validators=[Optional(), NumberRange(min=1)])

    def fill_choices(self, user) -> None:
        """Offer the townships, schools and grades within ``user``'s scope."""
        schools = db.session.execute(
            scope_schools(sa.select(School.id, School.name, School.township_id).order_by(School.code), user)
        ).all()
        township_stmt = sa.select(Township.id, Township.name).order_by(Township.name)
        if user.role in ("township", "school"):
            township_stmt = township_stmt.where(
                Township.id.in_({s.township_id for s in schools} | {user.township_id} - {None})
            )
        townships = db.session.execute(township_stmt).all()
        grades = db.session.execute(
            sa.select(Enrollment.grade).where(Enrollment.grade.is_not(None)).distinct()
        ).scalars()
        grades = sorted(grades, key=lambda g: (GRADE_ORDER.index(g) if g in GRADE_ORDER else len(GRADE_ORDER), g))
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


def children_query(filters: dict, user) -> sa.Select:
    """Return ``select(Child)`` for the list: scoped to ``user`` and filtered.

    :param filters: from :meth:`ChildFilterForm.cleaned`: ``q`` matches part of the
        name (with or without its 间隔号), the ID number or the 全国学籍号
        (:func:`edu_guard.registry.search.child_condition`); ``school``, ``grade`` and ``status``
        must hold for one and the same enrollment; ``township`` is where the child
        lives or goes to school; ``family`` is a current family status kind.
    """
    stmt = scope_children(sa.select(Child), user)
    q = filters.get("q")
    if q:
        stmt = stmt.where(child_condition(q))
    if filters.get("township"):
        at_school = sa.select(Enrollment.child_id).join(School).where(School.township_id == filters["township"])
        stmt = stmt.where(sa.or_(Child.township_id == filters["township"], Child.id.in_(at_school)))
    enrollment_conditions = []
    if filters.get("school"):
        enrollment_conditions.append(Enrollment.school_id == filters["school"])
    if filters.get("grade"):
        enrollment_conditions.append(Enrollment.grade == filters["grade"])
    if filters.get("status"):
        enrollment_conditions.append(Enrollment.status == filters["status"])
    if enrollment_conditions:
        stmt = stmt.where(Child.id.in_(sa.select(Enrollment.child_id).where(*enrollment_conditions)))
    if filters.get("family"):
        stmt = stmt.where(
            Child.id_number.in_(
                sa.select(FamilyStatus.id_number).where(
                    FamilyStatus.kind == filters["family"], FamilyStatus.risk_removed.is_(False)
                )
            )
        )
    return stmt.order_by(Child.id)


def family_kinds(id_numbers: list[str]) -> dict[str, list[str]]:
    """Return the current family status kinds of each ID number (one query)."""
    kinds: dict[str, set[str]] = defaultdict(set)
    if id_numbers:
        rows = db.session.execute(
            sa.select(FamilyStatus.id_number, FamilyStatus.kind).where(
                FamilyStatus.id_number.in_(id_numbers), FamilyStatus.risk_removed.is_(False)
            )
        )
        for id_number, kind in rows:
            kinds[id_number].add(kind)
    order = {k: i for i, k in enumerate(FAMILY_STATUS_KINDS)}
    return {n: sorted(ks, key=lambda k: order.get(k, 99)) for n, ks in kinds.items()}


@bp.get("/children")
def children():
    """List the children in the user's scope with search, filters and paging; ID
    numbers are masked in the list."""
    form = ChildFilterForm(formdata=request.args)
    form.fill_choices(current_user)
    filters = form.cleaned()
    stmt = children_query(filters, current_user).options(
        selectinload(Child.enrollments).selectinload(Enrollment.school), selectinload(Child.township)
    )
    page = db.paginate(
        stmt, page=filters["page"], per_page=current_app.config["EDU_GUARD_PAGE_SIZE"], error_out=False, count=True
    )
    return render_template(
        "registry/children.html",
        form=form,
        page=page,
        families=family_kinds([c.id_number for c in page.items]),
        homebound=_placed_children(),
    )


def _placed_children() -> set[int]:
    """Children placed 送教上门 today: they count as enrolled and are shown as such."""
    from edu_guard.cases import services as case_services
    from edu_guard.homebound.services import placed_child_ids  # homebound builds on the registry

    return placed_child_ids(case_services.today())


# --- child page -----------------------------------------------------------------


def _active_placement(child: Child):
    from edu_guard.homebound.services import active_placement

    return active_placement(child)


def get_child_or_404(child_id: int) -> Child:
    """Return the child if it exists and the signed-in user may see it, else 404."""
    child = db.session.get(Child, child_id)
    if child is None or not can_see_child(current_user, child):
        abort(404)
    return child


@bp.get("/children/<int:child_id>")
def child_detail(child_id: int):
    """Show one child: identity, guardians, enrollments and status changes, family
    statuses, disability record, cases and home visits."""
    child = get_child_or_404(child_id)
    full_number_access("view_full", "child", child.id)
    enrollments = (
        db.session.execute(
            sa.select(Enrollment)
            .where(Enrollment.child_id == child.id)
            .options(selectinload(Enrollment.school).selectinload(School.township))
            .order_by(Enrollment.id)
        )
        .scalars()
        .all()
    )
    changes = (
        db.session.execute(
            sa.select(StatusChange)
            .where(sa.or_(StatusChange.child_id == child.id, StatusChange.id_number == child.id_number))
            .order_by(StatusChange.changed_on, StatusChange.id)
        )
        .scalars()
        .all()
    )
    statuses = (
        db.session.execute(
            sa.select(FamilyStatus)
            .where(FamilyStatus.id_number == child.id_number)
            .order_by(FamilyStatus.risk_removed, FamilyStatus.kind)
        )
        .scalars()
        .all()
    )
    disability = db.session.execute(
        sa.select(DisabilityRecord).where(DisabilityRecord.id_number == child.id_number)
    ).scalar_one_or_none()
    cases = (
        db.session.execute(
            scope_cases(sa.select(DropoutCase).where(DropoutCase.child_id == child.id), current_user).order_by(
                DropoutCase.opened_on.desc(), DropoutCase.id.desc()
            )
        )
        .scalars()
        .all()
    )
    visits = (
        db.session.execute(
            sa.select(HomeVisit)
            .where(HomeVisit.child_id == child.id)
            .order_by(HomeVisit.visited_on.desc(), HomeVisit.id.desc())
        )
        .scalars()
        .all()
    )
    return render_template(
        "registry/child.html",
        child=child,
        enrollments=enrollments,
        changes=changes,
        statuses=statuses,
        disability=disability,
        cases=cases,
        has_open_case=any(c.state != "closed" for c in cases),
        homebound=_active_placement(child),
        states=STATES,
        visits=visits,
        source_labels={cls.source: cls.label for cls in importers().values() if getattr(cls, "source", None)},
    )


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
        self.kind.choices = choice_list((kind, cls.label) for kind, cls in importers().items())


#: Job files (progress of finished imports) are removed after this many days; the
#: import runs themselves are kept for good.
JOB_FILES_KEPT_DAYS = 7


def _uploads() -> Path:
    from edu_guard.uploads import uploads_folder

    return uploads_folder()


def _job_path(job_id: str) -> Path:
    if not re.fullmatch(r"[0-9a-f]{32}", job_id):
        abort(404)
    return _uploads() / "jobs" / f"{job_id}.json"


def _write_job(path: Path, **state) -> None:
    """Merge ``state`` into the job file (written whole, then renamed into place)."""
    job = _read_job(path) or {}
    job.update(state)
    tmp = path.with_suffix(f".{threading.get_ident()}.tmp")
    tmp.write_text(json.dumps(job, ensure_ascii=False), encoding="utf-8")
    os.replace(tmp, path)


def _read_job(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _run_import(app, job_path: Path, kind: str, stored: Path, filename: str, user_id: int) -> None:
    """Import a stored upload in its own app context and session; commit once."""
    from edu_guard.auth.models import User

    with app.app_context():
        try:
            result = import_file(
                kind,
                stored,
                filename,
                user=db.session.get(User, user_id),
                progress=lambda done, total: _write_job(job_path, done=done, total=total),
            )
            db.session.commit()
        except ImportFileError as exc:
            db.session.rollback()
            _write_job(job_path, state="failed", error=str(exc))
        except Exception:  # noqa: BLE001 - the clerk must be told; the log has the details
            db.session.rollback()
            app.logger.exception("import of %s (%s) failed", filename, kind)
            _write_job(job_path, state="failed", error="导入时发生内部错误，未导入任何数据。请联系系统管理员查看日志。")
        else:
            _write_job(job_path, state="done", done=result.rows, total=result.rows, run_id=result.import_run_id)
        finally:
            db.session.remove()


def start_import(kind: str, upload, user) -> str:
    """Store an uploaded file and start importing it in the background.

    :param kind: a key of :data:`edu_guard.registry.importers.IMPORTERS`.
    :param upload: the :class:`werkzeug.datastructures.FileStorage` from the form.
    :param user: who imports.
    :return: the job id, for :func:`import_job`.
    """
    data = upload.read()
    digest = hashlib.sha256(data).hexdigest()
    stored = _uploads() / digest
    jobs = _uploads() / "jobs"
    jobs.mkdir(parents=True, exist_ok=True)
    stale = time.time() - JOB_FILES_KEPT_DAYS * 86400
    for old in jobs.glob("*.json"):
        if old.stat().st_mtime < stale:
            old.unlink(missing_ok=True)
    if not stored.exists():
        fd = os.open(stored, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
    job_id = uuid.uuid4().hex
    filename = Path(upload.filename or "upload").name
    job_path = _job_path(job_id)
    _write_job(
        job_path,
        id=job_id,
        state="running",
        kind=kind,
        filename=filename,
        sha256=digest,
        user_id=user.id,
        started=utcnow().isoformat(),
        done=0,
        total=0,
    )
    app = current_app._get_current_object()
    thread = threading.Thread(
        target=_run_import, args=(app, job_path, kind, stored, filename, user.id), name=f"import-{job_id}", daemon=True
    )
    app.extensions.setdefault("edu_guard.import_threads", {})[job_id] = thread
    thread.start()
    return job_id


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
            from edu_guard.uploads import UploadRefused, check_upload

            upload = form.file.data
            try:  # refused before it is stored or parsed (edu_guard.uploads)
                check_upload(upload.stream.read(), upload.filename or "upload")
            except UploadRefused as exc:
                flash(str(exc), "error")
            else:
                upload.stream.seek(0)
                job_id = start_import(form.kind.data, upload, current_user)
                return redirect(url_for("registry.import_job", job_id=job_id))
    page = db.paginate(
        sa.select(ImportRun).order_by(ImportRun.started_at.desc(), ImportRun.id.desc()),
        page=request.args.get("page", 1, type=int),
        per_page=current_app.config["EDU_GUARD_PAGE_SIZE"],
        error_out=False,
    )
    return render_template(
        "registry/imports.html",
        form=form,
        page=page,
        users=_user_names(page.items),
        kinds=import_kinds(),
        can_import=current_user.role in IMPORT_ROLES,
    )


@bp.get("/imports/jobs/<job_id>")
@role_required(*IMPORT_ROLES)
def import_job(job_id: str):
    """Show a running import's progress; when it has finished, go to its result."""
    job = _read_job(_job_path(job_id))
    if job is None:
        abort(404)
    if job["state"] == "done":
        return redirect(url_for("registry.import_run", run_id=job["run_id"]))
    return render_template("registry/import_job.html", job=job, kinds=import_kinds())


@bp.get("/imports/jobs/<job_id>.json")
@role_required(*IMPORT_ROLES)
def import_job_state(job_id: str):
    """Return a job's state for the progress bar: state, done, total, run URL, error."""
    job = _read_job(_job_path(job_id))
    if job is None:
        abort(404)
    out = {k: job.get(k) for k in ("state", "done", "total", "error")}
    if job.get("run_id"):
        out["url"] = url_for("registry.import_run", run_id=job["run_id"])
    return jsonify(out)


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
        who=_user_names([run]).get(run.user_id),
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
        download_name=f"{stem}_未导入的行.xlsx",
    )


def import_kinds() -> dict[str, str]:
    """Return import kind → Chinese label."""
    return {kind: cls.label for kind, cls in importers().items()}


def _user_names(runs) -> dict[int, str]:
    from edu_guard.auth.models import User

    ids = {r.user_id for r in runs if r.user_id}
    if not ids:
        return {}
    return dict(db.session.execute(sa.select(User.id, User.display_name).where(User.id.in_(ids))).all())


def _import_runs(limit: int) -> list[ImportRun]:
    stmt = sa.select(ImportRun).order_by(ImportRun.started_at.desc(), ImportRun.id.desc()).limit(limit)
    return db.session.execute(stmt).scalars().all()
