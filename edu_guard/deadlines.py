"""Legal periods (期间) of the dropout procedure, counted on the Chinese calendar.

Rules:
- A period starts the day after the act (the day of service is not counted:
  民事诉讼法 Art. 85, applied by 行政处罚法 Art. 85 and 行政强制法 Art. 69).
- Periods of ten days or less in 行政处罚法 and 行政强制法 are working days
  (行政处罚法 Art. 85: "期限以工作日计算，不含法定节假日"; 行政强制法 Art. 69).
- A longer period in calendar days or months that ends on a public holiday or
  weekend ends on the next working day instead (民事诉讼法 Art. 85).

Working days come from, in order:

1. the county's loaded official arrangement for the year (the State Council's
   notice, holidays and make-up working days): loaded by an admin on the holiday page
   or with ``edu-guard cases holidays`` (:func:`save_arrangement`, the
   ``holiday_arrangement`` table, shared by every web and worker process on the
   database), else set in ``EDU_GUARD_HOLIDAY_ARRANGEMENTS``;
2. the maintained ``chinese_calendar`` package (holidays and 调休 make-up days);
3. for a year neither covers: an *estimate* — weekends and the statutory holidays of
   the 全国年节及纪念日放假办法 as the ``holidays`` package computes them (lunar
   dates included) are rest days, every other day a working day. A statutory holiday
   is never counted as a working day; the unknown 调休 make-up days are the
   uncertainty, so every date built on it is marked 估算.

公告送达 (service by publication) is deemed made when its period has passed: 60 days
from publication before 2022-01-01 (民事诉讼法 2017 Art. 92), 30 days from then on
(民事诉讼法 2021 Art. 95); periods run from the deemed date (:func:`effective_service`).
"""

from __future__ import annotations

import calendar
import re
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import chinese_calendar
import holidays as holiday_rules
import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from edu_guard.db import UTCDateTime, db, utcnow
from edu_guard.i18n import Message

#: Publication on or after this day is deemed served after 30 days, before it after 60
#: (民事诉讼法 as amended 2021-12-24, in force 2022-01-01: Art. 95; before: Art. 92).
PUBLICATION_RULE_CHANGE = date(2022, 1, 1)


@dataclass(frozen=True)
class Deadline:
    """The last day of a period.

    :ivar day: the last day on which the act is still in time.
    :ivar estimated: True when part of the count lies beyond the years the holiday
        calendar covers, so weekdays were used instead of the official calendar.
    """

    day: date
    estimated: bool = False

    def __str__(self) -> str:
        return self.day.isoformat() + ("（估算）" if self.estimated else "")


class HolidayArrangement(db.Model):
    """A year's official holiday arrangement as the county loaded it (the State
    Council's notice): one row per year, replaced by a new load.

    Every web and worker process reads it from the shared database; each load writes a
    new random ``version``, and a process keeps its parsed copy only as long as the
    versions it read are unchanged (:func:`_arrangements`), so a load counts at once
    everywhere. Who loaded it is in the audit log (``load_holidays``).

    :ivar year: the calendar year (e.g. 2027).
    :ivar holidays: ISO dates of the rest days (放假), statutory holidays included.
    :ivar workdays: ISO dates of the make-up working days (调休上班).
    :ivar source: the notice's document number (e.g. ``国办发明电〔2026〕×号``).
    :ivar version: a random hex token, new on each load (the cache key).
    :ivar loaded_at: when it was loaded (UTC).
    """

    __tablename__ = "holiday_arrangement"

    year: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=False)
    holidays: Mapped[list] = mapped_column(sa.JSON, nullable=False)
    workdays: Mapped[list] = mapped_column(sa.JSON, nullable=False)
    source: Mapped[str] = mapped_column(sa.String(128), nullable=False)
    version: Mapped[str] = mapped_column(sa.String(32), nullable=False)
    loaded_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)

    def as_dict(self) -> dict:
        """``{"holidays", "workdays", "source", "loaded_at"}`` of the row (ISO strings)."""
        return {"holidays": list(self.holidays), "workdays": list(self.workdays), "source": self.source,
                "loaded_at": self.loaded_at.isoformat() if self.loaded_at else None}


#: Parsed arrangements of the database, keyed by the (year, version) pairs they were
#: read with; a load anywhere changes a version, so a stale entry is never used.
_db_cache: dict[frozenset, dict] = {}


class ArrangementError(ValueError):
    """A holiday arrangement cannot be loaded as given; its :class:`~edu_guard.i18n.Message`
    reads in the language of whoever sees it."""


