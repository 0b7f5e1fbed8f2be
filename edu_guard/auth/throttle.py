"""Sign-in throttling (登录限流) with Flask-Limiter: failed sign-ins are counted per
client address *and* account together, atomically, in a storage every web process
shares.

* The counter of ``(address, username)`` is taken (incremented) *before* the
  password is checked: of 40 parallel wrong passwords from one address, only the
  first ``EDU_GUARD_LOGIN_MAX_FAILURES`` are checked, the others are refused as
  locked without a check. A success clears the counter.
* The account stays open from every other address: typing the admin's name
  wrongly from one machine does not lock the admin out of the bureau.
* An administrator can unlock an account (users page): every counter of that
  username is cleared.
* Besides, every address may POST to the sign-in form at most
  ``EDU_GUARD_LOGIN_ADDRESS_LIMIT`` times (a flood of password hashing costs CPU);
  that is a plain Flask-Limiter limit on the view.

Storage (:func:`storage_uri`): ``EDU_GUARD_RATELIMIT_STORAGE_URL`` if set (any URL
the ``limits`` library knows: ``redis://…``, ``memcached://…``); else the Redis of
``EDU_GUARD_QUEUE_URL`` when that names one; else the application's database
(:class:`DatabaseStorage`, the ``edu-guard-db://`` scheme), which every web process
and server already shares. ``memory://`` counts per process and is for tests only.
"""

from __future__ import annotations

import random
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import sqlalchemy as sa
from flask import Flask, current_app, request
from flask_limiter import Limiter
from limits import RateLimitItemPerSecond
from limits.storage import Storage

from edu_guard.auth.models import RateLimitCounter
from edu_guard.db import db, private_sqlite_file, side_engine

#: The scheme of :class:`DatabaseStorage` in a storage URL.
DB_SCHEME = "edu-guard-db"


def client_address() -> str:
    """The client's address as the app sees it (behind a reverse proxy, set
    ``EDU_GUARD_TRUSTED_PROXIES`` so that ProxyFix gives the real one)."""
    return request.remote_addr or "-"


#: The Flask-Limiter extension (one per process; :func:`init_app` binds it to an app).
limiter = Limiter(key_func=client_address, default_limits=[], strategy="fixed-window")


def storage_uri(config) -> str:
    """Return the storage URL of the sign-in counters for ``config`` (see the module
    docstring for the order)."""
    explicit = config.get("EDU_GUARD_RATELIMIT_STORAGE_URL")
    if explicit:
        return explicit
    queue = config.get("EDU_GUARD_QUEUE_URL") or ""
    if queue.startswith(("redis://", "rediss://", "unix://")):
        return queue
    return f"{DB_SCHEME}://"


def namespace(config) -> str:
    """A prefix of every counter key naming the deployment (a hash of its database
    URL), so that deployments or test runs sharing one Redis never count together."""
    import hashlib

    url = str(config.get("SQLALCHEMY_DATABASE_URI") or config.get("EDU_GUARD_DATABASE_URL") or "")
    return "eg" + hashlib.sha256(url.encode()).hexdigest()[:10]


def init_app(app: Flask) -> None:
    """Bind :data:`limiter` to ``app`` with the storage of :func:`storage_uri`."""
    app.config["RATELIMIT_STORAGE_URI"] = storage_uri(app.config)
    app.config.setdefault("RATELIMIT_KEY_PREFIX", namespace(app.config))
    app.config.setdefault("RATELIMIT_HEADERS_ENABLED", False)
    limiter.init_app(app)


def address_limit() -> str:
    """The per-address limit of sign-in POSTs, as a Flask-Limiter limit string."""
    return str(current_app.config["EDU_GUARD_LOGIN_ADDRESS_LIMIT"])


def _item() -> RateLimitItemPerSecond:
    config = current_app.config
    return RateLimitItemPerSecond(int(config["EDU_GUARD_LOGIN_MAX_FAILURES"]), int(config["EDU_GUARD_LOGIN_WINDOW"]))


@dataclass(frozen=True)
class Attempt:
    """The outcome of counting one sign-in attempt."""

    #: Whether the password may be checked (False: the limit was already reached).
    allowed: bool
    #: Attempts left in the window after this one (0: a failure now locks).
    remaining: int
    #: When the window ends (UTC).
    resets_at: datetime


def _keys(address: str, username: str) -> tuple[str, ...]:
    return "login", namespace(current_app.config), address, username


def take_attempt(address: str, username: str) -> Attempt:
    """Count one sign-in attempt of ``username`` from ``address`` (atomically) and
    return whether it may be checked, what is left and when the window ends.

    Called before the request's database session is used: the counters are read and
    written on connections of their own, so a request never holds two connections at
    once (with 40 parallel sign-ins, the pool would otherwise run dry).
    """
    item, keys = _item(), _keys(address, username)
    allowed = limiter.limiter.hit(item, *keys)
    stats = limiter.limiter.get_window_stats(item, *keys)
    return Attempt(allowed, stats.remaining, datetime.fromtimestamp(stats.reset_time, timezone.utc))


def remaining(address: str, username: str) -> int:
    """How many more attempts ``(address, username)`` has in the current window."""
    return limiter.limiter.get_window_stats(_item(), *_keys(address, username)).remaining


