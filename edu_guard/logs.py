"""Logging (日志): a rotating file in the instance folder, every line with the request
id, so that "请联系系统管理员查看日志（请求编号 …）" on an error page points at lines.

Each request gets an id (:func:`request_id`: 12 hex digits, also sent back in the
``X-Request-ID`` header); every log line carries it (``-`` outside requests: commands,
the worker). The file is ``EDU_GUARD_LOG_FILE`` (``None``: ``<instance>/logs/edu_guard.log``;
``""``: no file), rotated at ``EDU_GUARD_LOG_MAX_BYTES`` keeping
``EDU_GUARD_LOG_BACKUPS`` old files.
"""

from __future__ import annotations

import logging
import logging.handlers
import uuid
from pathlib import Path

from flask import Flask, g, has_request_context

FORMAT = "%(asctime)s %(levelname)s [%(request_id)s] %(name)s: %(message)s"
#: The one file handler per log file path (apps built again in one process, as the
#: tests do, reuse it instead of opening the file once more).
_handlers: dict[str, logging.Handler] = {}


def request_id() -> str:
    """The current request's id (made on first use), or ``"-"`` outside a request."""
    if not has_request_context():
        return "-"
    if "request_id" not in g:
        g.request_id = uuid.uuid4().hex[:12]
    return g.request_id


class RequestIdFilter(logging.Filter):
    """Put :func:`request_id` on every record as ``request_id``."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = request_id()
        return True


def init_app(app: Flask) -> None:
    """Attach the request-id header and, unless disabled (or TESTING without an
    explicit file), the rotating log file to ``app``'s logger."""

    @app.after_request
    def _send_request_id(response):
        response.headers["X-Request-ID"] = request_id()
        return response

    app.jinja_env.globals["request_id"] = request_id
    configured = app.config.get("EDU_GUARD_LOG_FILE")
    if configured == "" or (configured is None and app.config.get("TESTING")):
        return
    path = Path(configured) if configured else Path(app.instance_path) / "logs" / "edu_guard.log"
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        path.parent.chmod(0o700)
    except OSError:
        pass
    handler = _handlers.get(str(path))
    if handler is None:
        handler = logging.handlers.RotatingFileHandler(
            path, maxBytes=int(app.config["EDU_GUARD_LOG_MAX_BYTES"]),
            backupCount=int(app.config["EDU_GUARD_LOG_BACKUPS"]), encoding="utf-8", delay=True)
        handler.setFormatter(logging.Formatter(FORMAT))
        handler.addFilter(RequestIdFilter())
        _handlers[str(path)] = handler
    for logger in (app.logger, logging.getLogger("edu_guard")):
        if handler not in logger.handlers:
            logger.addHandler(handler)
    if app.logger.level == logging.NOTSET or app.logger.level > logging.INFO:
        app.logger.setLevel(logging.INFO)