def stored_arrangements() -> dict:
    """The arrangements loaded into the database, year (str) → {"holidays", "workdays",
    "source", "loaded_at"}; ``{}`` outside an app context or when none.

    One small query per call (the years and their versions); the rows themselves are
    read again only when a version changed. Pending changes of the session are not
    flushed by it (a load in the same unit of work is seen once flushed)."""
    from flask import has_app_context

    if not has_app_context():
        return {}
    with db.session.no_autoflush:
        versions = frozenset((year, version) for year, version in db.session.execute(
            sa.select(HolidayArrangement.year, HolidayArrangement.version)))
        cached = _db_cache.get(versions)
        if cached is not None:
            return cached
        # Columns, not ORM objects: an object already in the session's identity map
        # would not be refreshed by the query and could be stale.
        t = HolidayArrangement.__table__
        rows = db.session.execute(sa.select(t.c.year, t.c.holidays, t.c.workdays, t.c.source, t.c.version,
                                            t.c.loaded_at)).all()
        data = {str(r.year): {"holidays": list(r.holidays), "workdays": list(r.workdays), "source": r.source,
                              "loaded_at": r.loaded_at.isoformat() if r.loaded_at else None} for r in rows}
    key = frozenset((r.year, r.version) for r in rows)
    if len(_db_cache) > 64:
        _db_cache.clear()
    _db_cache[key] = data
    return data


def _arrangements() -> dict:
    """The county's loaded official arrangements, year (str) → {"holidays", "workdays"}
    (ISO date lists): ``EDU_GUARD_HOLIDAY_ARRANGEMENTS`` of the config, overridden year
    by year by those loaded into the database (:func:`stored_arrangements`); empty
    outside an app."""
    from flask import current_app, has_app_context

    if not has_app_context():
        return {}
    merged = {str(k): v for k, v in (current_app.config.get("EDU_GUARD_HOLIDAY_ARRANGEMENTS") or {}).items()}
    merged.update(stored_arrangements())
    return merged


def statutory_holidays(year: int) -> list[date]:
    """The statutory holidays of ``year`` (全国年节及纪念日放假办法, as amended 2024:
    元旦 1, 春节 4 from 除夕, 清明 1, 劳动节 2, 端午 1, 中秋 1, 国庆 3 days), lunar dates
    computed by the ``holidays`` package; the package's guessed "observed" days are not
    included (only the State Council's notice fixes them)."""
    return sorted(d for d, name in holiday_rules.China(years=year).items() if "observed" not in name)


def _parse_days(text: str, year: int, what: str) -> list[str]:
    days: set[date] = set()
    for token in re.split(r"[\s,，;；、]+", text or ""):
        if not token:
            continue
        first, _, last = token.replace("～", "~").replace("至", "~").partition("~")
        try:
            start = date.fromisoformat(first.strip())
            end = date.fromisoformat(last.strip()) if last else start
        except ValueError:
            raise ArrangementError(Message("%(what)s中的“%(token)s”不是日期（应为 YYYY-MM-DD 或 YYYY-MM-DD~YYYY-MM-DD）",
                                           what=what, token=token)) from None
        if end < start or (end - start).days > 31:
            raise ArrangementError(Message("%(what)s中的“%(token)s”不是一段合理的日期", what=what, token=token))
        while start <= end:
            if start.year != year:
                raise ArrangementError(Message("%(what)s中的 %(day)s 不在 %(year)s 年", what=what,
                                               day=start.isoformat(), year=year))
            days.add(start)
            start += timedelta(days=1)
    return sorted(d.isoformat() for d in days)


def parse_arrangement(year: int, holidays_text: str, workdays_text: str) -> dict:
    """Check a year's official arrangement as typed from the State Council's notice.

    :param year: the year of the notice (e.g. 2027).
    :param holidays_text: the rest days of the notice (放假), dates or ranges
        ``2027-02-05~2027-02-12``, separated by spaces, commas or lines.
    :param workdays_text: the make-up working days (调休上班), usually weekend days.
    :return: ``{"holidays": [ISO …], "workdays": [ISO …]}``.
    :raises ArrangementError: a bad date, a day outside the year, a statutory holiday
        missing from the rest days or listed as a working day (全国年节及纪念日放假办法:
        a statutory holiday is never a working day), a day both rest and working.
    """
    holidays_ = _parse_days(holidays_text, year, Message("放假日期"))
    workdays = _parse_days(workdays_text, year, Message("调休上班日期"))
    if not holidays_:
        raise ArrangementError(Message("请填写放假日期"))
    both = sorted(set(holidays_) & set(workdays))
    if both:
        raise ArrangementError(Message("这些日期既是放假日又是上班日：%(both)s", both="、".join(both)))
    statutory = [d.isoformat() for d in statutory_holidays(year)]
    worked = [d for d in statutory if d in workdays]
    if worked:
        raise ArrangementError(Message("法定节假日不能调为上班日：%(worked)s", worked="、".join(worked)))
    missing = [d for d in statutory if d not in holidays_]
    if missing:
        raise ArrangementError(Message("放假日期缺少这些法定节假日：%(missing)s（请按国务院办公厅通知完整填写）",
                                       missing="、".join(missing)))
    return {"holidays": holidays_, "workdays": workdays}


