"""Pages of jobs (后台任务): the list of the user's jobs, one job's progress and result,
its file, running it again.

Every kind of job shares these pages: a comparison, a print run, an aid proposal or
approval, a big export show their progress here from any web process (the row is in
the database, the live progress in the queue's storage). A user sees the jobs of their
area (the ``Job`` scope rule); only a job's owner downloads its file.
"""

from __future__ import annotations

from urllib.parse import quote

from flask import Blueprint, Response, abort, flash, jsonify, redirect, render_template, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from edu_guard.db import db
from edu_guard.jobs import services
from edu_guard.jobs.models import STATES, Job
from edu_guard.web import refusals

bp = Blueprint("jobs", __name__)


def _job(job_id: int) -> Job:
    job = services.get(job_id)
    if job is None:
        abort(404)
    return job


def _state(job: Job) -> dict:
    out = services.view(job)
    out["label"] = _(services.label_of(job.kind))  # a feature's label, marked N_ where it registers the kind
    out["state_label"] = _(STATES[out["state"]]) if out["state"] in STATES else out["state"]
    out["url"] = services.result_url(job) if out["state"] == "done" else None
    out["download"] = (url_for("jobs.download", job_id=job.id)
                       if out["state"] == "done" and services.result_file(job, current_user) else None)
    result = (job.result or {}) if out["state"] == "done" else {}
    out["warning"] = result.get("warning")
    out["file_expired"] = bool(result.get("file") and result.get("file_expired"))
    return out


@bp.get("/jobs")
@login_required
def job_list():
    """The latest jobs the user may see (their area's), newest first."""
    found = db.session.execute(services.recent()).scalars().all()
    return render_template("jobs/list.html", jobs=[_state(j) for j in found], owners={j.id: j.owner for j in found})


@bp.get("/jobs/<int:job_id>")
@login_required
def job_page(job_id: int):
    """A job's progress; when done, its result (a link to the page it made, or its file)."""
    job = _job(job_id)
    state = _state(job)
    return render_template("jobs/job.html", job=state, can_rerun=_can_rerun(job))


@bp.get("/jobs/<int:job_id>.json")
@login_required
def job_state(job_id: int):
    """The job's state for the progress bar: state, done, total, error, url, download."""
    state = _state(_job(job_id))
    return jsonify({k: state.get(k) for k in ("state", "state_label", "done", "total", "error", "url", "download",
                                              "warning", "file_expired")})


def _can_rerun(job: Job) -> bool:
    return job.owner_id == current_user.id or current_user.role == "admin"


@bp.post("/jobs/<int:job_id>/rerun")
@login_required
def rerun(job_id: int):
    """Run a failed job again (its owner, or an admin); nothing of the failed run was written."""
    job = _job(job_id)
    if not _can_rerun(job):
        abort(403)
    with refusals(services.JobError):
        services.rerun(job)
    return redirect(url_for("jobs.job_page", job_id=job_id))


@bp.get("/jobs/<int:job_id>/file")
@login_required
def download(job_id: int):
    """The file a done job left (an export, a print run): its owner's only (404 for anyone else)."""
    job = _job(job_id)
    path = services.result_file(job, current_user)
    if path is None:
        abort(404)
    result = job.result
    return send_file(path, as_attachment=True, download_name=result["file"], mimetype=result.get("mimetype"))


def export_response(name: str, params: dict):
    """Answer a page's Excel download (export ``name`` of
    :data:`edu_guard.jobs.services.EXPORTS` with the page's filters ``params``): the
    workbook at once when it is small, else a job (``EDU_GUARD_EXPORT_JOB_ROWS``) and
    a redirect to its page, where its owner downloads the file when it is made."""
    if services.export_is_big(name, params, current_user):
        job = services.submit_export(name, params, current_user)
        flash(_("导出的行数较多，已转为后台任务；完成后在本页下载文件。"), "success")
        return redirect(url_for("jobs.job_page", job_id=job.id))
    filename, data = services.EXPORTS[name].build(params, current_user)
    return Response(data, mimetype=services.XLSX, headers={
        "Content-Disposition": f"attachment; filename=export.xlsx; filename*=UTF-8''{quote(filename)}"})
