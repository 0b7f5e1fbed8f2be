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
* a user sees the jobs of their area (:func:`edu_guard.auth.scoping.scope_jobs`).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from flask import current_app

from edu_guard import clock
from edu_guard.db import db, utcnow
from edu_guard.jobs import queue
from edu_guard.jobs.models import Job
from edu_guard.transaction import after_commit, finish
from edu_guard.uploads import uploads_folder

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class JobKind:
    """What a kind of job runs: ``run(job, progress) -> result dict`` (adds and flushes,
    never commits), and the exceptions whose message is shown to the user as it is."""

    label: str
    run: Callable[[Job, Progress], dict]
    refusals: tuple[type[Exception], ...] = ()


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
    job = Job(kind=kind, params=params, owner_id=getattr(user, "id", None),
              township_id=getattr(user, "township_id", None), school_id=getattr(user, "school_id", None))
    db.session.add(job)
    db.session.flush()
    job_id = job.id
    after_commit(lambda: queue.enqueue(job_id))
    return job


def execute(job_id: int) -> None:
    """Run job ``job_id`` in the current app context (the worker's task).

    Marks it running (committed), runs its kind with a heartbeat, then commits the
    kind's writes together with ``done`` and the result; on any error rolls back and
    records ``failed`` with a message for the user. A job not ``queued`` is left alone
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
    try:
        result = kind.run(job, beat.progress)
        job.state, job.result, job.finished_at = "done", result, utcnow()
        job.heartbeat_at = job.finished_at
        job.done, job.total = beat.done, beat.total
        finish(ok=True)  # the job's writes and its "done" in one transaction
    except kind.refusals as exc:
        finish(ok=False)
        _fail(job_id, str(exc))
    except MemoryError:
        finish(ok=False)
        _fail(job_id, "任务所需内存超出工作进程的限制（EDU_GUARD_WORKER_MEMORY_LIMIT_MB），未写入任何数据。请拆分文件后重试。")
    except Exception:  # noqa: BLE001 - the user must be told; the log has the details
        finish(ok=False)
        current_app.logger.exception("job %s (%s) failed", job_id, kind.label)
        _fail(job_id, "任务执行时发生内部错误，未写入任何数据。请联系系统管理员查看日志。")
    finally:
        beat.stop()


def _fail(job_id: int, message: str) -> None:
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
           "error": job.error, "result": job.result, **(job.params or {})}
    if job.state == "running":
        live = progress_of(job) or {}
        out["done"], out["total"] = live.get("done", 0), live.get("total", 0)
        last = max(live.get("at", 0), job.heartbeat_at.timestamp() if job.heartbeat_at else 0)
        stale = float(current_app.config["EDU_GUARD_JOB_STALE_SECONDS"])
        if time.time() - last > stale:
            seen = clock.format_local(datetime.fromtimestamp(last, timezone.utc))
            out["state"] = "failed"
            out["stale"] = True
            out["error"] = (f"处理该任务的工作进程已停止（最后心跳 {seen}，超过 {int(stale)} 秒无响应），"
                            "未写入任何数据。可重新运行。")
    return out


def rerun(job: Job) -> Job:
    """Queue a failed job again (or one whose worker stopped), once the caller's unit
    of work commits.

    :raises JobError: the job is done, queued, or running with a live worker.
    """
    if view(job)["state"] != "failed":
        raise JobError("只有失败的任务可以重新运行")
    job.state, job.error, job.result, job.done, job.total = "queued", None, None, 0, 0
    db.session.flush()
    job_id = job.id
    after_commit(lambda: queue.enqueue(job_id))
    return job


def uploads_dir() -> Path:
    """``<instance>/uploads``: uploaded files, named by their sha256 (0700: whole ID
    numbers inside; :func:`edu_guard.uploads.uploads_folder`)."""
    return uploads_folder()


queue.set_runner(execute)