def clear(address: str, username: str) -> None:
    """Forget the attempts of ``(address, username)`` (after a success, or unlocking).

    Cleared at once, in a transaction of its own (never the request's: on SQLite the
    counters live in a file of their own, see :func:`counter_engine`).
    """
    if isinstance(limiter.storage, DatabaseStorage):
        limiter.storage.clear(_item().key_for(*_keys(address, username)))
    else:
        limiter.limiter.clear(_item(), *_keys(address, username))


#: The clock of :class:`DatabaseStorage` (seconds since the epoch); tests move it.
clock = time.time


_engine_lock = threading.Lock()


def counter_engine() -> sa.Engine:
    """The engine the sign-in counters are written with.

    On PostgreSQL: the application's database, through an engine without a pool (a
    row lock never makes a sign-in wait for an import, and parallel sign-ins never
    exhaust the request pool). On SQLite: a database file of its own beside the application's,
    ``<instance>/ratelimit.sqlite3`` (0600, WAL), because SQLite has one write lock per
    file and a long import holds the application's for minutes — a sign-in must not
    wait for it (docs/architecture.md, "No request fails because another writes").
    Every web process of the machine opens the same file, so counting stays shared and
    atomic.
    """
    app = current_app._get_current_object()
    if db.engine.dialect.name != "sqlite":
        # Without a pool (edu_guard.db.side_engine): a sign-in that holds the request's
        # pooled connection must not wait for a second one from the same pool.
        return side_engine(app)
    engine = app.extensions.get("edu_guard_ratelimit_engine")
    if engine is not None:
        return engine
    with _engine_lock:  # parallel first sign-ins of a process make one engine
        engine = app.extensions.get("edu_guard_ratelimit_engine")
        if engine is None:
            url = f"sqlite:///{Path(app.instance_path) / 'ratelimit.sqlite3'}"
            private_sqlite_file(url)
            engine = sa.create_engine(url, connect_args={"timeout": 30})
            with engine.begin() as conn:
                conn.exec_driver_sql("PRAGMA journal_mode=WAL")
                try:  # another process may create it at the same moment
                    RateLimitCounter.__table__.create(conn, checkfirst=True)
                except sa.exc.OperationalError as exc:
                    if "already exists" not in str(exc):
                        raise
            app.extensions["edu_guard_ratelimit_engine"] = engine
    return engine


class DatabaseStorage(Storage):
    """A ``limits`` storage in the application's database (``edu-guard-db://``), for
    the fixed-window strategy: every web process of the deployment shares it.

    :meth:`incr` is one ``INSERT … ON CONFLICT DO UPDATE … RETURNING`` statement in a
    transaction of its own (SQLite serialises writers; PostgreSQL locks the row), so
    parallel attempts are counted one by one and each sees its own count.
    """

    STORAGE_SCHEME = [DB_SCHEME]

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, **options) -> None:
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)

    @property
    def base_exceptions(self):
        return sa.exc.SQLAlchemyError

    def _table(self) -> sa.Table:
        return RateLimitCounter.__table__

    def _insert(self):
        if counter_engine().dialect.name == "postgresql":
            from sqlalchemy.dialects.postgresql import insert
        else:
            from sqlalchemy.dialects.sqlite import insert
        return insert(self._table())

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        """Add ``amount`` to ``key``'s count (a new window of ``expiry`` seconds if
        it has none or it ended); return the count."""
        now = clock()
        table = self._table()
        stmt = self._insert().values(key=key, count=amount, expires_at=now + expiry)
        expired = table.c.expires_at <= now
        stmt = stmt.on_conflict_do_update(
            index_elements=[table.c.key],
            set_={
                "count": sa.case((expired, amount), else_=table.c.count + amount),
                "expires_at": sa.case((expired, now + expiry), else_=table.c.expires_at),
            },
        ).returning(table.c.count)
        with counter_engine().begin() as conn:
            count = conn.execute(stmt).scalar_one()
            if random.random() < 0.01:  # forget windows long ended now and then
                conn.execute(sa.delete(table).where(table.c.expires_at < now - 86400))
        return int(count)

    def get(self, key: str) -> int:
        table = self._table()
        with counter_engine().connect() as conn:
            row = conn.execute(sa.select(table.c.count, table.c.expires_at).where(table.c.key == key)).first()
        if row is None or row.expires_at <= clock():
            return 0
        return int(row.count)

    def get_expiry(self, key: str) -> float:
        table = self._table()
        with counter_engine().connect() as conn:
            expires = conn.execute(sa.select(table.c.expires_at).where(table.c.key == key)).scalar()
        now = clock()
        return float(expires) if expires is not None and expires > now else now

    def check(self) -> bool:
        try:
            with counter_engine().connect() as conn:
                conn.execute(sa.select(1))
            return True
        except sa.exc.SQLAlchemyError:
            return False

    def reset(self) -> int | None:
        with counter_engine().begin() as conn:
            return conn.execute(sa.delete(self._table())).rowcount

    def clear(self, key: str) -> None:
        with counter_engine().begin() as conn:
            conn.execute(sa.delete(self._table()).where(self._table().c.key == key))
