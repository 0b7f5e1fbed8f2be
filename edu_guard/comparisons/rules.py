"""The age rule of compulsory education (义务教育适龄) used by every comparison."""

from __future__ import annotations

from datetime import date, timedelta


def compulsory_birth_range(on: date, min_age: int = 6, max_age: int = 15, cutoff: tuple[int, int] = (8, 31)) -> tuple[date, date]:
    """Return the birth dates of the children of compulsory-school age on ``on``.

    义务教育法 Art. 11: a child enters school in the autumn of the year it turns 6; the
    county's entry rule (default) is "6 years old by 31 August" of the school year's
    start (the school year starts on 1 September). Compulsory age ends when the child
    turns ``max_age + 1`` (default: 16, i.e. "up to 15"). Both ages and the cutoff are
    configuration (``EDU_GUARD_COMPULSORY_MIN_AGE``, ``EDU_GUARD_COMPULSORY_MAX_AGE``,
    ``EDU_GUARD_SCHOOL_ENTRY_CUTOFF``; docs/domain.md §1).

    :param on: the as-of date.
    :param min_age: the entry age (years).
    :param max_age: the last age of compulsory school (years, inclusive).
    :param cutoff: (month, day) by which the child must have turned ``min_age`` in the
        calendar year the current school year started.
    :return: ``(born_after, born_on_or_before)``: a child born on or before
        ``born_after`` is too old (turned ``max_age + 1`` by ``on``); one born after
        ``born_on_or_before`` is too young.
    """
    start_year = on.year if (on.month, on.day) >= (9, 1) else on.year - 1
    youngest = _safe_date(start_year - min_age, *cutoff)
    oldest_turns = _safe_date(on.year - max_age - 1, on.month, on.day)
    return oldest_turns, youngest


def age_category(birth: date, on: date, **rule) -> str | None:
    """Return ``"too_young"``, ``"too_old"`` or ``None`` (of compulsory-school age) for a
    child born on ``birth`` (see :func:`compulsory_birth_range`)."""
    born_after, born_by = compulsory_birth_range(on, **rule)
    if birth > born_by:
        return "too_young"
    if birth <= born_after:
        return "too_old"
    return None


def _safe_date(year: int, month: int, day: int) -> date:
    """``date(year, month, day)``, with 29 February read as 28 February in other years."""
    try:
        return date(year, month, day)
    except ValueError:
        return date(year, month, day - 1) if (month, day) == (2, 29) else date(year, month, 1) - timedelta(days=1)


def rule_from_config(config) -> dict:
    """Return the keyword arguments of :func:`compulsory_birth_range` from the app config."""
    cutoff = config.get("EDU_GUARD_SCHOOL_ENTRY_CUTOFF", (8, 31))
    if isinstance(cutoff, str):  # "08-31" from the environment
        month, day = cutoff.split("-")
        cutoff = (int(month), int(day))
    return {
        "min_age": int(config.get("EDU_GUARD_COMPULSORY_MIN_AGE", 6)),
        "max_age": int(config.get("EDU_GUARD_COMPULSORY_MAX_AGE", 15)),
        "cutoff": tuple(cutoff),
    }
