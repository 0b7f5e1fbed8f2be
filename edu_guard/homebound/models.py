"""送教上门 models: placements (安置), yearly plans (个别化教育计划), sessions (送教记录)
and their attachments (docs/domain.md §3)."""

from __future__ import annotations

from datetime import date, datetime, time

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from edu_guard.auth import scoping
from edu_guard.db import TimestampMixin, UTCDateTime, db, utcnow
from edu_guard.i18n import N_
from edu_guard.registry.models import Child, School, county_schools, county_townships

#: Disability categories by the category digit of a 残疾人证号 (docs/domain.md §3; GB/T 26341).
DISABILITY_CATEGORIES = {"1": "视力", "2": "听力", "3": "言语", "4": "肢体", "5": "智力", "6": "精神", "7": "多重"}
#: Content areas of a plan goal or a session (个别化教育计划的领域).
CONTENT_AREAS = (N_("生活自理"), N_("康复训练"), N_("认知"), N_("语言沟通"), N_("社会适应"), N_("运动"), N_("文化知识"),
                 N_("艺术休闲"), N_("心理辅导"))


class HomeboundPlacement(TimestampMixin, db.Model):
    """A placement 送教上门 (送教上门安置) of a child the county's special-education
    expert committee assessed as unable to attend school (残疾人教育条例 2017,
    docs/domain.md §3). The delivering school keeps the child's 学籍, so the child counts as
    enrolled and never as a dropout while the placement is active."""

    __tablename__ = "homebound_placement"

    id: Mapped[int] = mapped_column(primary_key=True)
    child_id: Mapped[int] = mapped_column(sa.ForeignKey("child.id"), index=True)
    #: The school that keeps the 学籍 and delivers the sessions.
    school_id: Mapped[int] = mapped_column(sa.ForeignKey("school.id"), index=True)
    #: The expert committee's assessment (评估) date and conclusion.
    assessed_on: Mapped[date] = mapped_column(sa.Date)
    assessment: Mapped[str] = mapped_column(sa.Text)
    #: 残疾人证号 (ID number + category digit + level digit), if the child has one.
    certificate_number: Mapped[str | None] = mapped_column(sa.String(20))
    #: One of DISABILITY_CATEGORIES' values; level 1 (most severe) to 4.
    disability_category: Mapped[str | None] = mapped_column(sa.String(8))
    disability_level: Mapped[int | None] = mapped_column()
    #: The assigned teachers (送教教师), names separated by 、 as typed.
    teachers: Mapped[str] = mapped_column(sa.String(255))
    starts_on: Mapped[date] = mapped_column(sa.Date, index=True)
    #: The last day; ``None`` while open-ended.
    ends_on: Mapped[date | None] = mapped_column(sa.Date)
    #: Where the candidate came from: the disabled persons' list or a dropout case.
    disability_record_id: Mapped[int | None] = mapped_column(sa.ForeignKey("disability_record.id"))
    case_id: Mapped[int | None] = mapped_column(sa.ForeignKey("dropout_case.id"))
    #: The guardian who signs the 服务协议书.
    guardian_name: Mapped[str | None] = mapped_column(sa.String(64))
    guardian_phone: Mapped[str | None] = mapped_column(sa.String(32))
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"))
    version: Mapped[int] = mapped_column(default=1)

    child = relationship("Child")
    school = relationship("School")
    plans: Mapped[list[HomeboundPlan]] = relationship(back_populates="placement", order_by="HomeboundPlan.school_year")
    sessions: Mapped[list[HomeboundSession]] = relationship(
        back_populates="placement", order_by="(HomeboundSession.held_on, HomeboundSession.starts_at)"
    )

    __mapper_args__ = {"version_id_col": version}

    def active_on(self, day: date) -> bool:
        """Return whether the placement covers ``day``."""
        return self.starts_on <= day and (self.ends_on is None or day <= self.ends_on)


# One open placement per child (ends_on not set): the service refuses overlapping
# periods; this index keeps two requests racing past that check from both inserting
# (as dropout_case's one open case per child; the same partial index on SQLite and
# PostgreSQL). A placement with an end date, even a future one, is left to the service.
sa.Index(
    "uq_homebound_placement_open_child",
    HomeboundPlacement.child_id,
    unique=True,
    sqlite_where=HomeboundPlacement.ends_on.is_(None),
    postgresql_where=HomeboundPlacement.ends_on.is_(None),
)


