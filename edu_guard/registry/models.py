"""Registry models (学籍与人员台账): the organisation tree, children, guardians,
enrollments (学籍), status changes (学籍变动), family statuses and import runs."""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from edu_guard.db import TimestampMixin, UTCDateTime, db, utcnow
from edu_guard.auth import scoping
from edu_guard.auth.models import User
from edu_guard.i18n import N_, MessageJSON

#: Sexes as the roster writes them (marked for the catalogue; pages show ``_(child.sex)``).
SEXES = (N_("男"), N_("女"))
#: Enrollment statuses (学籍状态).
ENROLLMENT_STATUSES = (N_("在读"), N_("休学"), N_("转出"), N_("毕业"), N_("死亡注销"))
#: Status-change kinds (学籍变动类型).
STATUS_CHANGE_KINDS = (N_("转入"), N_("转出"), N_("休学"), N_("复学"), N_("死亡注销"), N_("毕业"))
#: Family-status kinds (家庭类型) and, for monitored households, their categories.
FAMILY_STATUS_KINDS = (N_("脱贫户"), N_("监测户"), N_("低保"), N_("特困"), N_("孤儿"), N_("事实无人抚养"), N_("残疾"))
MONITORED_CATEGORIES = (N_("脱贫不稳定户"), N_("边缘易致贫户"), N_("突发严重困难户"))


#: Levels of the organisation tree (行政区划层级), top down.
DIVISION_LEVELS = ("province", "prefecture", "county")


class Division(db.Model):
    """A division of the organisation tree above the township: a province (省), a
    prefecture (州/市) or a county (县/市/区), by its 6-digit code (GB/T 2260).

    Several counties may live in one database; a county's townships and schools carry its
    code (``Township.county_code``, ``School.county_code``). A county's parent is its
    prefecture, a prefecture's its province; the parent may be unknown (``None``): a
    county deployed alone, as every deployment was before the tree (the migration
    ``d4e5f6a7b8c9`` records each county found in the data with no parent).
    Document numbers, issuers and settings stay the county's (docs/domain.md §6).
    """

    __tablename__ = "division"

    code: Mapped[str] = mapped_column(sa.String(6), primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(64))
    #: One of DIVISION_LEVELS.
    level: Mapped[str] = mapped_column(sa.String(16))
    parent_code: Mapped[str | None] = mapped_column(sa.ForeignKey("division.code"), index=True)

    parent: Mapped[Division | None] = relationship(remote_side=[code])


