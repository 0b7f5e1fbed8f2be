"""The county's clock (县域时间): the one "today" and "now" of the whole product.

A county's deadlines, form defaults, guards ("not in the future") and reports count
in the county's own calendar day, whatever time zone the server's process runs in: a
server kept on UTC must still say it is 2 March in Beijing at 00:30 Beijing time
(16:30 UTC on 1 March). So nothing in ``edu_guard`` calls ``date.today()`` or
``datetime.now()``; it asks this module.

The zone is the setting ``EDU_GUARD_TIMEZONE`` (an IANA name read by :mod:`zoneinfo`,
``Asia/Shanghai`` by default — China keeps one civil time, 北京时间, UTC+8 without daylight
saving). Stored timestamps are UTC (:func:`utcnow`; :class:`edu_guard.db.UTCDateTime`
keeps them aware on SQLite too) and shown in the county's time (:func:`local_time`, the
Jinja filter ``county_time``).

Tests set the day with the ``today_is`` fixture (it replaces :func:`today` here) or move
the whole clock with ``time-machine``.
"""

from __future__ import annotations

import os
from datetime import date, datetime, timezone
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import current_app, has_app_context

from edu_guard.db import utcnow as _db_utcnow

#: The default zone: 北京时间 (China Standard Time, UTC+8).
DEFAULT_TIMEZONE = "Asia/Shanghai"


class ClockError(ValueError):
    """``EDU_GUARD_TIMEZONE`` names no time zone known to :mod:`zoneinfo`: it stops the
    start-up (:func:`edu_guard.app.create_app`), so only a terminal shows it, in Chinese
    like the CLI (this module lies below :mod:`edu_guard.i18n`'s layer).

    :ivar name: the unknown name.
    """

    def __init__(self, name: str):
        self.name = name
        super().__init__(f"EDU_GUARD_TIMEZONE：未知的时区“{name}”（应为 IANA 名称，如 Asia/Shanghai）")


@lru_cache(maxsize=8)
def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ClockError(name) from exc


def zone_name() -> str:
    """Return the county's time-zone name: the app's ``EDU_GUARD_TIMEZONE`` inside an app
    context, else the environment variable, else :data:`DEFAULT_TIMEZONE`."""
    if has_app_context():
        name = current_app.config.get("EDU_GUARD_TIMEZONE")
        if name:
            return name
    return os.environ.get("EDU_GUARD_TIMEZONE") or DEFAULT_TIMEZONE


def county_zone() -> ZoneInfo:
    """Return the county's :class:`~zoneinfo.ZoneInfo`.

    :raises ClockError: the setting names no known zone.
    """
    return _zone(zone_name())


def utcnow() -> datetime:
    """Return the current instant, timezone-aware UTC (what the database stores)."""
    return _db_utcnow()


def now() -> datetime:
    """Return the current instant, timezone-aware, in the county's zone."""
    return utcnow().astimezone(county_zone())


def today() -> date:
    """Return the county's date now (its calendar day in its zone), whatever the
    process's own time zone is."""
    return now().date()


def local_time(value: datetime | None) -> datetime | None:
    """Return ``value`` in the county's zone; a naive value is taken as UTC (how older
    rows and SQLite without :class:`edu_guard.db.UTCDateTime` stored it)."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(county_zone())


def format_local(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """Format ``value`` in the county's time (the Jinja filter ``county_time``); ``""``
    for None."""
    shown = local_time(value)
    return shown.strftime(fmt) if shown else ""
