"""``edu-guard serve``: the production web server (gunicorn, several worker processes),
optionally with the queue worker beside it; Werkzeug's development server only with
``--debug``.

gunicorn runs the app factory in each of its worker processes
(``edu_guard.app:create_app()``); the queue worker is the ``edu-guard worker`` command
in a child process. Ctrl-C (SIGINT) or SIGTERM stops both.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import click
from flask import current_app

from edu_guard.app import create_app
from edu_guard.cli_util import requires_init


def gunicorn_options(host: str, port: int, workers: int, threads: int, timeout: int) -> dict:
    """gunicorn's settings: ``gthread`` workers (a request waiting for SQLite's write
    lock blocks only its thread), and a worker timeout above the busy timeout so a
    waiting request is answered 503 rather than killed."""
    return {
        "bind": f"{host}:{port}",
        "workers": workers,
        "worker_class": "gthread",
        "threads": threads,
        "timeout": timeout,
        "graceful_timeout": 30,
        "control_socket_disable": True,  # not used; it would be one file in $HOME for every instance
        "accesslog": "-",
        "errorlog": "-",
        "forwarded_allow_ips": os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1"),
    }


def run_gunicorn(options: dict) -> None:
    """Serve ``edu_guard.app:create_app()`` with gunicorn until stopped."""
    from gunicorn.app.base import BaseApplication

    class _App(BaseApplication):
        def load_config(self):
            for key, value in options.items():
                self.cfg.set(key, value)

        def load(self):
            return create_app()

    _App().run()


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="监听地址")
@click.option("--port", default=5000, show_default=True, type=int, help="端口")
@click.option("--workers", default=2, show_default=True, type=click.IntRange(1, 64), help="Web 工作进程数（gunicorn）")
@click.option("--threads", default=4, show_default=True, type=click.IntRange(1, 64), help="每个 Web 进程的线程数")
@click.option("--with-worker/--no-worker", default=False, help="同时启动任务队列工作进程（单机部署，make run）")
@click.option("--debug", is_flag=True, help="开发模式：Werkzeug 开发服务器，自动重载（勿用于生产）")
@requires_init
def serve_command(host: str, port: int, workers: int, threads: int, with_worker: bool, debug: bool) -> None:
    """启动 Web 服务（生产：gunicorn 多进程；--debug 时用开发服务器）。"""
    app = current_app._get_current_object()
    busy = float(app.config.get("EDU_GUARD_SQLITE_BUSY_TIMEOUT") or 30)
    worker = None
    if with_worker:
        worker = subprocess.Popen([sys.executable, "-m", "edu_guard.cli", "worker"], env=os.environ.copy())
    try:
        if debug:
            app.run(host=host, port=port, debug=True, use_reloader=False)
        else:
            click.echo(f"edu_guard: gunicorn {workers} 个进程 × {threads} 线程，http://{host}:{port}/")
            run_gunicorn(gunicorn_options(host, port, workers, threads, timeout=int(busy) + 60))
    finally:
        if worker is not None and worker.poll() is None:
            worker.send_signal(signal.SIGINT)
            try:
                worker.wait(timeout=30)
            except subprocess.TimeoutExpired:
                worker.kill()
                worker.wait()