class Township(db.Model):
    """A township or street (乡镇/街道) of the county."""

    __tablename__ = "township"
    __table_args__ = (sa.UniqueConstraint("county_code", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: 6-digit division code of the county (GB/T 2260).
    county_code: Mapped[str] = mapped_column(sa.String(6), index=True)
    name: Mapped[str] = mapped_column(sa.String(64))

    villages: Mapped[list[Village]] = relationship(back_populates="township", order_by="Village.name")
    schools: Mapped[list[School]] = relationship(back_populates="township", order_by="School.code")


class Village(db.Model):
    """A village committee or community (村委会/社区) of a township."""

    __tablename__ = "village"
    __table_args__ = (sa.UniqueConstraint("township_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    township_id: Mapped[int] = mapped_column(sa.ForeignKey("township.id"))
    name: Mapped[str] = mapped_column(sa.String(64))

    township: Mapped[Township] = relationship(back_populates="villages")


class School(db.Model):
    """A school (学校), identified by its 10-digit 学校标识码."""

    __tablename__ = "school"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(10), unique=True)
    name: Mapped[str] = mapped_column(sa.String(128), index=True)
    #: 学段: 学前, 小学, 初中, 九年一贯制, 高中, 中职.
    stage: Mapped[str] = mapped_column(sa.String(16))
    township_id: Mapped[int] = mapped_column(sa.ForeignKey("township.id"), index=True)
    county_code: Mapped[str] = mapped_column(sa.String(6), index=True)

    township: Mapped[Township] = relationship(back_populates="schools")


class Child(TimestampMixin, db.Model):
    """A child (学生/适龄儿童) identified by the number of an identity document (身份证件):
    居民身份证 (GB 11643), 港澳台居民居住证 or 外国人永久居留身份证 (see
    :mod:`edu_guard.registry.identity`). A pupil with no document yet (无证件) has no
    number, is known by the 学籍号 of the enrollment, and needs follow-up.

    Birth date and sex are derived from the number and cross-checked on import.
    """

    __tablename__ = "child"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The document number, normalised (18 characters, upper-case ``X``; 15 for a
    #: 2017 永居证); ``None`` for a pupil with no document (无证件).
    id_number: Mapped[str | None] = mapped_column(sa.String(18), unique=True)
    #: 证件类型: 居民身份证, 港澳台居民居住证, 外国人永久居留身份证 or 无证件.
    id_type: Mapped[str] = mapped_column(sa.String(16), default="居民身份证", server_default="居民身份证")
    name: Mapped[str] = mapped_column(sa.String(64), index=True)
    #: 男 / 女
    sex: Mapped[str] = mapped_column(sa.String(2))
    birth_date: Mapped[date] = mapped_column(sa.Date)
    ethnicity: Mapped[str | None] = mapped_column(sa.String(16))
    #: 户口所在地 as given (本县 / 外县 / an address).
    hukou: Mapped[str | None] = mapped_column(sa.String(128))
    township_id: Mapped[int | None] = mapped_column(sa.ForeignKey("township.id"), index=True)
    village_id: Mapped[int | None] = mapped_column(sa.ForeignKey("village.id"))
    address: Mapped[str | None] = mapped_column(sa.String(255))
    is_disabled: Mapped[bool] = mapped_column(default=False)
    version: Mapped[int] = mapped_column(default=1)

    township: Mapped[Township | None] = relationship()
    village: Mapped[Village | None] = relationship()
    guardians: Mapped[list[Guardian]] = relationship(
        back_populates="child", cascade="all, delete-orphan", order_by="Guardian.id"
    )
    enrollments: Mapped[list[Enrollment]] = relationship(back_populates="child", order_by="Enrollment.id")
    status_changes: Mapped[list[StatusChange]] = relationship(
        back_populates="child", order_by="StatusChange.changed_on"
    )

    __mapper_args__ = {"version_id_col": version}

    @property
    def needs_id_follow_up(self) -> bool:
        """Whether the child has no document number yet (学籍号 only): to be followed up."""
        return self.id_number is None

    @property
    def current_enrollment(self) -> Enrollment | None:
        """The latest enrollment, or ``None`` if the child was never enrolled."""
        return self.enrollments[-1] if self.enrollments else None


class Guardian(db.Model):
    """A guardian (监护人) of a child, with a phone number."""

    __tablename__ = "guardian"

    id: Mapped[int] = mapped_column(primary_key=True)
    child_id: Mapped[int] = mapped_column(sa.ForeignKey("child.id"), index=True)
    #: ``None`` when a roster gives the guardian's phone without a name.
    name: Mapped[str | None] = mapped_column(sa.String(64))
    relation: Mapped[str | None] = mapped_column(sa.String(16))
    phone: Mapped[str | None] = mapped_column(sa.String(32))
    #: 住址 (the household register's 户籍住址 by default); the party's address in the
    #: penalty letters (行政处罚法 Art. 59 (一)).
    address: Mapped[str | None] = mapped_column(sa.String(255))
    #: Resident ID number: identifies the respondent of a court application.
    id_number: Mapped[str | None] = mapped_column(sa.String(18))

    child: Mapped[Child] = relationship(back_populates="guardians")


class Enrollment(TimestampMixin, db.Model):
    """An enrollment (学籍) of a child at a school.

    A child has one row per school; the status follows the append-only
    :class:`StatusChange` history.
    """

    __tablename__ = "enrollment"
    __table_args__ = (sa.UniqueConstraint("child_id", "school_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    child_id: Mapped[int] = mapped_column(sa.ForeignKey("child.id"), index=True)
    school_id: Mapped[int] = mapped_column(sa.ForeignKey("school.id"), index=True)
    #: 全国学籍号: ``G`` + ID (formal), ``L``/``J`` + 18 digits (temporary).
    student_number: Mapped[str | None] = mapped_column(sa.String(20), index=True)
    grade: Mapped[str | None] = mapped_column(sa.String(16))
    class_name: Mapped[str | None] = mapped_column(sa.String(16))
    boarding: Mapped[bool] = mapped_column(default=False)
    #: One of ENROLLMENT_STATUSES.
    status: Mapped[str] = mapped_column(sa.String(8), default="在读", index=True)

    child: Mapped[Child] = relationship(back_populates="enrollments")
    school: Mapped[School] = relationship()


class StatusChange(db.Model):
    """A status change (学籍变动): append-only history of transfers, suspensions,
    deaths; a 转出 with no destination is a suspected dropout (docs/domain.md §4)."""

    __tablename__ = "status_change"
    __table_args__ = (sa.UniqueConstraint("id_number", "kind", "changed_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Kept even when the child is not (yet) in the registry.
    id_number: Mapped[str] = mapped_column(sa.String(18), index=True)
    child_id: Mapped[int | None] = mapped_column(sa.ForeignKey("child.id"), index=True)
    name: Mapped[str] = mapped_column(sa.String(64))
    #: One of STATUS_CHANGE_KINDS.
    kind: Mapped[str] = mapped_column(sa.String(8))
    changed_on: Mapped[date] = mapped_column(sa.Date)
    from_school: Mapped[str | None] = mapped_column(sa.String(128))
    to_school: Mapped[str | None] = mapped_column(sa.String(128))
    reason: Mapped[str | None] = mapped_column(sa.String(255))
    import_run_id: Mapped[int | None] = mapped_column(sa.ForeignKey("import_run.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    child: Mapped[Child | None] = relationship(back_populates="status_changes")


class FamilyStatus(db.Model):
    """A family status (家庭类型) of a person from a source list: 脱贫户, 监测户 (with
    its category), 低保, 特困, 孤儿, 残疾. Keyed by ID number so that a listed child
    not in the registry is still known (the 应助尽助 and dropout checks need them)."""

    __tablename__ = "family_status"
    __table_args__ = (sa.UniqueConstraint("id_number", "kind", "source"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    id_number: Mapped[str] = mapped_column(sa.String(18), index=True)
    name: Mapped[str] = mapped_column(sa.String(64))
    #: One of FAMILY_STATUS_KINDS.
    kind: Mapped[str] = mapped_column(sa.String(8))
    #: For 监测户: one of MONITORED_CATEGORIES.
    category: Mapped[str | None] = mapped_column(sa.String(16))
    #: Which list it came from (e.g. ``monitoring_households``, ``roster``).
    source: Mapped[str] = mapped_column(sa.String(32))
    household_code: Mapped[str | None] = mapped_column(sa.String(32))
    risk_type: Mapped[str | None] = mapped_column(sa.String(32))
    #: 风险消除: the risk was removed (the status no longer applies from ``valid_to``).
    risk_removed: Mapped[bool] = mapped_column(default=False)
    valid_from: Mapped[date | None] = mapped_column(sa.Date)
    valid_to: Mapped[date | None] = mapped_column(sa.Date)
    township: Mapped[str | None] = mapped_column(sa.String(64))
    village: Mapped[str | None] = mapped_column(sa.String(64))


class DisabilityRecord(db.Model):
    """A disability certificate (残疾人证) from the disabled persons' federation.

    残疾人证号 = ID number + category digit (1 视力 … 7 多重) + level digit (1–4).
    """

    __tablename__ = "disability_record"

    id: Mapped[int] = mapped_column(primary_key=True)
    id_number: Mapped[str] = mapped_column(sa.String(18), unique=True)
    name: Mapped[str] = mapped_column(sa.String(64))
    certificate_number: Mapped[str | None] = mapped_column(sa.String(20))
    category: Mapped[str | None] = mapped_column(sa.String(8))
    level: Mapped[int | None] = mapped_column()
    township: Mapped[str | None] = mapped_column(sa.String(64))
    village: Mapped[str | None] = mapped_column(sa.String(64))
    #: 能否到校就读
    can_attend_school: Mapped[bool] = mapped_column(default=True)


class ImportRun(db.Model):
    """One import of a file: who, when, its sha256 and the counts (docs/domain.md §4)."""

    __tablename__ = "import_run"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(32))
    filename: Mapped[str] = mapped_column(sa.String(255))
    sha256: Mapped[str] = mapped_column(sa.String(64), index=True)
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"))
    #: The county the run belongs to (GB/T 2260, 6 digits): its user's county, or the
    #: instance's ``EDU_GUARD_COUNTY_CODE`` for a run from the CLI or by a user with none;
    #: the county's users see it when several counties share the database.
    county_code: Mapped[str | None] = mapped_column(sa.String(6), index=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    rows: Mapped[int] = mapped_column(default=0)
    created: Mapped[int] = mapped_column(default=0)
    updated: Mapped[int] = mapped_column(default=0)
    unchanged: Mapped[int] = mapped_column(default=0)
    #: ``[{"row": N, "column": "…", "reason": "…", "values": {header: value}}]``
    rejects: Mapped[list] = mapped_column(MessageJSON, default=list)
    #: The header of the file, in order, for the rejects workbook.
    header: Mapped[list] = mapped_column(sa.JSON, default=list)
    #: What was read: ``{"sheets": [{"name", "header_row", "rows"}], "skipped":
    #: [{"name", "reason"}], "encoding", "date1904", "unused_columns": […]}``.
    source: Mapped[dict | None] = mapped_column(MessageJSON)
    #: Rows imported with a remark: ``[{"row", "sheet", "column", "message"}]``.
    warnings: Mapped[list | None] = mapped_column(MessageJSON, default=list)


# --- scope rules (edu_guard.auth.scoping) ------------------------------------------


@scoping.rule(Child)
def _child_scope(user):
    """A township user sees children living in the township or enrolled at its schools;
    a school user, the children enrolled at the school."""
    if user.role == "township":
        at_school = sa.select(Enrollment.child_id).join(School).where(School.township_id == user.township_id)
        return sa.or_(Child.township_id == user.township_id, Child.id.in_(at_school))
    return Child.id.in_(sa.select(Enrollment.child_id).where(Enrollment.school_id == user.school_id))


# A guardian (监护人: name, phone, ID number) is seen by whoever may see the child.
scoping.belongs(Guardian.child_id, Child)


@scoping.rule(School, by_default=False)
def _school_scope(user):
    """A township user sees the township's schools; a school user, the school (only where
    the code asks: a school's name is shown beside any child the user may see)."""
    if user.role == "township":
        return School.township_id == user.township_id
    return School.id == user.school_id


def county_townships(codes: list[str]) -> sa.Select:
    """``SELECT township.id`` of the counties ``codes``."""
    return sa.select(Township.id).where(Township.county_code.in_(codes))


def county_schools(codes: list[str]) -> sa.Select:
    """``SELECT school.id`` of the counties ``codes``."""
    return sa.select(School.id).where(School.county_code.in_(codes))


@scoping.county_rule(Child)
def _child_county_scope(codes):
    """A county user sees the children living in the county or enrolled at its schools."""
    # One IN over a UNION, each side read by its index (child.township_id,
    # enrollment.school_id), rather than an OR the planner answers by reading every child.
    child, enrollment = Child.__table__, Enrollment.__table__
    living = sa.select(child.c.id).where(child.c.township_id.in_(county_townships(codes)))
    at_school = sa.select(enrollment.c.child_id).where(enrollment.c.school_id.in_(county_schools(codes)))
    return Child.id.in_(sa.union(living, at_school))


@scoping.county_rule(School)
def _school_county_scope(codes):
    """A county user sees the county's schools."""
    return School.county_code.in_(codes)


@scoping.rule(ImportRun)
def _import_run_scope(user):
    """Import runs are the bureau's (a township or school user is refused their pages)."""
    return sa.false()


@scoping.county_rule(ImportRun)
def _import_run_county_scope(codes):
    """A county user sees the runs of the county: recorded for it (``county_code``, the
    CLI's runs included) or made by the county's users."""
    return sa.or_(ImportRun.county_code.in_(codes),
                  ImportRun.user_id.in_(sa.select(User.id).where(User.division_code.in_(codes))))
