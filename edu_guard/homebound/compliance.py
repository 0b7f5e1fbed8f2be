"""Compliance of 送教上门 sessions with a frequency norm (送教频次达标): the norm presets
and the one rule that says who is behind and by how much.

Presets (docs/domain.md §3; a county picks one with ``EDU_GUARD_HOMEBOUND_NORM`` and may add
its own in ``EDU_GUARD_HOMEBOUND_NORMS``):

* ``shandong_henan`` — 2 visits a week × 3 class periods (课时) a visit, at least 216
  periods a school year (2 × 3 × 36 teaching weeks): the norm the Shandong and Henan
  provincial 送教上门 documents state (``provinces``; docs/domain.md §3).
* ``local_monthly`` — 2 visits a month × 2 periods: a county's own setting at the lower
  end of local practice ("2–3 visits a month", docs/domain.md §3); no provincial document is cited for it.
  The sample county (景洪市, 云南省) uses it: we know of no Yunnan provincial figure to
  cite, so it is printed as the county's setting.

A printable cites a norm by its content; it names a province only when the county's
province (``EDU_GUARD_PROVINCE``) is one whose document states the norm, and otherwise
calls it the county's setting (:func:`cited`) — a Yunnan county never prints
"山东/河南".

Class periods are counted from each session's start and end times: a session gives
its *whole* class periods, ``minutes // EDU_GUARD_HOMEBOUND_PERIOD_MINUTES`` (40 by
default), so a 2-hour visit is 3 periods and a 100-minute visit 2. Periods are not
stored, so a corrected time corrects the count.
"""

from __future__ import annotations

import calendar
import json
from dataclasses import dataclass, field
from datetime import date, time, timedelta
from fractions import Fraction
from typing import Iterable, Mapping, Sequence

from edu_guard.i18n import N_, Message


class NormError(ValueError):
    """The configured norm or period is unusable; ``str(exc)`` says why (Chinese)."""


@dataclass(frozen=True)
class Norm:
    """A frequency norm (送教频次标准).

    :ivar visits: visits (送教次数) per ``per``.
    :ivar per: ``"week"`` or ``"month"``.
    :ivar periods_per_visit: class periods (课时) each visit should give.
    :ivar periods_per_year: the yearly minimum the norm states (informative: with
        ``EDU_GUARD_HOMEBOUND_BREAKS`` set to the holidays, the rate over a school
        year's teaching weeks gives it).
    """

    key: str
    #: The norm's content in words (no province: see :func:`cited`); a page shows a preset's translated.
    label: str
    visits: int
    per: str
    periods_per_visit: int
    periods_per_year: int | None = None
    #: Provinces whose 送教上门 documents state this norm.
    provinces: tuple[str, ...] = ()


#: The built-in presets (docs/domain.md §3).
PRESETS: dict[str, Norm] = {
    n.key: n
    for n in (
        Norm("shandong_henan", N_("每周送教2次、每次3课时，每学年不少于216课时"), 2, "week", 3, 216,
             provinces=("山东省", "河南省")),
        Norm("local_monthly", N_("每月送教2次、每次2课时"), 2, "month", 2, None),
    )
}


def _structured(config: Mapping, key: str, empty):
    """A list or mapping setting; from the environment it comes as JSON text."""
    value = config.get(key) or empty
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            raise NormError(Message("%(key)s 应为 JSON：%(value)s", key=key, value=repr(value))) from None
    return value


def norms(config: Mapping) -> dict[str, Norm]:
    """Return the built-in presets with ``EDU_GUARD_HOMEBOUND_NORMS`` merged over them.

    :raises NormError: a configured preset lacks a field or has a bad ``per``.
    """
    out = dict(PRESETS)
    for key, spec in _structured(config, "EDU_GUARD_HOMEBOUND_NORMS", {}).items():
        try:
            norm = Norm(key, str(spec.get("label") or key), int(spec["visits"]), str(spec["per"]),
                        int(spec["periods_per_visit"]), spec.get("periods_per_year"))
        except (KeyError, TypeError, ValueError) as exc:
            raise NormError(Message("送教频次标准 %(key)s 配置不完整或有误：%(exc)s", key=key, exc=exc)) from None
        if norm.per not in ("week", "month") or norm.visits < 1 or norm.periods_per_visit < 1:
            raise NormError(Message("送教频次标准 %(key)s：per 须为 week 或 month，次数和课时须为正整数", key=key))
        out[key] = norm
    return out


