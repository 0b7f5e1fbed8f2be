"""The queue (任务队列): Huey, with its SQLite storage in the instance folder by default
(no extra service on a single machine) or Redis when ``EDU_GUARD_QUEUE_URL`` names it
(``redis://host:6379/0``; several machines, a province). Why Huey: docs/architecture.md,
"Jobs".

The web process only enqueues; ``edu-guard worker`` runs the jobs (its threads), under a
memory limit. With ``EDU_GUARD_QUEUE_IMMEDIATE`` on (tests) a job runs at once in the
process that submits it.
"""

from __future__ import annotations

import resource
from pathlib import Path
from typing import Callable

from flask import Flask, current_app
from huey import RedisHuey, SqliteHuey, crontab

from edu_guard.config import as_flag
from edu_guard.i18n import Message

#: The app of a worker process (set by :func:`run_worker`); web processes use current_app.
_worker_app: Flask | None = None
#: What runs a job by its id in an app context (:func:`edu_guard.jobs.services.execute`).
_runner: Callable[[int], None] | None = None


#: Housekeeping the workers run once a day (``daily``), registered from above: the
#: registry's purge of raw uploads past their retention.
_daily: dict[str, Callable[[], object]] = {}
#: When the daily housekeeping runs: 19:30 UTC, 03:30 China time (Huey's crontab is UTC).
DAILY_AT = {"hour": "19", "minute": "30"}


def daily(name: str, work: Callable[[], object]) -> None:
    """Have the queue's workers run ``work()`` once a day in an app context
    (:data:`DAILY_AT`); a failure is logged and the other work still runs."""
    _daily[name] = work


def run_daily() -> dict[str, object]:
    """Run the daily housekeeping now in the current app context; return each work's
    result, or ``"failed"`` for one that raised (logged with its traceback)."""
    results = {}
    for name, work in _daily.items():
        try:
            results[name] = work()
        except Exception:  # noqa: BLE001 - one failing chore must not stop the others
            current_app.logger.exception("daily housekeeping %s failed", name)
            results[name] = "failed"
    return results


def _run_daily_task() -> None:
    app = _worker_app or current_app._get_current_object()
    with app.app_context():
        run_daily()


def set_runner(runner: Callable[[int], None]) -> None:
    """Name the function the queue's task runs (the jobs layer's ``execute``)."""
    global _runner
    _runner = runner


def make_queue(app: Flask):
    """Build the app's :class:`huey.Huey` from its settings and register the task.

    :raises ValueError: ``EDU_GUARD_QUEUE_URL`` is neither ``redis://…`` nor ``sqlite:///…``.
    """
    url = app.config.get("EDU_GUARD_QUEUE_URL") or ""
    immediate = as_flag(app.config.get("EDU_GUARD_QUEUE_IMMEDIATE"))
    name = app.config.get("EDU_GUARD_QUEUE_NAME") or "edu_guard"
    if url.startswith(("redis://", "rediss://", "unix://")):
        huey = RedisHuey(name, url=url, immediate=immediate)
    elif not url or url.startswith("sqlite:///"):
        filename = url.removeprefix("sqlite:///") or str(Path(app.instance_path) / "queue.sqlite3")
        huey = SqliteHuey(name, filename=filename, immediate=immediate)
    else:
        raise ValueError(Message("EDU_GUARD_QUEUE_URL：不支持的队列地址“%(url)s”（应为 redis://… 或 sqlite:///…）", url=url))
    huey.run_job = huey.task(name="run_job")(_run_job)  # the task wrapper: run_job(job_id) enqueues
    huey.daily = huey.periodic_task(crontab(**DAILY_AT), name="daily")(_run_daily_task)
    return huey


def queue_of(app: Flask | None = None):
    """Return ``app``'s queue (the current app's by default), built on first use."""
    app = app or current_app._get_current_object()
    if "edu_guard_queue" not in app.extensions:
        app.extensions["edu_guard_queue"] = make_queue(app)
    return app.extensions["edu_guard_queue"]


def _run_job(job_id: int) -> None:
    app = _worker_app or current_app._get_current_object()
    with app.app_context():  # a session of its own, also in immediate mode
        _runner(job_id)


def enqueue(job_id: int) -> None:
    """Hand job ``job_id`` to the queue (run at once in immediate mode)."""
    queue_of().run_job(job_id)


def set_memory_limit(megabytes: int) -> None:
    """Limit this process's address space (``RLIMIT_AS``) to ``megabytes`` (0: no
    limit), so a file that gets past the upload checks but needs more memory fails its
    job with MemoryError instead of taking the machine down."""
    if megabytes and megabytes > 0:
        limit = megabytes * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def run_worker(app: Flask, workers: int = 1) -> None:
    """Run the queue's consumer in this process until SIGINT/SIGTERM (``edu-guard worker``),
    with its scheduler for the daily housekeeping (:func:`daily`)."""
    global _worker_app
    _worker_app = app
    set_memory_limit(int(app.config.get("EDU_GUARD_WORKER_MEMORY_LIMIT_MB") or 0))
    consumer = queue_of(app).create_consumer(workers=workers, worker_type="thread", periodic=True)
    consumer.run()
