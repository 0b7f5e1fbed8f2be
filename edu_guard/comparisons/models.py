"""Comparison runs (比对记录) and their rows.

A run keeps what it compared (kind, the input's sha256, the as-of date, parameters),
who ran it and when, and the count per category. Its rows are kept for every category
but ``enrolled`` (the bulk of a household register, counted only): enough to reopen
the run, filter it and open cases from it.
"""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from edu_guard.auth import scoping
from edu_guard.auth.models import User
from edu_guard.db import UTCDateTime, db, utcnow
from edu_guard.i18n import MessageText


class ComparisonRun(db.Model):
    """One run of a comparison (比对): inputs, who, when, counts per category (docs/domain.md §7)."""

    __tablename__ = "comparison_run"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Key of :func:`edu_guard.comparisons.kinds.kinds` (household, status, disabled).
    kind: Mapped[str] = mapped_column(sa.String(32), index=True)
    filename: Mapped[str | None] = mapped_column(sa.String(255))
    #: sha256 of the input file (``None`` for comparisons of the registry alone).
    sha256: Mapped[str | None] = mapped_column(sa.String(64), index=True)
    as_of: Mapped[date] = mapped_column(sa.Date)
    #: The settings the run used (ages, day limits), for reproducing it.
    params: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    #: category → number of rows.
    counts: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    total: Mapped[int] = mapped_column(default=0)
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"))
    #: The county the run belongs to (GB/T 2260, 6 digits): its user's county, or the
    #: instance's ``EDU_GUARD_COUNTY_CODE`` for a run from the CLI or by a user with none;
    #: the county's users see it when several counties share the database.
    county_code: Mapped[str | None] = mapped_column(sa.String(6), index=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    #: Seconds the comparison took.
    seconds: Mapped[float] = mapped_column(default=0.0)

    user = relationship("User")


class ComparisonRow(db.Model):
    """One row of a run: the person, the category and its reason."""

    __tablename__ = "comparison_row"
    __table_args__ = (sa.Index("ix_comparison_row_run_category", "run_id", "category"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(sa.ForeignKey("comparison_run.id"), index=True)
    #: Row number in the input file (Excel/CSV numbering), or the record id.
    line: Mapped[int] = mapped_column()
    #: As read (invalid rows keep what was typed, cut to 32 characters).
    id_number: Mapped[str | None] = mapped_column(sa.String(32), index=True)
    name: Mapped[str | None] = mapped_column(sa.String(64))
    category: Mapped[str] = mapped_column(sa.String(24))
    #: Why the row is in its category: a :class:`~edu_guard.i18n.Message` shown in the reader's language.
    reason: Mapped[str] = mapped_column(MessageText)
    #: Extra facts shown in the result (birth date, address, guardian, school …).
    data: Mapped[dict | None] = mapped_column(sa.JSON)
    #: The case opened from this row (or the child's open case found when opening).
    case_id: Mapped[int | None] = mapped_column(sa.ForeignKey("dropout_case.id"))
    #: 销号 of the entry in the suspected-dropouts ledger (疑似辍学台账): the date and why
    #: (a case opened, verified in school, moved away …).
    closed_on: Mapped[date | None] = mapped_column(sa.Date)
    #: Typed by the clerk, or a Message when the system closed it (a case opened).
    closed_reason: Mapped[str | None] = mapped_column(MessageText)

    run: Mapped[ComparisonRun] = relationship()


# Comparisons compare the whole county and are run by the bureau (admin, clerk), so a
# township or school user is refused their pages by role. Should a run ever be read for
# such a user (a list, a job's result, a plugin's page), it shows only the runs the user
# ran, and their rows: a run's rows span the county.
@scoping.rule(ComparisonRun)
def _run_scope(user):
    """A township or school user sees only the comparison runs they ran themselves."""
    return ComparisonRun.user_id == user.id


@scoping.rule(ComparisonRow)
def _row_scope(user):
    """… and only the rows of those runs."""
    return ComparisonRow.run_id.in_(sa.select(ComparisonRun.id).where(ComparisonRun.user_id == user.id))


@scoping.county_rule(ComparisonRun)
def _run_county_scope(codes):
    """A county user sees the runs of the county (a run spans its county): recorded for it
    (``county_code``, the CLI's runs included) or made by the county's users."""
    return sa.or_(ComparisonRun.county_code.in_(codes),
                  ComparisonRun.user_id.in_(sa.select(User.id).where(User.division_code.in_(codes))))


@scoping.county_rule(ComparisonRow)
def _row_county_scope(codes):
    """A row is seen by whoever may see its run."""
    return ComparisonRow.run_id.in_(sa.select(ComparisonRun.id).where(_run_county_scope(codes)))