def cited(norm: Norm, config: Mapping) -> str:
    """The norm as a printable cites it: ``云南省送教上门标准：…`` when the county's
    province (``EDU_GUARD_PROVINCE``) states it, else ``景洪市设定的送教标准：…``."""
    province = config.get("EDU_GUARD_PROVINCE") or ""
    if province and province in norm.provinces:
        return f"{province}送教上门标准：{norm.label}"
    return f"{config.get('EDU_GUARD_COUNTY_NAME') or '本县'}设定的送教标准：{norm.label}"


def configured_norm(config: Mapping, key: str | None = None) -> Norm:
    """Return the norm ``key``, by default ``EDU_GUARD_HOMEBOUND_NORM``.

    :raises NormError: no such preset.
    """
    key = key or config.get("EDU_GUARD_HOMEBOUND_NORM") or "local_monthly"
    available = norms(config)
    if key not in available:
        raise NormError(Message("没有名为 %(key)s 的送教频次标准（可用：%(available)s）", key=key, available=', '.join(available)))
    return available[key]


def breaks_from_config(config: Mapping) -> list[tuple[date, date]]:
    """Return ``EDU_GUARD_HOMEBOUND_BREAKS`` as inclusive ``(first, last)`` date pairs.

    :raises NormError: a pair is not two ISO dates in order.
    """
    out = []
    for pair in _structured(config, "EDU_GUARD_HOMEBOUND_BREAKS", []):
        try:
            first, last = (d if isinstance(d, date) else date.fromisoformat(str(d)) for d in pair)
        except (TypeError, ValueError):
            raise NormError(Message("假期配置 %(pair)s 应为两个 ISO 日期 [起, 止]", pair=repr(pair))) from None
        if last < first:
            raise NormError(Message("假期配置 %(pair)s 的止日早于起日", pair=repr(pair)))
        out.append((first, last))
    return out


def session_periods(starts_at: time, ends_at: time, period_minutes: int = 40) -> int:
    """Return the whole class periods of a session from ``starts_at`` to ``ends_at``.

    :param period_minutes: minutes of one class period (``EDU_GUARD_HOMEBOUND_PERIOD_MINUTES``).
    :return: ``minutes // period_minutes`` (0 for a session shorter than a period).
    :raises NormError: the session ends before it starts.
    """
    return session_minutes(starts_at, ends_at) // int(period_minutes)


def session_minutes(starts_at: time, ends_at: time) -> int:
    """Return the length of a session in whole minutes.

    :raises NormError: the session ends at or before its start.
    """
    minutes = (ends_at.hour * 60 + ends_at.minute) - (starts_at.hour * 60 + starts_at.minute)
    if minutes <= 0:
        raise NormError(Message("结束时间 %(ends_at)s 应晚于开始时间 %(starts_at)s", ends_at=format(ends_at, '%H:%M'), starts_at=format(starts_at, '%H:%M')))
    return minutes


@dataclass(frozen=True)
class SessionFacts:
    """What the rule reads of one session."""

    held_on: date
    starts_at: time
    ends_at: time
    guardian_confirmed: bool = True


@dataclass
class ChildCompliance:
    """One child's figures for a period. Periods are class periods (课时); minutes of
    teaching are kept for the hours in reports.

    :ivar counted_days: the days of the period the norm applies to (see :func:`assess`).
    :ivar expected_visits: whole visits the norm asks for those days.
    :ivar visit_shortfall: how many visits behind (0 when not behind).
    :ivar period_shortfall: how many class periods behind.
    :ivar unconfirmed: sessions without the guardian's confirmation (counted, flagged).
    """

    counted_days: int
    expected_visits: int
    expected_periods: int
    visits: int
    periods: int
    minutes: int
    unconfirmed: int
    visit_shortfall: int
    period_shortfall: int
    compliant: bool
    info: dict = field(default_factory=dict)


