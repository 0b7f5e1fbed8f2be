"""Import jobs (导入任务): an uploaded file is stored and imported in the background,
its progress kept in a small JSON file beside the uploads that the progress page reads.

Each job is its own unit of work (:func:`edu_guard.transaction.finish`): all of the
file or nothing.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import threading
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

import sqlalchemy as sa
from flask import current_app

from edu_guard.auth.models import User
from edu_guard.db import db, utcnow
from edu_guard.registry.models import ImportRun
from edu_guard.registry.services import ImportFileError, import_file
from edu_guard.transaction import finish
from edu_guard.uploads import uploads_folder


#: Job files (progress of finished imports) are removed after this many days; the
#: import runs themselves are kept for good.
JOB_FILES_KEPT_DAYS = 7


def _uploads() -> Path:
    return uploads_folder()  # 0700: raw uploads hold whole ID numbers


def _job_path(job_id: str) -> Path:
    if not re.fullmatch(r"[0-9a-f]{32}", job_id):
        raise LookupError(job_id)
    return _uploads() / "jobs" / f"{job_id}.json"


def _write_job(path: Path, **state) -> None:
    """Merge ``state`` into the job file (written whole, then renamed into place)."""
    job = _read_job(path) or {}
    job.update(state)
    tmp = path.with_suffix(f".{threading.get_ident()}.tmp")
    tmp.write_text(json.dumps(job, ensure_ascii=False), encoding="utf-8")
    os.replace(tmp, path)


def read_job(job_id: str) -> dict | None:
    """Return the state of the import job ``job_id`` (``state``, ``done``, ``total``,
    ``error``, ``run_id`` …), or ``None`` when there is no such job."""
    try:
        return _read_job(_job_path(job_id))
    except LookupError:
        return None


def _read_job(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _run_import(app, job_path: Path, kind: str, stored: Path, filename: str, user_id: int) -> None:
    """Import a stored upload in its own app context and session; commit once."""

    with app.app_context():
        try:
            result = import_file(
                kind,
                stored,
                filename,
                user=db.session.get(User, user_id),
                progress=lambda done, total: _write_job(job_path, done=done, total=total),
            )
        except ImportFileError as exc:
            finish(ok=False)
            _write_job(job_path, state="failed", error=str(exc))
        except Exception:  # noqa: BLE001 - the clerk must be told; the log has the details
            finish(ok=False)
            app.logger.exception("import of %s (%s) failed", filename, kind)
            _write_job(job_path, state="failed", error="导入时发生内部错误，未导入任何数据。请联系系统管理员查看日志。")
        else:
            finish(ok=True)
            _write_job(job_path, state="done", done=result.rows, total=result.rows, run_id=result.import_run_id)
        finally:
            db.session.remove()


def start_import(kind: str, upload, user) -> str:
    """Store an uploaded file and start importing it in the background.

    :param kind: a key of :data:`edu_guard.registry.importers.IMPORTERS`.
    :param upload: the :class:`werkzeug.datastructures.FileStorage` from the form.
    :param user: who imports.
    :return: the job id, for :func:`read_job`.
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
