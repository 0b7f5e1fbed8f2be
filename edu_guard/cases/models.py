"""Dropout cases (控辍保学个案), their events, responsible people and home visits."""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from edu_guard.auth import scoping
from edu_guard.auth.models import User
from edu_guard.db import TimestampMixin, UTCDateTime, db, utcnow
from edu_guard.i18n import MessageJSON, MessageText, N_
from edu_guard.letters.models import Letter, letter_case
from edu_guard.registry.models import Child, county_schools, county_townships

#: Reasons for being out of school (辍学原因).
REASONS = (N_("厌学"), N_("外出务工"), N_("早婚早育"), N_("家庭困难"), N_("疾病"), N_("残疾"), N_("其他"))
#: Where a case came from.
SOURCES = {"manual": N_("手工登记"), "comparison": N_("数据比对"), "transfer": N_("转出未入"), "absence": N_("学校报告缺勤")}
#: Responsible roles (包保责任人, docs/domain.md §1 "六长"), in the order they are printed.
RESPONSIBLE_ROLES = {
    "county_leader": N_("县级领导"),
    "township_cadre": N_("乡镇干部"),
    "village_cadre": N_("村干部"),
    "principal": N_("校长"),
    "class_teacher": N_("班主任"),
    "guardian": N_("监护人"),
}
#: Forms of a home visit (家访形式).
VISIT_FORMS = (N_("入户"), N_("电话"), N_("微信"), N_("视频"))


class DropoutCase(TimestampMixin, db.Model):
    """A dropout case (控辍保学个案) of one child of compulsory-school age out of school.

    The state follows :mod:`edu_guard.cases.machine`; ``version`` is the optimistic
    lock: a second clerk acting on a stale page is told the case changed.
    """

    __tablename__ = "dropout_case"

    id: Mapped[int] = mapped_column(primary_key=True)
    child_id: Mapped[int] = mapped_column(sa.ForeignKey("child.id"), index=True)
    #: State name of :mod:`edu_guard.cases.machine` (persuasion … closed).
    state: Mapped[str] = mapped_column(sa.String(24), index=True)
    #: One of REASONS, with a free note.
    reason: Mapped[str] = mapped_column(sa.String(16))
    reason_note: Mapped[str | None] = mapped_column(sa.Text)
    source: Mapped[str] = mapped_column(sa.String(16), default="manual")
    opened_on: Mapped[date] = mapped_column(sa.Date)
    #: The date the current step began.
    step_started_on: Mapped[date] = mapped_column(sa.Date)
    #: The current step's legal deadline (None while it cannot be known yet).
    deadline: Mapped[date | None] = mapped_column(sa.Date, index=True)
    #: The township and school the case belongs to (for scoping and reports).
    township_id: Mapped[int | None] = mapped_column(sa.ForeignKey("township.id"), index=True)
    school_id: Mapped[int | None] = mapped_column(sa.ForeignKey("school.id"), index=True)
    #: The state before a return to school, so a relapse resumes there.
    resumed_state: Mapped[str | None] = mapped_column(sa.String(24))
    #: Outcome (复学, 随班就读, 送教上门, 特殊教育学校, 职业学校, 异地就读, 休学, 死亡).
    outcome: Mapped[str | None] = mapped_column(sa.String(16))
    outcome_on: Mapped[date | None] = mapped_column(sa.Date)
    closed_on: Mapped[date | None] = mapped_column(sa.Date)
    #: 销号 reason.
    closed_reason: Mapped[str | None] = mapped_column(sa.Text)
    opened_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"))
    version: Mapped[int] = mapped_column(default=1)

    child = relationship("Child", backref="cases")
    township = relationship("Township")
    school = relationship("School")
    events: Mapped[list[CaseEvent]] = relationship(back_populates="case", order_by="CaseEvent.id")
    assignments: Mapped[list[CaseAssignment]] = relationship(back_populates="case", cascade="all, delete-orphan", order_by="CaseAssignment.id")
    visits: Mapped[list[HomeVisit]] = relationship(back_populates="case", order_by="HomeVisit.visited_on")

    __mapper_args__ = {"version_id_col": version}


# One open case per child: enforced by the service (a partial unique index differs
# between SQLite and PostgreSQL only in syntax, both support it).
sa.Index(
    "uq_dropout_case_open_child",
    DropoutCase.child_id,
    unique=True,
    sqlite_where=DropoutCase.state != "closed",
    postgresql_where=DropoutCase.state != "closed",
)


class CaseAssignment(db.Model):
    """A responsible person on a case (包保责任人: person, role, phone).

    ``ended_on`` is set when the person stops being responsible (moved, replaced); the
    row stays in the case file, the visit form no longer offers the name.
    """

    __tablename__ = "case_assignment"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("dropout_case.id"), index=True)
    #: One of RESPONSIBLE_ROLES.
    role: Mapped[str] = mapped_column(sa.String(16))
    name: Mapped[str] = mapped_column(sa.String(64))
    phone: Mapped[str | None] = mapped_column(sa.String(32))
    ended_on: Mapped[date | None] = mapped_column(sa.Date)

    case: Mapped[DropoutCase] = relationship(back_populates="assignments")