def _merged(breaks: Sequence[tuple[date, date]]) -> list[tuple[date, date]]:
    """The holiday ranges sorted and with overlapping or touching ranges joined."""
    out: list[tuple[date, date]] = []
    for a, b in sorted(breaks):
        if out and a <= out[-1][1] + timedelta(days=1):
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return out


def _counted_by_month(first: date, last: date, breaks: list[tuple[date, date]]):
    """Yield (days of the calendar month, counted days in it) for each month of
    ``[first, last]``, holidays (merged ranges) left out."""
    month = date(first.year, first.month, 1)
    while month <= last:
        length = calendar.monthrange(month.year, month.month)[1]
        lo, hi = max(first, month), min(last, month.replace(day=length))
        days = (hi - lo).days + 1
        for a, b in breaks:
            overlap = (min(hi, b) - max(lo, a)).days + 1
            days -= max(0, overlap)
        yield length, days
        month = (month + timedelta(days=length)).replace(day=1)


def _round_half_up(value: Fraction) -> int:
    return int((value * 2 + 1) // 2)


def assess(
    start: date,
    end: date,
    placed_from: date,
    placed_to: date | None,
    sessions: Iterable[SessionFacts],
    norm: Norm,
    *,
    breaks: Sequence[tuple[date, date]] = (),
    period_minutes: int = 40,
) -> ChildCompliance:
    """Check one child's sessions in ``[start, end]`` (inclusive) against ``norm``.

    The rule (the only one; docs/domain.md §3 for the norms):

    1. *Window*: the days of ``[start, end]`` on which the placement is active
       (``placed_from`` … ``placed_to``). A child placed mid-period is held to the
       norm from the placement's first day only.
    2. *Counted days*: the window less the school holidays in ``breaks``.
    3. *Proration*: a weekly norm counts each counted day as 1/7 of a week, so a
       partial week is prorated by its days; a monthly norm counts each counted day as
       1/(days of its calendar month), so a partial month is too.
    4. *Expected*: visits = ``norm.visits`` × the units of step 3, rounded half up
       to whole visits; periods = expected visits × ``norm.periods_per_visit``.
    5. *Delivered*: every session held in the window (also on a holiday): its count
       and its whole class periods (:func:`session_periods`). Sessions the guardian
       has not confirmed count, and are reported in ``unconfirmed``.
    6. *Compliant* when delivered visits ≥ expected visits and delivered periods ≥
       expected periods; the shortfalls are the differences (0 when not behind).

    :param start: first day of the period.
    :param end: last day of the period.
    :param placed_from: the placement's first day.
    :param placed_to: its last day, or ``None`` if open-ended.
    :param breaks: inclusive holiday ranges (``EDU_GUARD_HOMEBOUND_BREAKS``).
    :param period_minutes: minutes of a class period.
    :raises NormError: ``end`` is before ``start``, or a session ends before it starts.
    """
    if end < start:
        raise NormError(Message("统计期止日 %(end)s 早于起日 %(start)s", end=end, start=start))
    first = max(start, placed_from)
    last = min(end, placed_to) if placed_to else end
    months = list(_counted_by_month(first, last, _merged(breaks)))
    counted = sum(n for _, n in months)
    if norm.per == "week":
        units = Fraction(counted, 7)
    else:
        units = sum((Fraction(n, length) for length, n in months), Fraction(0))
    expected_visits = _round_half_up(norm.visits * units)
    expected_periods = expected_visits * norm.periods_per_visit
    visits = periods = minutes = unconfirmed = 0
    for s in sessions:
        if not first <= s.held_on <= last:
            continue
        visits += 1
        m = session_minutes(s.starts_at, s.ends_at)
        minutes += m
        periods += m // int(period_minutes)
        unconfirmed += 0 if s.guardian_confirmed else 1
    visit_short = max(0, expected_visits - visits)
    period_short = max(0, expected_periods - periods)
    return ChildCompliance(
        counted_days=counted,
        expected_visits=expected_visits,
        expected_periods=expected_periods,
        visits=visits,
        periods=periods,
        minutes=minutes,
        unconfirmed=unconfirmed,
        visit_shortfall=visit_short,
        period_shortfall=period_short,
        compliant=visit_short == 0 and period_short == 0,
    )
