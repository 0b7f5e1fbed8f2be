"""Submitting, running and watching jobs (后台任务).

Rules:

* a job row is committed before the job is queued, so any worker and any web process
  sees it;
* a job's own writes and its ``done`` state are committed in one transaction; a job that
  fails (or whose worker is killed) rolls back whole: nothing half-written (the import's
  one-transaction rule);
* a running job's worker puts a heartbeat in the queue's storage every
  ``EDU_GUARD_JOB_HEARTBEAT_SECONDS``; a running job without one for
  ``EDU_GUARD_JOB_STALE_SECONDS`` is shown failed, with the reason, and may be run again;
* a user sees the jobs of their area (the ``@scoping.rule(Job)`` of
  :mod:`edu_guard.jobs.models`), and a job's reads are scoped to its owner's area
  (:func:`edu_guard.auth.scoping.acting_as`), as the owner's own requests are;
* a job may leave one file (an export, a print run): written beside its final name
  and moved there only with the job's commit, so a failed job leaves no file; only
  its owner downloads it (:func:`result_file`).
"""

from __future__ import annotations

import hashlib
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import sqlalchemy as sa
from flask import current_app

from edu_guard import clock
from edu_guard.auth.scoping import acting_as
from edu_guard.db import db, utcnow
from edu_guard.i18n import N_, Message, message_of
from edu_guard.jobs import queue
from edu_guard.jobs.models import Job
from edu_guard.transaction import AfterCommitError, after_commit, finish
from edu_guard.uploads import expired_files, private_folder, uploads_folder

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class JobKind:
    """What a kind of job runs: ``run(job, progress) -> result dict`` (adds and flushes,
    never commits; may write one file with :func:`write_file`), and the exceptions
    whose message is shown to the user as it is.

    :param result_url: ``result_url(job) -> str | None``: the page a done job leads to
        (a comparison run, an aid list …), called in a request; ``None``: the job page
        shows its result (and its file) itself.
    :param as_owner: scope the job's reads to its owner's area
        (:func:`edu_guard.auth.scoping.acting_as`); ``False`` for work that must see the
        county (an import checks its rows against the whole registry).
    """

    label: str
    run: Callable[[Job, Progress], dict]
    refusals: tuple[type[Exception], ...] = ()
    result_url: Callable[[Job], str | None] | None = None
    as_owner: bool = True


KINDS: dict[str, JobKind] = {}

class JobError(ValueError):
    """A job action that is not allowed (message in Chinese, for the user)."""


def register(name: str, kind: JobKind) -> None:
    """Add a kind of job (the registry registers ``import``)."""
    KINDS[name] = kind


def submit(kind: str, params: dict, user) -> Job:
    """Record a job of ``kind`` for ``user``; it is queued once the caller's unit of
    work commits (:func:`edu_guard.transaction.after_commit`), so a worker always finds
    its row. In immediate mode (tests) it has run when the commit returns.

    :param kind: a key of :data:`KINDS`.
    :param params: JSON-able parameters of the kind.
    :param user: the owner; the job is visible in the owner's area.
    :raises KeyError: unknown kind.
    """
    KINDS[kind]  # noqa: B018 - refuse unknown kinds before writing anything
    # A school user's job is also its township's (a township sees its schools' work).
    township_id = getattr(user, "township_id", None) or getattr(getattr(user, "school", None), "township_id", None)
    job = Job(kind=kind, params=params, owner_id=getattr(user, "id", None),
              township_id=township_id, school_id=getattr(user, "school_id", None))
    db.session.add(job)
    db.session.flush()
    job_id = job.id
    after_commit(lambda: queue.enqueue(job_id))
    return job