class HomeboundPlan(TimestampMixin, db.Model):
    """A yearly individual education plan (个别化教育计划, IEP) with goals by area."""

    __tablename__ = "homebound_plan"
    __table_args__ = (sa.UniqueConstraint("placement_id", "school_year"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    placement_id: Mapped[int] = mapped_column(sa.ForeignKey("homebound_placement.id"), index=True)
    #: School year as ``2020-2021``.
    school_year: Mapped[str] = mapped_column(sa.String(9))
    made_on: Mapped[date] = mapped_column(sa.Date)
    #: ``[{"area": one of CONTENT_AREAS, "goal": text}, …]``
    goals: Mapped[list] = mapped_column(sa.JSON, default=list)

    placement: Mapped[HomeboundPlacement] = relationship(back_populates="plans")


class HomeboundSession(db.Model):
    """One session delivered at home (送教记录): when, by whom, what, how it went, and
    the guardian's confirmation."""

    __tablename__ = "homebound_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    placement_id: Mapped[int] = mapped_column(sa.ForeignKey("homebound_placement.id"), index=True)
    held_on: Mapped[date] = mapped_column(sa.Date, index=True)
    starts_at: Mapped[time] = mapped_column(sa.Time)
    ends_at: Mapped[time] = mapped_column(sa.Time)
    teachers: Mapped[str] = mapped_column(sa.String(255))
    #: Areas of CONTENT_AREAS covered.
    content_areas: Mapped[list] = mapped_column(sa.JSON, default=list)
    progress: Mapped[str] = mapped_column(sa.Text)
    #: 监护人确认: the guardian confirmed the session (signed the log).
    guardian_confirmed: Mapped[bool] = mapped_column(default=False)
    guardian_name: Mapped[str | None] = mapped_column(sa.String(64))
    recorded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    placement: Mapped[HomeboundPlacement] = relationship(back_populates="sessions")
    attachments: Mapped[list[HomeboundAttachment]] = relationship(
        back_populates="session", order_by="HomeboundAttachment.id"
    )


class HomeboundAttachment(db.Model):
    """A file attached to a session (照片、签字页): stored once under
    ``<instance>/attachments/<sha256>``; the row keeps its name, type and size."""

    __tablename__ = "homebound_attachment"

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(sa.ForeignKey("homebound_session.id"), index=True)
    filename: Mapped[str] = mapped_column(sa.String(255))
    #: ``image/jpeg``, ``image/png`` or ``application/pdf``, detected from the content.
    content_type: Mapped[str] = mapped_column(sa.String(32))
    size: Mapped[int] = mapped_column()
    sha256: Mapped[str] = mapped_column(sa.String(64), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    session: Mapped[HomeboundSession] = relationship(back_populates="attachments")


# --- scope rules (edu_guard.auth.scoping) ------------------------------------------


@scoping.rule(HomeboundPlacement)
def _placement_scope(user):
    """A township user sees the placements delivered by the township's schools or of
    children living there; a school user, only those its own school delivers."""
    if user.role == "township":
        schools = sa.select(School.id).where(School.township_id == user.township_id)
        living = sa.select(Child.id).where(Child.township_id == user.township_id)
        return sa.or_(HomeboundPlacement.school_id.in_(schools), HomeboundPlacement.child_id.in_(living))
    return HomeboundPlacement.school_id == user.school_id


@scoping.county_rule(HomeboundPlacement)
def _placement_county_scope(codes):
    """A county user sees the placements delivered by the county's schools or of
    children living in the county."""
    living = sa.select(Child.id).where(Child.township_id.in_(county_townships(codes)))
    return sa.or_(HomeboundPlacement.school_id.in_(county_schools(codes)), HomeboundPlacement.child_id.in_(living))


# A placement's yearly plan (送教计划) and sessions (送教记录) are seen by whoever may
# see the placement; a session's attachments (photos, the guardian's confirmation), by
# whoever may see the session.
scoping.belongs(HomeboundPlan.placement_id, HomeboundPlacement)
scoping.belongs(HomeboundSession.placement_id, HomeboundPlacement)
scoping.belongs(HomeboundAttachment.session_id, HomeboundSession)
