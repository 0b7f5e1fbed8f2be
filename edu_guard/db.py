"""The database: declarative base with a constraint naming convention, and the
Flask-SQLAlchemy extension (unbound; attached in :func:`edu_guard.app.create_app`)."""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
import os
from datetime import datetime, timezone
from pathlib import Path

import sqlalchemy as sa
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base for every model; constraint names follow NAMING_CONVENTION."""

    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base)


def utcnow() -> datetime:
    """Return the current instant, timezone-aware UTC (what the database stores; the
    county's date and time are :mod:`edu_guard.clock`'s)."""
    return datetime.now(timezone.utc)


class UTCDateTime(sa.types.TypeDecorator):
    """A timestamp stored as UTC and read back timezone-aware (UTC) on every database.

    PostgreSQL's ``timestamptz`` does this itself; SQLite has no time-zone type and
    SQLAlchemy returns its values naive, so the value is converted to UTC before it is
    written and given ``tzinfo=UTC`` when read. A naive value written by code is
    taken as UTC (what the column has always held); prefer :func:`utcnow`.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:  # a naive value is taken as UTC, as the column has always held
            value = value.replace(tzinfo=timezone.utc)
        value = value.astimezone(timezone.utc)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


class TimestampMixin:
    """``created_at`` / ``updated_at`` columns (UTC)."""

    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


@sa.event.listens_for(sa.engine.Engine, "connect")
def _sqlite_pragmas(dbapi_connection, connection_record):  # pragma: no cover - trivial
    """Turn on WAL and foreign keys for SQLite connections (docs/architecture.md, Data).

    WAL lets readers (page views, sign-in checks) go on while one writer (an import job)
    holds the write lock. The busy timeout — how long a writer waits for that lock — is
    ``sqlite3.connect(timeout=…)``, from ``EDU_GUARD_SQLITE_BUSY_TIMEOUT`` (see
    :func:`edu_guard.app.create_app`)."""
    module = type(dbapi_connection).__module__
    if module.startswith("sqlite3"):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()


# --- when another writer holds the database ---------------------------------------

log = logging.getLogger(__name__)

#: PostgreSQL's SQLSTATE for a lock not obtained within ``lock_timeout``.
PG_LOCK_NOT_AVAILABLE = "55P03"


def is_busy(exc: BaseException) -> bool:
    """Return whether ``exc`` means "another writer holds the database, try again":
    SQLite's ``database is locked`` after its busy timeout, or PostgreSQL's
    ``lock_not_available``. Such a request is answered 503 "系统繁忙，请稍后重试"."""
    if not isinstance(exc, sa.exc.OperationalError):
        return False
    orig = getattr(exc, "orig", None)
    if getattr(orig, "sqlstate", None) == PG_LOCK_NOT_AVAILABLE:
        return True
    text = str(orig or exc).lower()
    return "database is locked" in text or "database table is locked" in text


class _DeferredWriter:
    """One background thread per process that retries small writes (a sign-in's audit
    row) which found the SQLite write lock held by a long job, so the request that made
    them does not wait for the job. Writes are retried with the full busy timeout until
    they land or ``attempts`` run out (then logged as lost)."""

    def __init__(self, attempts: int = 20):
        self.attempts = attempts
        self.queue: queue.Queue = queue.Queue()
        self.thread: threading.Thread | None = None
        self.lock = threading.Lock()

    def submit(self, app, work: Callable[[sa.Connection], None]) -> None:
        with self.lock:
            if self.thread is None or not self.thread.is_alive():
                self.thread = threading.Thread(target=self._run, name="edu_guard-deferred-writes", daemon=True)
                self.thread.start()
        self.queue.put((app, work))

    def _run(self) -> None:
        while True:
            app, work = self.queue.get()
            try:
                for attempt in range(self.attempts):
                    try:
                        with side_engine(app).begin() as conn:
                            work(conn)
                        break
                    except sa.exc.OperationalError as exc:
                        if not is_busy(exc):
                            log.exception("deferred write failed")
                            break
                        time.sleep(min(0.2 * (attempt + 1), 2))
                else:
                    log.error("deferred write dropped after %d attempts (database busy)", self.attempts)
            except Exception:  # pragma: no cover - logged, never kills the thread
                log.exception("deferred write failed")
            finally:
                self.queue.task_done()

    def join(self, timeout: float) -> bool:
        """Wait until every submitted write is done; return False on timeout."""
        deadline = time.monotonic() + timeout
        while self.queue.unfinished_tasks:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.02)
        return True


_deferred = _DeferredWriter()


def write_or_defer(work: Callable[[sa.Connection], None]) -> bool:
    """Run ``work(connection)`` in a short transaction of its own, outside the request's
    session, without waiting for the write lock.

    For small bookkeeping writes a request must not wait for (a sign-in's audit row
    and failure counter): on SQLite, if another writer (an import) holds the lock, the
    write is handed to a background thread that retries it once the lock is free, and
    the request goes on. On PostgreSQL the write is done at once (row locks do not
    make an insert wait for an import).

    :param work: runs Core statements on the connection; must be safe to run later.
    :return: True if written now, False if deferred.
    """
    from flask import current_app

    app = current_app._get_current_object()
    engine = side_engine(app)
    if engine.dialect.name != "sqlite":
        with engine.begin() as conn:
            work(conn)
        return True
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA busy_timeout=0")  # a fresh connection (NullPool): not restored
        conn.commit()  # end the autobegun transaction; the write gets its own
        try:
            with conn.begin():
                work(conn)
            return True
        except sa.exc.OperationalError as exc:
            if not is_busy(exc):
                raise
    _deferred.submit(app, work)
    return False


def side_engine(app) -> sa.Engine:
    """An engine on the app's database without a pool (``NullPool``), for the writes
    of :func:`write_or_defer`: a request that holds a pooled connection never waits for
    a second one from the same pool (20 concurrent sign-ins would exhaust it)."""
    engine = app.extensions.get("edu_guard_side_engine")
    if engine is None:
        options = app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {}
        engine = sa.create_engine(app.config["SQLALCHEMY_DATABASE_URI"], poolclass=sa.pool.NullPool,
                                  connect_args=dict(options.get("connect_args") or {}))
        app.extensions["edu_guard_side_engine"] = engine
    return engine


def wait_for_deferred_writes(timeout: float = 60) -> bool:
    """Wait until the deferred writes of this process are done (tests, shutdown);
    return False if some are still pending after ``timeout`` seconds."""
    return _deferred.join(timeout)


def busy_timeout_seconds(app) -> float:
    """``EDU_GUARD_SQLITE_BUSY_TIMEOUT``: how long a SQLite writer waits for the lock."""
    return float(app.config.get("EDU_GUARD_SQLITE_BUSY_TIMEOUT") or 30)
def private_sqlite_file(url: str) -> None:
    """Create the SQLite database file of ``url`` readable by its owner only (0600)
    before SQLite opens it, or narrow an existing one to 0600; SQLite gives its WAL
    and shared-memory files the database file's mode. Other URLs are left alone.

    The file holds every child's ID number and family situation (docs/security.md).
    """
    if not url.startswith("sqlite:///") or url in ("sqlite:///", "sqlite:///:memory:"):
        return
    path = Path(sa.engine.make_url(url).database or "")
    if not path.name or str(path) == ":memory:":
        return
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.exists():
            path.chmod(0o600)
        else:
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
    except OSError:  # a read-only or foreign file: SQLite reports what matters
        pass