def execute(job_id: int) -> None:
    """Run job ``job_id`` in the current app context (the worker's task).

    Marks it running (committed), runs its kind with a heartbeat, then commits the
    kind's writes together with ``done`` and the result; on any error rolls back and
    records ``failed`` with a message for the user. If only a step after the commit
    fails (an :func:`after_commit` callback), the job stays ``done`` with its file and
    ``result["warning"]`` says so: its data is in. A job not ``queued`` is left alone
    (delivered twice, or already run).
    """
    job = db.session.get(Job, job_id)
    if job is None or job.state != "queued":
        return
    now = utcnow()
    job.state, job.started_at, job.heartbeat_at, job.finished_at = "running", now, now, None
    job.error, job.done, job.total, job.attempts = None, 0, 0, (job.attempts or 0) + 1
    finish(ok=True)
    kind = KINDS[job.kind]
    huey = queue.queue_of()
    beat = _Heartbeat(huey, job_id, float(current_app.config["EDU_GUARD_JOB_HEARTBEAT_SECONDS"]))
    beat.start()
    _discard_file(job_id)  # a part left by a killed worker
    try:
        with acting_as(job.owner if kind.as_owner else None):
            result = kind.run(job, beat.progress)
        job.state, job.result, job.finished_at = "done", result, utcnow()
        job.heartbeat_at = job.finished_at
        job.done, job.total = beat.done, beat.total
        _keep_file(job_id)
        try:
            finish(ok=True)  # the job's writes, its file and its "done" in one transaction
        except AfterCommitError:
            # The data, the file and "done" are committed: the job stands, with a warning.
            current_app.logger.exception("job %s (%s): a step after its commit failed", job_id, kind.label)
            _warn(job_id, AFTER_COMMIT_WARNING)
            return
        except BaseException:
            _discard_file(job_id, final=True)
            raise
    except kind.refusals as exc:
        finish(ok=False)
        _discard_file(job_id)
        _fail(job_id, message_of(exc))
    except MemoryError:
        finish(ok=False)
        _discard_file(job_id)
        _fail(job_id, Message("任务所需内存超出工作进程的限制（EDU_GUARD_WORKER_MEMORY_LIMIT_MB），未写入任何数据。请拆分文件后重试。"))
    except Exception:  # noqa: BLE001 - the user must be told; the log has the details
        finish(ok=False)
        _discard_file(job_id)
        current_app.logger.exception("job %s (%s) failed", job_id, kind.label)
        _fail(job_id, Message("任务执行时发生内部错误，未写入任何数据。请联系系统管理员查看日志。"))
    finally:
        beat.stop()


# --- exports (导出任务) -------------------------------------------------------------


@dataclass(frozen=True)
class Export:
    """A workbook a feature lets its users download: ``build(params, user) ->
    (filename, xlsx bytes)`` makes it from the page's filters for ``user`` (scoped to
    the user's area); ``count(params, user) -> int`` says how many rows it would have."""

    label: str
    build: Callable[[dict, object], tuple[str, bytes]]
    count: Callable[[dict, object], int]


EXPORTS: dict[str, Export] = {}
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def register_export(name: str, export: Export) -> None:
    """Add a kind of export (the registry's roster, aid's payments …)."""
    EXPORTS[name] = export


def export_is_big(name: str, params: dict, user) -> bool:
    """Whether export ``name`` has more rows than ``EDU_GUARD_EXPORT_JOB_ROWS``, so
    that it is made by a job (:func:`submit_export`) and not in the request."""
    return EXPORTS[name].count(params, user) > int(current_app.config["EDU_GUARD_EXPORT_JOB_ROWS"])


def submit_export(name: str, params: dict, user) -> Job:
    """Queue export ``name`` with the page's filters ``params`` (JSON-able) for ``user``:
    the worker makes it as the user would see it, and only the user downloads it."""
    EXPORTS[name]  # noqa: B018 - refuse an unknown export before writing anything
    return submit("export", {"export": name, "filters": params}, user)


def _run_export(job: Job, progress) -> dict:
    export = EXPORTS[job.params["export"]]
    progress(0, 1)
    filename, data = export.build(job.params.get("filters") or {}, job.owner)
    progress(1, 1)
    return {**write_file(job, filename, data, XLSX), "summary": Message("%(export)s已生成，可下载", export=Message(export.label))}


register("export", JobKind(N_("导出"), _run_export))


# --- a job's file ------------------------------------------------------------------


def results_dir() -> Path:
    """``<instance>/job-results``: the files jobs leave (exports, print runs), one per
    job, named by the job's id (0700: whole names and ID numbers inside)."""
    return private_folder(Path(current_app.instance_path) / "job-results")


def _part(job_id: int) -> Path:
    return results_dir() / f"{job_id}.part"