class CaseEvent(db.Model):
    """One recorded act on a case (its timeline): who, when, what, why. Append-only."""

    __tablename__ = "case_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("dropout_case.id"), index=True)
    #: Event name of the machine (open, escalate, issue_order, record_service, …).
    event: Mapped[str] = mapped_column(sa.String(32))
    from_state: Mapped[str | None] = mapped_column(sa.String(24))
    to_state: Mapped[str] = mapped_column(sa.String(24))
    #: The date the act took place (may be earlier than it was recorded).
    acted_on: Mapped[date] = mapped_column(sa.Date)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"))
    #: A note typed by the user, or what the system records (a :class:`~edu_guard.i18n.Message`,
    #: shown in the reader's language).
    note: Mapped[str | None] = mapped_column(MessageText)
    letter_id: Mapped[int | None] = mapped_column(sa.ForeignKey("letter.id"))
    #: The act's data (amounts, dates, the recorded text …); the estimated periods of its
    #: letter as :class:`~edu_guard.i18n.Message` objects, shown in the reader's language.
    data: Mapped[dict | None] = mapped_column(MessageJSON)

    case: Mapped[DropoutCase] = relationship(back_populates="events")
    user = relationship("User")
    letter = relationship("Letter")


class HomeVisit(TimestampMixin, db.Model):
    """A home visit (家访) to a child, on a case or to a child at risk with no case."""

    __tablename__ = "home_visit"

    id: Mapped[int] = mapped_column(primary_key=True)
    child_id: Mapped[int] = mapped_column(sa.ForeignKey("child.id"), index=True)
    case_id: Mapped[int | None] = mapped_column(sa.ForeignKey("dropout_case.id"), index=True)
    visited_on: Mapped[date] = mapped_column(sa.Date)
    #: Names of the visitors, comma-separated as typed.
    visitors: Mapped[str] = mapped_column(sa.String(255))
    #: One of VISIT_FORMS.
    form: Mapped[str] = mapped_column(sa.String(8))
    findings: Mapped[str] = mapped_column(sa.Text)
    outcome: Mapped[str | None] = mapped_column(sa.Text)
    next_action: Mapped[str | None] = mapped_column(sa.Text)
    recorded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"))

    case: Mapped[DropoutCase | None] = relationship(back_populates="visits")
    child = relationship("Child")


# --- scope rules (edu_guard.auth.scoping) ------------------------------------------


@scoping.rule(DropoutCase)
def _case_scope(user):
    """A township user sees the township's cases; a school user, the school's."""
    if user.role == "township":
        return DropoutCase.township_id == user.township_id
    return DropoutCase.school_id == user.school_id


# A case's responsible persons (包保责任人) and history are seen by whoever may see the
# case; a home visit, by whoever may see its child.
scoping.belongs(CaseAssignment.case_id, DropoutCase)
scoping.belongs(CaseEvent.case_id, DropoutCase)
scoping.belongs(HomeVisit.child_id, Child)


@scoping.rule(Letter)
def _letter_scope(user):
    """A letter is seen by a township or school user when every case it concerns is (a
    劝返联系函 listing children of several schools is not shown to one school)."""
    visible = sa.select(DropoutCase.id).where(_case_scope(user))
    hidden = sa.select(letter_case.c.letter_id).where(letter_case.c.case_id.not_in(visible))
    return Letter.id.not_in(hidden)


@scoping.county_rule(DropoutCase)
def _case_county_scope(codes):
    """A county user sees the cases of the county's townships or schools."""
    return sa.or_(DropoutCase.township_id.in_(county_townships(codes)), DropoutCase.school_id.in_(county_schools(codes)))


@scoping.county_rule(HomeVisit)
def _visit_county_scope(codes):
    """A home visit is seen by whoever may see its child."""
    return HomeVisit.child_id.in_(sa.select(Child.id).where(scoping.county_condition(Child, codes)))


@scoping.county_rule(Letter)
def _letter_county_scope(codes):
    """A letter is seen by a county user when every case it concerns is the county's; a
    letter that names no case (a notice to a school, a reply) by the issuing county's
    users only: its issuer is the county of the user who issued it."""
    visible = sa.select(DropoutCase.id).where(_case_county_scope(codes))
    hidden = sa.select(letter_case.c.letter_id).where(letter_case.c.case_id.not_in(visible))
    named = sa.select(letter_case.c.letter_id)
    issued_here = Letter.created_by_id.in_(sa.select(User.id).where(User.division_code.in_(codes)))
    return sa.and_(Letter.id.not_in(hidden), sa.or_(Letter.id.in_(named), issued_here))
