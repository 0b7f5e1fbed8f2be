"""Import jobs (导入任务): an uploaded file is stored under ``<instance>/uploads/<sha256>``
and imported by a queue worker as a job of kind ``import`` (:mod:`edu_guard.jobs`):
the job row is in the database, its live progress in the queue's storage, so any web
process shows it, also after a restart.

The job is its own unit of work (:func:`edu_guard.transaction.finish`): all of the file
or nothing.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone
from pathlib import Path

import sqlalchemy as sa
from flask import current_app, url_for
from sqlalchemy.orm import selectinload

from edu_guard import excel
from edu_guard.auth.services import mask_id_number
from edu_guard.auth import audit
from edu_guard.db import db
from edu_guard.i18n import N_
from edu_guard.jobs import queue
from edu_guard.jobs import services as jobs
from edu_guard.jobs.models import Job
from edu_guard.registry import queries
from edu_guard.registry.models import Child, Enrollment, ImportRun
from edu_guard.registry.services import ImportFileError, import_file
from edu_guard.transaction import finish
from edu_guard.uploads import expired_files


def _run_import(job: Job, progress) -> dict:
    """Import the job's stored upload (flushes, never commits); return the run's id."""
    params = job.params
    result = import_file(params["import_kind"], jobs.uploads_dir() / params["sha256"], params["filename"],
                         user=job.owner, progress=progress)
    return {"import_run_id": result.import_run_id, "rows": result.rows}


def _import_run_url(job: Job) -> str:
    return url_for("registry.import_run", run_id=job.result["import_run_id"])


# An import checks its rows against the whole county's registry (as_owner=False).
jobs.register("import", jobs.JobKind(N_("导入"), _run_import, (ImportFileError,), result_url=_import_run_url,
                                     as_owner=False))


def _roster_rows(filters: dict, user):
    return queries.children_query(filters, user)


def _roster_count(filters: dict, user) -> int:
    return db.session.execute(sa.select(sa.func.count()).select_from(_roster_rows(filters, user).subquery())).scalar_one()


def roster_workbook(filters: dict, user) -> tuple[str, bytes]:
    """The roster with the list page's filters as a workbook, in the clerk's order
    (full ID numbers only for users who see them on pages), as ``user`` sees it.

    :param filters: :meth:`edu_guard.registry.views.ChildFilterForm.cleaned` without the page.
    :return: ``(file name, xlsx bytes)``.
    """
    stmt = _roster_rows(filters, user).options(
        selectinload(Child.enrollments).selectinload(Enrollment.school), selectinload(Child.township))
    kids = db.session.execute(stmt).scalars().all()
    kinds = queries.family_kinds([c.id_number for c in kids])
    full = user.sees_full_ids
    rows = []
    for n, c in enumerate(kids, start=1):
        e = c.current_enrollment
        school = e.school if e else None
        rows.append([n, c.name, c.id_number if full else mask_id_number(c.id_number), c.sex, c.birth_date,
                     school.township.name if school and school.township else "", school.name if school else "",
                     e.grade if e else "", e.class_name if e else "", e.status if e else "无学籍",
                     "、".join(kinds.get(c.id_number, []))])
    header = ["序号", "姓名", "身份证号", "性别", "出生日期", "学校所在乡镇", "学校", "年级", "班级", "学籍状态", "家庭类型"]
    county = current_app.config["EDU_GUARD_COUNTY_NAME"]
    data = excel.table(f"{county}学生名册（{len(rows)}人）", header, rows, totals=["合计", f"{len(rows)}人"],
                       text_columns=[2])
    return f"学生名册_{len(rows)}人.xlsx", data


jobs.register_export("roster", jobs.Export(N_("学生名册"), roster_workbook, _roster_count))


def start_import(kind: str, upload, user) -> int:
    """Store an uploaded file and queue its import (once the request commits).

    :param kind: a key of :data:`edu_guard.registry.importers.IMPORTERS`.
    :param upload: the :class:`werkzeug.datastructures.FileStorage` from the form.
    :param user: who imports.
    :return: the job id, for :func:`read_job`.
    """
    digest, filename = jobs.store_upload(upload)
    return jobs.submit("import", {"import_kind": kind, "filename": filename, "sha256": digest}, user).id


def get_job(job_id: int) -> Job | None:
    """The import job ``job_id`` (scoped to the signed-in user's area), or ``None``."""
    job = db.session.get(Job, job_id, populate_existing=True)
    return job if job is not None and job.kind == "import" else None


def read_job(job_id: int) -> dict | None:
    """Return what the job page shows of import job ``job_id`` (``state``, ``done``,
    ``total``, ``error``, ``result`` …; ``failed`` if its worker stopped), or ``None``."""
    job = get_job(job_id)
    return jobs.view(job) if job is not None else None


def purge_uploads(now=None, keep_days: int | None = None, dry_run: bool = False) -> list[dict]:
    """Delete the raw import files older than the retention setting.

    A stored file (``<instance>/uploads/<sha256>``) is kept while an import of it is
    younger than ``EDU_GUARD_UPLOAD_KEEP_DAYS`` days (the import run, its counts and
    rejects stay in the database for good); a file no import names is kept as long
    after it was written. Other files in the folder (the jobs' progress) are left.

    :param now: the current time (UTC); now by default.
    :param keep_days: days to keep; the setting by default.
    :param dry_run: only list what would be deleted.
    :return: ``[{"sha256", "bytes", "last_import"}]`` of the files deleted (or due).
    """
    now = now or datetime.now(timezone.utc)
    days = current_app.config["EDU_GUARD_UPLOAD_KEEP_DAYS"] if keep_days is None else keep_days
    folder = Path(current_app.instance_path) / "uploads"
    digests = [p.name for p in folder.iterdir() if re.fullmatch(DIGEST, p.name)] if folder.is_dir() else []
    last = dict(db.session.execute(
        sa.select(ImportRun.sha256, sa.func.max(ImportRun.started_at)).where(ImportRun.sha256.in_(digests))
        .group_by(ImportRun.sha256)
    ).all()) if digests else {}
    purged = []
    for path, since in expired_files(folder, DIGEST, days, now, last):
        purged.append({"sha256": path.name, "bytes": path.stat().st_size, "last_import": since.isoformat()})
        if not dry_run:
            path.unlink(missing_ok=True)
    return purged


#: The name of a raw import file: its sha256.
DIGEST = r"[0-9a-f]{64}"


def purge_files(now=None, upload_days: int | None = None, job_file_days: int | None = None,
                dry_run: bool = False, user=None) -> dict[str, list[dict]]:
    """The files past their retention, deleted in one run (adds and flushes, never
    commits): raw import files (:func:`purge_uploads`, ``EDU_GUARD_UPLOAD_KEEP_DAYS``)
    and the files jobs left (:func:`edu_guard.jobs.services.purge_job_files`,
    ``EDU_GUARD_JOB_FILE_KEEP_DAYS``). A run that deletes (not ``dry_run``) writes one
    audit row ``purge`` with its counts and bytes, also when it deleted nothing.

    :param now: the current time (aware, UTC); now by default.
    :param upload_days: days to keep raw uploads; the setting by default.
    :param job_file_days: days to keep job files; the setting by default.
    :param user: who purges (audited); ``None`` for the workers and the command line.
    :return: ``{"uploads": [...], "job_files": [...]}`` as the two functions return them.
    """
    uploads = purge_uploads(now=now, keep_days=upload_days, dry_run=dry_run)
    job_files = jobs.purge_job_files(now=now, keep_days=job_file_days, dry_run=dry_run)
    if not dry_run:
        audit.record_access("purge", "instance", None, {
            "uploads": len(uploads), "upload_bytes": sum(p["bytes"] for p in uploads),
            "job_files": len(job_files), "job_file_bytes": sum(p["bytes"] for p in job_files),
        }, user=user)
    return {"uploads": uploads, "job_files": job_files}


def _daily_purge() -> dict[str, int]:
    """The workers' daily run of :func:`purge_files`, its own unit of work."""
    try:
        purged = purge_files()
    except BaseException:
        finish(ok=False)
        raise
    finish(ok=True)
    return {name: len(files) for name, files in purged.items()}


#: The queue's workers purge raw uploads and job files past their retention once a day.
queue.daily("purge", _daily_purge)
