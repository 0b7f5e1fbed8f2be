"""``edu-guard worker``: run the queue's jobs (imports) in this process."""

from __future__ import annotations

import click
from flask import current_app

from edu_guard.cli_util import requires_init
from edu_guard.jobs import services  # noqa: F401 (the queue's runner)
from edu_guard.jobs.queue import run_worker


@click.command("worker")
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 16), help="并行执行的任务数（线程）")
@requires_init
def worker_command(workers: int) -> None:
    """运行任务队列的工作进程（导入等后台任务），Ctrl-C 停止。"""
    app = current_app._get_current_object()
    url = app.config.get("EDU_GUARD_QUEUE_URL") or "SQLite（实例目录 queue.sqlite3）"
    click.echo(f"edu_guard 任务队列工作进程：{url}，{workers} 个线程，内存上限 "
               f"{app.config.get('EDU_GUARD_WORKER_MEMORY_LIMIT_MB') or '无'} MB")
    run_worker(app, workers=workers)
