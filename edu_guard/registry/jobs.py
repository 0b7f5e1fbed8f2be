"""Import jobs (导入任务): an uploaded file is stored under ``<instance>/uploads/<sha256>``
and imported by a queue worker as a job of kind ``import`` (:mod:`edu_guard.jobs`):
the job row is in the database, its live progress in the queue's storage, so any web
process shows it, also after a restart.

The job is its own unit of work (:func:`edu_guard.transaction.finish`): all of the file
or nothing.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from edu_guard.db import db
from edu_guard.jobs import services as jobs
from edu_guard.jobs.models import Job
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
        stored.write_bytes(data)
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