def write_file(job: Job, filename: str, data: bytes, mimetype: str) -> dict:
    """Write the file a running job leaves (an export, a print run); it becomes the
    job's file only when the job commits (a failed job leaves none).

    :param filename: the name the owner downloads it under.
    :param mimetype: its media type.
    :return: ``{"file": filename, "mimetype", "bytes"}`` for the job's result.
    """
    path = _part(job.id)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    return {"file": filename, "mimetype": mimetype, "bytes": len(data)}


def _keep_file(job_id: int) -> None:
    part = _part(job_id)
    if part.exists():
        os.replace(part, results_dir() / str(job_id))


def _discard_file(job_id: int, final: bool = False) -> None:
    _part(job_id).unlink(missing_ok=True)
    if final:
        (results_dir() / str(job_id)).unlink(missing_ok=True)


def result_file(job: Job, user) -> Path | None:
    """The file job ``job`` left, for ``user`` to download: only its owner may, and
    only once the job is done; ``None`` otherwise (the page answers 404)."""
    if job.state != "done" or not (job.result or {}).get("file") or job.owner_id != getattr(user, "id", None):
        return None
    path = results_dir() / str(job.id)
    return path if path.is_file() else None


#: The warning of a job whose data was committed but a step after the commit (a
#: plugin's event, a follow-up job) failed.
AFTER_COMMIT_WARNING = Message("任务的数据已保存，但保存后的后续处理（插件通知等）出错，"
                               "请联系系统管理员查看日志；不要重新运行本任务。")


def _warn(job_id: int, message: Message | str) -> None:
    """Add ``message`` as ``result["warning"]`` of done job ``job_id`` (committed)."""
    db.session.rollback()
    job = db.session.get(Job, job_id, populate_existing=True)
    job.result = {**(job.result or {}), "warning": message}
    finish(ok=True)


def purge_job_files(now: datetime | None = None, keep_days: int | None = None, dry_run: bool = False) -> list[dict]:
    """Delete the files jobs left (``<instance>/job-results/<job id>``: exports, print
    runs, whole names and ID numbers inside) once their job finished more than
    ``EDU_GUARD_JOB_FILE_KEEP_DAYS`` days ago; the job's result then says the file
    expired (``result["file_expired"]``: the UTC time of the purge, ISO) and its page
    offers no download. A file no job names, and a part left by a killed worker, go
    once they were written as long ago. Adds and flushes, never commits.

    :param now: the current time (aware, UTC); now by default.
    :param keep_days: days to keep; the setting by default.
    :param dry_run: only list what would be deleted.
    :return: ``[{"job_id", "bytes", "finished_at"}]`` of the files deleted (or due),
        ``job_id`` ``None`` for a part or a file without its job.
    """
    now = now or datetime.now(timezone.utc)
    days = current_app.config["EDU_GUARD_JOB_FILE_KEEP_DAYS"] if keep_days is None else keep_days
    folder = Path(current_app.instance_path) / "job-results"
    ids = [int(p.name) for p in folder.iterdir() if p.name.isdigit()] if folder.is_dir() else []
    found = {j.id: j for j in db.session.execute(sa.select(Job).where(Job.id.in_(ids))).scalars()} if ids else {}
    finished = {str(i): j.finished_at for i, j in found.items() if j.finished_at}
    purged = []
    for path, since in expired_files(folder, r"[0-9]+(\.part)?", days, now, finished):
        job = found.get(int(path.name)) if path.name.isdigit() else None
        purged.append({"job_id": job.id if job is not None else None, "bytes": path.stat().st_size,
                       "finished_at": since.isoformat()})
        if dry_run:
            continue
        if job is not None:
            job.result = {**(job.result or {}), "file_expired": now.isoformat()}
        path.unlink(missing_ok=True)
    db.session.flush()
    return purged


def _fail(job_id: int, message: "Message | str") -> None:
    job = db.session.get(Job, job_id)
    job.state, job.error, job.finished_at = "failed", message, utcnow()
    finish(ok=True)


