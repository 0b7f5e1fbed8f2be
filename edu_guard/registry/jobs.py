"""Import jobs (导入任务): an uploaded file is stored under ``<instance>/uploads/<sha256>``
and imported by a queue worker as a job of kind ``import`` (:mod:`edu_guard.jobs`):
the job row is in the database, its live progress in the queue's storage, so any web
process shows it, also after a restart.

The job is its own unit of work (:func:`edu_guard.transaction.finish`): all of the file
or nothing.
"""

from __future__ import annotations

import hashlib
import os
import re
from datetime import datetime, timedelta, timezone
from pathlib import Path

import sqlalchemy as sa
from flask import current_app

from edu_guard.db import db
from edu_guard.jobs import queue
from edu_guard.jobs import services as jobs
from edu_guard.jobs.models import Job
from edu_guard.registry.models import ImportRun
from edu_guard.registry.services import ImportFileError, import_file


def _run_import(job: Job, progress) -> dict:
    """Import the job's stored upload (flushes, never commits); return the run's id."""
    params = job.params
    result = import_file(params["import_kind"], jobs.uploads_dir() / params["sha256"], params["filename"],
                         user=job.owner, progress=progress)
    return {"import_run_id": result.import_run_id, "rows": result.rows}


jobs.register("import", jobs.JobKind("导入", _run_import, (ImportFileError,)))


def start_import(kind: str, upload, user) -> int:
    """Store an uploaded file and queue its import (once the request commits).

    :param kind: a key of :data:`edu_guard.registry.importers.IMPORTERS`.
    :param upload: the :class:`werkzeug.datastructures.FileStorage` from the form.
    :param user: who imports.
    :return: the job id, for :func:`read_job`.
    """
    data = upload.read()
    digest = hashlib.sha256(data).hexdigest()
    stored = jobs.uploads_dir() / digest
    stored.parent.mkdir(parents=True, exist_ok=True)
    if not stored.exists():
        fd = os.open(stored, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)  # whole ID numbers inside
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
    filename = Path(upload.filename or "upload").name
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
    days = int(current_app.config["EDU_GUARD_UPLOAD_KEEP_DAYS"] if keep_days is None else keep_days)
    cutoff = now - timedelta(days=days)
    folder = Path(current_app.instance_path) / "uploads"
    if not folder.is_dir():
        return []
    files = {p.name: p for p in folder.iterdir() if p.is_file() and re.fullmatch(r"[0-9a-f]{64}", p.name)}
    if not files:
        return []
    last = dict(db.session.execute(
        sa.select(ImportRun.sha256, sa.func.max(ImportRun.started_at)).where(ImportRun.sha256.in_(list(files)))
        .group_by(ImportRun.sha256)
    ).all())
    purged = []
    for digest, path in sorted(files.items()):
        when = last.get(digest)
        if when is not None:
            when = when if when.tzinfo else when.replace(tzinfo=timezone.utc)
        else:
            when = datetime.fromtimestamp(path.stat().st_mtime, timezone.utc)
        if when >= cutoff:
            continue
        purged.append({"sha256": digest, "bytes": path.stat().st_size, "last_import": when.isoformat()})
        if not dry_run:
            path.unlink(missing_ok=True)
    return purged


#: The queue's workers purge raw uploads past their retention once a day.
queue.daily("purge_uploads", lambda: len(purge_uploads()))
