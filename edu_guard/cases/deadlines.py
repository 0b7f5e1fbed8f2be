"""Legal periods (期间) of the dropout procedure, counted on the Chinese calendar.

Rules:
- A period starts the day after the act (the day of service is not counted:
  民事诉讼法 Art. 85, applied by 行政处罚法 Art. 85 and 行政强制法 Art. 69).
- Periods of ten days or less in 行政处罚法 and 行政强制法 are working days
  (行政处罚法 Art. 85: "期限以工作日计算，不含法定节假日"; 行政强制法 Art. 69).
- A longer period in calendar days or months that ends on a public holiday or
  weekend ends on the next working day instead (民事诉讼法 Art. 85).

Working days come from the maintained ``chinese_calendar`` package (public holidays
and make-up working days, 调休). For a year the package does not cover yet, weekdays
stand in for working days and the result says it is an estimate.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, timedelta

import chinese_calendar


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
        return self.day.isoformat() + ("（估算：超出节假日日历年份）" if self.estimated else "")


def is_working_day(day: date) -> tuple[bool, bool]:
    """Return ``(is_working_day, estimated)`` for ``day``.

    :return: whether ``day`` is a working day in China (with 调休 make-up days), and
        whether the answer was estimated from the weekday because the calendar does
        not cover the year.
    """
    try:
        return chinese_calendar.is_workday(day), False
    except NotImplementedError:
        return day.weekday() < 5, True


def add_working_days(start: date, days: int) -> Deadline:
    """Return the last day of a period of ``days`` working days after ``start``.

    :param start: the day of the act (service); not counted.
    :param days: number of working days, > 0.
    """
    if days <= 0:
        raise ValueError("days must be positive")
    day, counted, estimated = start, 0, False
    while counted < days:
        day += timedelta(days=1)
        working, guessed = is_working_day(day)
        estimated |= guessed
        if working:
            counted += 1
    return Deadline(day, estimated)


def _roll_to_working_day(day: date) -> Deadline:
    estimated = False
    while True:
        working, guessed = is_working_day(day)
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