def save_arrangement(year: int, arrangement: dict, source: str) -> HolidayArrangement:
    """Store a checked arrangement (:func:`parse_arrangement`) for ``year`` in the
    ``holiday_arrangement`` table (replacing an earlier load of the year) with a new
    version; added and flushed, not committed (the request or command boundary
    commits). From the commit on, every process counts the year's working days by it
    and its dates are no longer estimates. The caller audits the load
    (:func:`edu_guard.cases.services.load_holiday_arrangement`).

    :param year: the year of the notice.
    :param arrangement: ``{"holidays": [ISO …], "workdays": [ISO …]}``.
    :param source: the notice it comes from (e.g. ``国办发明电〔2026〕×号``).
    :return: the stored row.
    """
    row = db.session.get(HolidayArrangement, year)
    if row is None:
        row = HolidayArrangement(year=year)
        db.session.add(row)
    row.holidays = list(arrangement["holidays"])
    row.workdays = list(arrangement["workdays"])
    row.source = source
    row.version = uuid.uuid4().hex
    row.loaded_at = utcnow()
    db.session.flush()
    return row


def arrangement_loaded(year: int) -> bool:
    """Whether the official arrangement of ``year`` is known (chinese_calendar or the
    county's loaded notice), so dates in it are not estimates."""
    if str(year) in _arrangements():
        return True
    try:
        chinese_calendar.is_workday(date(year, 6, 1))
        return True
    except NotImplementedError:
        return False


def is_working_day(day: date) -> tuple[bool, bool]:
    """Return ``(is_working_day, estimated)`` for ``day``.

    :return: whether ``day`` is a working day in China (with 调休 make-up days), and
        whether the answer is an estimate (no official arrangement for the year:
        weekends and the statutory holidays are rest days, make-up days unknown).
    """
    return _working(day, _arrangements())


def _working(day: date, loaded: dict) -> tuple[bool, bool]:
    """:func:`is_working_day` on the arrangements ``loaded`` (read once per period)."""
    year = loaded.get(str(day.year))
    if year is not None:
        iso = day.isoformat()
        if iso in (year.get("workdays") or ()):
            return True, False
        if iso in (year.get("holidays") or ()):
            return False, False
        return day.weekday() < 5, False
    try:
        return chinese_calendar.is_workday(day), False
    except NotImplementedError:
        statutory = holiday_rules.China(years=day.year)
        return day.weekday() < 5 and day not in statutory, True


def effective_service(served_on: date, manner: str | None) -> Deadline:
    """The day a letter counts as served: the day recorded, or for 公告送达 (service by
    publication, ``served_on`` = the publication date) the day its period has passed —
    60 days for a publication before 2022-01-01 (民事诉讼法 2017 Art. 92), 30 days from
    then on (民事诉讼法 2021 Art. 95). Periods run from the day after (Art. 85).

    :param served_on: the date on the proof of service (or of publication).
    :param manner: one of the service manners (``"公告送达"`` …).
    """
    if manner != "公告送达":
        return Deadline(served_on, False)
    days = 60 if served_on < PUBLICATION_RULE_CHANGE else 30
    return Deadline(served_on + timedelta(days=days), False)


def add_working_days(start: date, days: int) -> Deadline:
    """Return the last day of a period of ``days`` working days after ``start``.

    :param start: the day of the act (service); not counted.
    :param days: number of working days, > 0.
    """
    if days <= 0:
        raise ValueError("days must be positive")
    day, counted, estimated = start, 0, False
    loaded = _arrangements()
    while counted < days:
        day += timedelta(days=1)
        working, guessed = _working(day, loaded)
        estimated |= guessed
        if working:
            counted += 1
    return Deadline(day, estimated)


def _roll_to_working_day(day: date) -> Deadline:
    estimated = False
    loaded = _arrangements()
    while True:
        working, guessed = _working(day, loaded)
        estimated |= guessed
        if working:
            return Deadline(day, estimated)
        day += timedelta(days=1)


def add_calendar_days(start: date, days: int) -> Deadline:
    """Return the last day of a period of ``days`` calendar days after ``start``;
    a period ending on a rest day ends on the next working day (民事诉讼法 Art. 85)."""
    return _roll_to_working_day(start + timedelta(days=days))


def add_months(start: date, months: int) -> Deadline:
    """Return the last day of a period of ``months`` months after ``start``: the same
    day of the month (or the month's last day), rolled to a working day."""
    month0 = start.month - 1 + months
    year, month = start.year + month0 // 12, month0 % 12 + 1
    day = min(start.day, calendar.monthrange(year, month)[1])
    return _roll_to_working_day(date(year, month, day))


def period(start: date, amount: int, unit: str) -> Deadline:
    """Dispatch on ``unit``: ``"working_days"``, ``"days"`` or ``"months"``."""
    if unit == "working_days":
        return add_working_days(start, amount)
    if unit == "days":
        return add_calendar_days(start, amount)
    if unit == "months":
        return add_months(start, amount)
    raise ValueError(f"unknown unit {unit!r}")
