"""Dates of acts entered after the fact (补录): one rule for every page that records an act.

A county often enters acts weeks or terms after they happened (the sample county enters
its 2021 spring term in 2026). Every form that records an act takes the act's date, the
services check what is allowed against that date, and the forms help the clerk:

- a date field defaults to the last act's date when the record is in the past (its last
  act lies in a term that has ended, or — in no recorded term — more than
  :data:`STALE_DAYS` days ago), else today;
- a date inside a term that has ended gets a visible note (补录), never silent acceptance.
"""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from flask import flash

from edu_guard.db import db
from edu_guard.i18n import Message
from edu_guard.registry.terms import Term, term_name

#: A record whose last act is older than this many days is treated as being entered
#: after the fact even when no term is imported (about half a month of school).
STALE_DAYS = 15


def _term_holding(day: date):

    return db.session.execute(
        sa.select(Term).where(Term.start <= day, Term.end >= day).order_by(Term.start)
    ).scalars().first()


def default_act_date(last_act: date | None, today: date) -> date:
    """The date a form should propose for the next act.

    :param last_act: the date of the record's latest act (``None``: nothing recorded yet).
    :param today: the county's today.
    :return: ``last_act`` when the record is in the past (see the module), else ``today``.
    """
    if last_act is None or last_act >= today:
        return today
    term = _term_holding(last_act)
    if term is not None:
        return last_act if term.end < today else today
    return last_act if (today - last_act).days > STALE_DAYS else today


def closed_term_note(day: date | None, today: date) -> Message | None:
    """A note for a date that falls in a term that has ended, e.g.
    ``"2021-03-10 属于已结束的2021年春季学期：按补录办理，期限和条件按该日期计算"``; ``None`` otherwise."""
    if day is None:
        return None
    term = _term_holding(day)
    if term is None or term.end >= today:
        return None
    return Message("%(day)s 属于已结束的%(term)s：按补录办理，期限和条件按该日期计算", day=day,
                   term=term_name(term))


def flash_closed_term(day: date | None, today: date) -> None:
    """Flash :func:`closed_term_note` of an act just recorded on ``day`` (category
    ``warning``), so a date in a closed term is accepted visibly, never silently."""
    note = closed_term_note(day, today)
    if note:
        flash(note, "warning")


def latest_term_day(today: date) -> date:
    """The default as-of day of a check over the registry (a comparison): today while
    the latest term recorded is running, else that term's first day (the county is
    entering a past term; its roster describes the children as of then)."""

    term = db.session.execute(sa.select(Term).order_by(Term.start.desc())).scalars().first()
    if term is None or term.end >= today or term.start > today:
        return today
    return term.start


def current_term(today: date):
    """The term a county is working in: the term holding ``today``, else — between terms,
    or entering a past term after the fact — the latest term that started before
    ``today`` (the sample county: 2021年春季学期, 1 March – 9 July 2021, in 2026);
    ``None`` when no term is recorded before ``today``.

    :return: a :class:`edu_guard.registry.terms.Term` or ``None``.
    """
    return _term_holding(today) or db.session.execute(
        sa.select(Term).where(Term.start <= today).order_by(Term.start.desc())
    ).scalars().first()
