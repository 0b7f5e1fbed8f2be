"""School terms (学期): the dates and school days every feature counts by — aid pays per
term, 送教上门 and the case pages default their dates by term (:mod:`edu_guard.acts`).
The registry holds them, below the features, so any of them may read a term.

The table keeps its first name, ``aid_term`` (aid introduced terms).
"""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from edu_guard.db import UTCDateTime, db, utcnow
from edu_guard.i18n import Message


class Term(db.Model):
    """A term (学期) with its dates and the number of school days (在校天数)."""

    __tablename__ = "aid_term"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: ``2021-spring`` / ``2021-autumn``.
    code: Mapped[str] = mapped_column(sa.String(16), unique=True)
    #: ``2021年春季学期``.
    name: Mapped[str] = mapped_column(sa.String(32))
    start: Mapped[date] = mapped_column(sa.Date)
    end: Mapped[date] = mapped_column(sa.Date)
    school_days: Mapped[int] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    @property
    def year(self) -> int:
        """The calendar year the term starts in."""
        return self.start.year


def term_label(year: int, season: str) -> Message:
    """The name the system gives a term of ``year`` and ``season`` (``"spring"`` or
    ``"autumn"``): ``2021年春季学期`` in Chinese, shown in the reader's language."""
    if season == "spring":
        return Message("%(year)s年春季学期", year=int(year))
    return Message("%(year)s年秋季学期", year=int(year))


def term_name(term) -> "Message | str":
    """A term's name for a page or a refusal (a :class:`TermInfo` or an aid term): the
    system's name (:func:`term_label`) in the reader's language while the term still has
    it, else the name a clerk typed, as typed. Official documents (the 公示, the bank's
    file, reports to superiors) print ``term.name``."""
    year, _, season = (term.code or "").partition("-")
    if year.isdigit() and season in ("spring", "autumn"):
        label = term_label(int(year), season)
        if label.chinese() == term.name:
            return label
    return term.name