class _Heartbeat:
    """Puts ``{done, total, at}`` for a running job in the queue's storage: on every
    progress call and every ``every`` seconds from a thread, so a long step without
    progress calls still shows the worker alive."""

    def __init__(self, huey, job_id: int, every: float):
        self.huey, self.key, self.every = huey, progress_key(job_id), every
        self.done = self.total = 0
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._run, name=f"job-{job_id}-heartbeat", daemon=True)

    def start(self) -> None:
        self._put()
        self.thread.start()

    def progress(self, done: int, total: int) -> None:
        self.done, self.total = done, total
        self._put()

    def _put(self) -> None:
        self.huey.put(self.key, {"done": self.done, "total": self.total, "at": time.time()})

    def _run(self) -> None:
        while not self.stopped.wait(self.every):
            self._put()

    def stop(self) -> None:
        self.stopped.set()
        self.thread.join(self.every + 1)


def progress_key(job_id: int) -> str:
    """The queue-storage key of a job's live progress."""
    return f"job-progress:{job_id}"


def progress_of(job: Job) -> dict | None:
    """The live ``{done, total, at}`` of a running job (``at``: seconds since the epoch)."""
    return queue.queue_of().get(progress_key(job.id), peek=True)


def view(job: Job) -> dict:
    """What a page shows of ``job``: its fields, live progress, and ``failed`` with the
    reason if its worker stopped beating (the row itself is changed only by a rerun)."""
    out = {"id": job.id, "kind": job.kind, "state": job.state, "done": job.done, "total": job.total,
           "error": job.error, "created_at": job.created_at, "result": job.result, **(job.params or {})}
    if job.state == "running":
        live = progress_of(job) or {}
        out["done"], out["total"] = live.get("done", 0), live.get("total", 0)
        last = max(live.get("at", 0), job.heartbeat_at.timestamp() if job.heartbeat_at else 0)
        stale = float(current_app.config["EDU_GUARD_JOB_STALE_SECONDS"])
        if time.time() - last > stale:
            seen = clock.format_local(datetime.fromtimestamp(last, timezone.utc))
            out["state"] = "failed"
            out["stale"] = True
            out["error"] = Message("处理该任务的工作进程已停止（最后心跳 %(seen)s，超过 %(seconds)s 秒无响应），"
                                   "未写入任何数据。可重新运行。", seen=seen, seconds=int(stale))
    return out


def get(job_id: int) -> Job | None:
    """Job ``job_id`` as stored now (another process may have changed it), scoped to
    the signed-in user's area like every read; ``None`` if unknown or out of scope."""
    return db.session.get(Job, job_id, populate_existing=True)


def recent(limit: int = 100):
    """The select of the latest jobs, newest first (scoped like every read)."""
    return sa.select(Job).order_by(Job.id.desc()).limit(limit)


def label_of(kind: str) -> str:
    """The Chinese name of a kind of job (the kind itself if unknown)."""
    return KINDS[kind].label if kind in KINDS else kind


def result_url(job: Job) -> str | None:
    """The page a done job leads to (:attr:`JobKind.result_url`), or ``None``."""
    kind = KINDS.get(job.kind)
    if job.state != "done" or kind is None or kind.result_url is None:
        return None
    return kind.result_url(job)


def rerun(job: Job) -> Job:
    """Queue a failed job again (or one whose worker stopped), once the caller's unit
    of work commits.

    :raises JobError: the job is done, queued, or running with a live worker.
    """
    if view(job)["state"] != "failed":
        raise JobError(Message("只有失败的任务可以重新运行"))
    job.state, job.error, job.result, job.done, job.total = "queued", None, None, 0, 0
    db.session.flush()
    job_id = job.id
    after_commit(lambda: queue.enqueue(job_id))
    return job


def store_upload(upload) -> tuple[str, str]:
    """Store an uploaded file under ``<instance>/uploads/<sha256>`` (0600) for a job
    to read, without parsing it.

    :param upload: a :class:`werkzeug.datastructures.FileStorage` (or anything with
        ``read()`` and ``filename``).
    :return: ``(sha256, filename)`` (the file name without its folders).
    """
    data = upload.read()
    digest = hashlib.sha256(data).hexdigest()
    stored = uploads_dir() / digest
    if not stored.exists():
        fd = os.open(stored, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)  # whole ID numbers inside
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
    return digest, Path(upload.filename or "upload").name


def uploads_dir() -> Path:
    """``<instance>/uploads``: uploaded files, named by their sha256 (0700: whole ID
    numbers inside; :func:`edu_guard.uploads.uploads_folder`)."""
    return uploads_folder()


queue.set_runner(execute)
