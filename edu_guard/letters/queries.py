"""The letters' reads for their pages: the letters a user may see, and the dates of a
letter that rest on an estimated holiday calendar. Views call these and render."""

from __future__ import annotations

import sqlalchemy as sa

from edu_guard.auth.scoping import scope
from edu_guard.db import db
from edu_guard.letters.models import Letter, letter_case


def letters(user, *, kind: str | None = None, year: int | None = None) -> sa.Select:
    """Return ``select(Letter)`` of the letters ``user`` may see, newest first: those
    every case of which lies in the user's scope (a 劝返联系函 listing children of several
    schools is not shown to one school), of ``kind`` and ``year`` when given."""
    stmt = scope(sa.select(Letter).where(Letter.id.in_(sa.select(letter_case.c.letter_id))), Letter, user)
    if kind:
        stmt = stmt.where(Letter.kind == kind)
    if year:
        stmt = stmt.where(Letter.year == year)
    return stmt.order_by(Letter.id.desc())


def letter_by_id(letter_id: int, user) -> Letter | None:
    """Return the letter ``letter_id`` if ``user`` may see it, else ``None``."""
    return db.session.execute(letters(user).where(Letter.id == letter_id)).scalar_one_or_none()


def estimated_dates(letter: Letter) -> list[str]:
    """Return the dates printed on ``letter`` that rest on an estimated holiday calendar
    (估算), as noted when it was issued on the case event that made it; sorted, each once.

    The case events' table is read by name, as its foreign key to the letter names it:
    the cases sit above the letters (docs/architecture.md).
    """
    event = db.metadata.tables["case_event"]
    rows = db.session.execute(sa.select(event.c.data).where(event.c.letter_id == letter.id)).scalars()
    return sorted({d for data in rows if data for d in (data.get("estimated") or [])})
