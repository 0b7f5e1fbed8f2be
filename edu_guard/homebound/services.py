"""Services of 送教上门 (education delivered at home): candidates, placements, plans,
sessions, attachments and compliance figures (docs/domain.md §3).

The only place that changes homebound data: functions add and flush, write the audit
log, and never commit; the request or CLI boundary commits once.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from datetime import date, time
from pathlib import Path
from typing import Iterable, Sequence

import sqlalchemy as sa
from flask import current_app

from edu_guard.auth import audit
from edu_guard.auth.scoping import COUNTY_ROLES, scope_placements, unscoped
from edu_guard.cases.models import DropoutCase
from edu_guard.cases import services as case_services
from edu_guard.cases.services import age_on
from edu_guard.db import db
from edu_guard.i18n import Message, message_of
from edu_guard.registry.terms import term_name
from edu_guard.uploads import write_private
from edu_guard.homebound import compliance as rules
from edu_guard.homebound.models import (
    CONTENT_AREAS,
    DISABILITY_CATEGORIES,
    HomeboundAttachment,
    HomeboundPlacement,
    HomeboundPlan,
    HomeboundSession,
)
from edu_guard.registry.identity import normalize_id
from edu_guard.registry.models import Child, DisabilityRecord, Enrollment, School, Township, Village
from edu_guard.registry.schemas import birth_date_from_id, sex_from_id
from edu_guard.registry.services import add_guardian
from edu_guard.registry.terms import Term

#: The placement outcome of a dropout case that makes its child a candidate.
CASE_OUTCOME = "送教上门"


class HomeboundError(ValueError):
    """A request was refused; ``str(exc)`` is the reason in Chinese."""


# --- certificates -----------------------------------------------------------------


def parse_certificate(number: str | None) -> tuple[str | None, int | None]:
    """Return (category, level) from a 残疾人证号 (ID number + category digit + level
    digit, docs/domain.md §3): ``…71`` → (多重, 1).

    :param number: the 20-character certificate number, or ``None``/empty.
    :return: ``(None, None)`` when no number is given.
    :raises HomeboundError: the number is not 18 ID characters followed by a category
        digit 1–7 and a level digit 1–4.
    """
    if not number:
        return None, None
    number = normalize_id(number)
    if len(number) != 20 or number[18] not in DISABILITY_CATEGORIES or number[19] not in "1234":
        raise HomeboundError(Message("残疾人证号 %(number)s 应为身份证号加残疾类别（1–7）和等级（1–4）两位数字，共20位", number=number))
    return DISABILITY_CATEGORIES[number[18]], int(number[19])


# --- candidates -------------------------------------------------------------------


@dataclass
class Candidate:
    """A child who may be placed 送教上门 and is not yet.

    :ivar source: ``disabled_list`` (能否到校就读 = 否 on the federation's list) or
        ``dropout_case`` (a case closed as placed 送教上门).
    :ivar key: ``record-<id>`` or ``case-<id>``: what the placement form is opened with.
    """

    source: str
    key: str
    id_number: str
    name: str
    age: int
    child_id: int | None
    school_id: int | None
    school: str | None
    township: str | None
    certificate_number: str | None
    category: str | None
    level: int | None
    disability_record_id: int | None = None
    case_id: int | None = None


def _age_range() -> tuple[int, int]:
    cfg = current_app.config
    return int(cfg["EDU_GUARD_HOMEBOUND_MIN_AGE"]), int(cfg["EDU_GUARD_HOMEBOUND_MAX_AGE"])


@unscoped("the disabled persons' list is county-wide; can_see_candidate limits the answer")
def candidates(as_of: date | None = None, user=None) -> list[Candidate]:
    """Return the children to be considered for 送教上门 on ``as_of`` (today by default).

    The one candidate rule (docs/domain.md §3): a child is a candidate when it has
    no placement at all and either

    * is on the disabled persons' federation list as unable to attend school
      (:class:`~edu_guard.registry.models.DisabilityRecord` ``can_attend_school`` false), or
    * has a dropout case closed as placed 送教上门 (:mod:`edu_guard.cases.machine` PLACEMENTS),

    and is of age ``EDU_GUARD_HOMEBOUND_MIN_AGE``–``MAX_AGE`` on ``as_of``. A child found
    both ways is listed once, from the list. A township or school user sees the
    candidates of its township (by the list's township or the case's), a school user
    those enrolled at the school.

    :return: candidates ordered by township and name.
    """
    as_of = as_of or case_services.today()
    low, high = _age_range()
    placed_children = sa.select(HomeboundPlacement.child_id)
    out: dict[str, Candidate] = {}
    children = {c.id_number: c for c in db.session.execute(
        sa.select(Child).join(DisabilityRecord, DisabilityRecord.id_number == Child.id_number)
        .where(DisabilityRecord.can_attend_school.is_(False))).scalars()}
    records = db.session.execute(
        sa.select(DisabilityRecord).where(DisabilityRecord.can_attend_school.is_(False)).order_by(DisabilityRecord.id)
    ).scalars()
    placed_ids = {r[0] for r in db.session.execute(
        sa.select(Child.id_number).where(Child.id.in_(placed_children)))}
    for rec in records:
        if rec.id_number in placed_ids:
            continue
        age = age_on(birth_date_from_id(rec.id_number), as_of)
        if not low <= age <= high:
            continue
        child = children.get(rec.id_number)
        enrollment = child.current_enrollment if child else None
        category, level = rec.category, rec.level
        if rec.certificate_number:
            try:
                category, level = parse_certificate(rec.certificate_number)
            except HomeboundError:
                pass  # keep the list's own columns; the form shows the number to correct
        out[rec.id_number] = Candidate(
            "disabled_list", f"record-{rec.id}", rec.id_number, rec.name, age, child.id if child else None,
            enrollment.school_id if enrollment else None, enrollment.school.name if enrollment else None,
            rec.township, rec.certificate_number, category, level, disability_record_id=rec.id)
    cases = db.session.execute(
        sa.select(DropoutCase).where(DropoutCase.state == "closed", DropoutCase.outcome == CASE_OUTCOME,
                                     DropoutCase.child_id.not_in(placed_children)).order_by(DropoutCase.id)
    ).scalars()
    for case in cases:
        child = case.child
        if child.id_number in out:
            continue
        age = age_on(child.birth_date, as_of)
        if not low <= age <= high:
            continue
        rec = db.session.execute(sa.select(DisabilityRecord).where(DisabilityRecord.id_number == child.id_number)).scalar()
        school = case.school or (child.current_enrollment.school if child.current_enrollment else None)
        out[child.id_number] = Candidate(
            "dropout_case", f"case-{case.id}", child.id_number, child.name, age, child.id,
            school.id if school else None, school.name if school else None,
            (case.township or child.township).name if (case.township or child.township) else None,
            rec.certificate_number if rec else None, rec.category if rec else None, rec.level if rec else None,
            disability_record_id=rec.id if rec else None, case_id=case.id)
    found = sorted(out.values(), key=lambda c: (c.township or "", c.name))
    return [c for c in found if can_see_candidate(user, c.township, c.school_id)]


def candidate_by_key(key: str, as_of: date | None = None, user=None) -> Candidate:
    """Return the candidate ``record-<id>`` or ``case-<id>``.

    :raises HomeboundError: no such candidate now (already placed, out of age range,
        not visible to ``user``).
    """
    for c in candidates(as_of, user):
        if c.key == key:
            return c
    raise HomeboundError(Message("%(key)s 不是（或已不是）送教上门的待安置对象", key=key))


# --- placing ----------------------------------------------------------------------


def _active_on(as_of: date):
    """The one rule of an active placement: started on or before ``as_of``, not ended before it."""
    return sa.and_(
        HomeboundPlacement.starts_on <= as_of,
        sa.or_(HomeboundPlacement.ends_on.is_(None), HomeboundPlacement.ends_on >= as_of),
    )


def can_see_candidate(user, township: str | None, school_id: int | None) -> bool:
    """Return whether ``user`` may see a 送教上门 candidate living in the township named
    ``township`` (as the disabled persons' list names it) and enrolled at the school
    ``school_id`` (if any): a township user, those of its township by either; a school
    user, only those enrolled at its school."""
    if user is None or user.role in COUNTY_ROLES:
        return True
    if user.role == "school":
        return school_id is not None and school_id == user.school_id
    if user.role == "township":
        own = db.session.get(Township, user.township_id)
        school = db.session.get(School, school_id) if school_id else None
        return (own is not None and township == own.name) or (school is not None and school.township_id == user.township_id)
    return False


@unscoped("a placement by any school counts as enrolled")
def placed_child_ids(as_of: date) -> set[int]:
    """Return the ids of children with a 送教上门 placement active on ``as_of``.

    Such a child keeps a 学籍 at the delivering school and counts as enrolled: never a
    suspected dropout (残疾人教育条例 2017, as docs/domain.md §3 states it; docs/domain.md §3).
    """
    return {row[0] for row in db.session.execute(sa.select(HomeboundPlacement.child_id).where(_active_on(as_of)))}


@unscoped("a placement by any school counts as enrolled")
def placed_id_numbers(id_numbers: list[str], as_of: date | None = None) -> set[str]:
    """Return the ID numbers among ``id_numbers`` whose child has a placement active on
    ``as_of`` (today by default); for the comparisons and the ledgers."""
    as_of = as_of or case_services.today()
    wanted, out = list(dict.fromkeys(id_numbers)), set()
    for i in range(0, len(wanted), 500):
        out.update(db.session.execute(
            sa.select(Child.id_number).join(HomeboundPlacement, HomeboundPlacement.child_id == Child.id)
            .where(Child.id_number.in_(wanted[i:i + 500]), _active_on(as_of))).scalars())
    return out


@unscoped("a placement by any school counts as enrolled")
def active_placements(as_of: date, child_id: int | None = None) -> list[HomeboundPlacement]:
    """Return the placements active on ``as_of`` (only ``child_id``'s when given), with
    their schools loaded."""
    stmt = sa.select(HomeboundPlacement).where(_active_on(as_of)).options(sa.orm.selectinload(HomeboundPlacement.school))
    if child_id is not None:
        stmt = stmt.where(HomeboundPlacement.child_id == child_id)
    return list(db.session.execute(stmt).scalars())


@unscoped("a placement by any school counts as enrolled")
def active_placement(child: Child, as_of: date | None = None) -> HomeboundPlacement | None:
    """Return the child's placement active on ``as_of`` (today by default), if any."""
    as_of = as_of or case_services.today()
    return db.session.execute(
        sa.select(HomeboundPlacement).where(HomeboundPlacement.child_id == child.id, _active_on(as_of))
    ).scalar()


def _child_from_record(rec: DisabilityRecord, user=None) -> Child:
    """Create the registry child of a listed child who was never enrolled (ID, name,
    birth date and sex from the ID number; township and village from the list)."""
    town = db.session.execute(sa.select(Township).where(Township.name == rec.township)).scalar() if rec.township else None
    village = None
    if town is not None and rec.village:
        village = db.session.execute(
            sa.select(Village).where(Village.township_id == town.id, Village.name == rec.village)).scalar()
    child = Child(id_number=rec.id_number, name=rec.name, sex=sex_from_id(rec.id_number),
                  birth_date=birth_date_from_id(rec.id_number), township=town, village=village, is_disabled=True)
    db.session.add(child)
    db.session.flush()
    audit.record("create", child, user=user)
    return child


def _ensure_enrollment(child: Child, school: School, user=None) -> Enrollment:
    """Make sure the child has a 学籍 at ``school`` with status 在读 (the placed child
    counts as enrolled)."""
    enrollment = db.session.execute(
        sa.select(Enrollment).where(Enrollment.child_id == child.id, Enrollment.school_id == school.id)).scalar()
    if enrollment is None:
        enrollment = Enrollment(child=child, school=school, status="在读")
        db.session.add(enrollment)
        db.session.flush()
        audit.record("create", enrollment, user=user)
    elif enrollment.status != "在读":
        before = audit.snapshot(enrollment)
        enrollment.status = "在读"
        db.session.flush()
        audit.record("update", enrollment, before=before, user=user)
    return enrollment


def _split_names(text: str | None, what: Message) -> str:
    names = [n for n in (text or "").replace("，", "、").replace(",", "、").replace(" ", "、").split("、") if n.strip()]
    if not names:
        raise HomeboundError(Message("请填写%(what)s", what=what))
    return "、".join(n.strip() for n in names)


@unscoped("one placement at a time per child, county-wide")
def overlapping_placement(child_id: int, starts_on: date, ends_on: date | None) -> HomeboundPlacement | None:
    """Return a placement of the child whose dates overlap ``[starts_on, ends_on]``
    (``ends_on`` ``None``: open-ended), or ``None``.

    The one rule of a child's placements: their periods never overlap, so a child has
    at most one placement on any day — an open one, or one ending later (even in the
    future), blocks a new one over the same days. The database backs the open case
    with the partial unique index ``uq_homebound_placement_open_child`` (a request
    that loses a race past this check fails on insert).
    """
    overlap = [HomeboundPlacement.child_id == child_id,
               sa.or_(HomeboundPlacement.ends_on.is_(None), HomeboundPlacement.ends_on >= starts_on)]
    if ends_on is not None:
        overlap.append(HomeboundPlacement.starts_on <= ends_on)
    return db.session.execute(
        sa.select(HomeboundPlacement).where(*overlap).order_by(HomeboundPlacement.starts_on).limit(1)).scalar()


def place(
    *,
    school: School,
    assessed_on: date,
    assessment: str,
    teachers: str,
    starts_on: date,
    ends_on: date | None = None,
    candidate: Candidate | None = None,
    child: Child | None = None,
    certificate_number: str | None = None,
    guardian_name: str | None = None,
    guardian_phone: str | None = None,
    user=None,
) -> HomeboundPlacement:
    """Place a child 送教上门 (docs/domain.md §3): record the committee's assessment, the
    delivering school and teachers, and make the child count as enrolled.

    The child is the candidate's (created from the disabled persons' list when it was
    never in the registry) or ``child``. The child gets an :class:`Enrollment` at
    ``school`` with status 在读 (created if missing). Category and level are parsed
    from the 残疾人证号 when one is given or listed.

    :param assessed_on: the expert committee's assessment date; not after ``starts_on``
        nor in the future.
    :param starts_on: first day of delivery; ``ends_on`` (optional) the last.
    :raises HomeboundError: no child; the child already has a placement overlapping
        these dates; age outside ``EDU_GUARD_HOMEBOUND_MIN_AGE``–``MAX_AGE`` on
        ``starts_on``; bad dates, certificate number, missing teachers or conclusion.
    :raises sqlalchemy.exc.IntegrityError: another request placed the child (open
        placement) after this one's overlap check (index
        ``uq_homebound_placement_open_child``); the caller rolls back and says so.
    """
    _check_dates(assessed_on, starts_on, ends_on)
    assessment = (assessment or "").strip()
    if not assessment:
        raise HomeboundError(Message("请填写专家委员会评估结论"))
    teachers = _split_names(teachers, Message("送教教师"))
    child, record = _placed_child(candidate, child, user)
    _check_age(child, starts_on)
    _check_no_overlap(child, starts_on, ends_on)
    certificate_number, category, level = _disability(child, record, certificate_number)
    guardian_name, guardian_phone = _guardian_contact(child, guardian_name, guardian_phone)
    placement = HomeboundPlacement(
        child=child, school=school, assessed_on=assessed_on, assessment=assessment,
        certificate_number=certificate_number, disability_category=category, disability_level=level,
        teachers=teachers, starts_on=starts_on, ends_on=ends_on,
        disability_record_id=record.id if record else None,
        case_id=candidate.case_id if candidate else None,
        guardian_name=guardian_name, guardian_phone=guardian_phone,
        created_by_id=audit.acting_user_id(user),
    )
    db.session.add(placement)
    _record_in_registry(placement, user)
    db.session.flush()
    audit.record("create", placement, user=user)
    return placement


def _check_dates(assessed_on: date, starts_on: date, ends_on: date | None) -> None:
    """The committee assessed before delivery starts and not in the future; a given end
    is not before the start.

    :raises HomeboundError: naming the dates.
    """
    if assessed_on > case_services.today():
        raise HomeboundError(Message("评估日期不能晚于今天"))
    if assessed_on > starts_on:
        raise HomeboundError(Message("评估日期 %(assessed_on)s 晚于送教开始日期 %(starts_on)s", assessed_on=assessed_on, starts_on=starts_on))
    if ends_on is not None and ends_on < starts_on:
        raise HomeboundError(Message("送教结束日期 %(ends_on)s 早于开始日期 %(starts_on)s", ends_on=ends_on, starts_on=starts_on))


def _placed_child(candidate: Candidate | None, child: Child | None, user=None) -> tuple[Child, DisabilityRecord | None]:
    """Return the child to place and its disabled persons' list record (if any): the
    given ``child``, or the candidate's, created in the registry from the list when it
    was never enrolled.

    :raises HomeboundError: neither a candidate nor a child.
    """
    if candidate is None and child is None:
        raise HomeboundError(Message("请指定安置对象"))
    record = db.session.get(DisabilityRecord, candidate.disability_record_id) if candidate and candidate.disability_record_id else None
    if candidate is not None and child is None:
        child = db.session.get(Child, candidate.child_id) if candidate.child_id else None
    if child is None:
        if record is None:  # pragma: no cover - a candidate has a child or a record
            raise HomeboundError(Message("找不到该儿童"))
        child = _child_from_record(record, user)
    if record is None:
        record = db.session.execute(sa.select(DisabilityRecord).where(DisabilityRecord.id_number == child.id_number)).scalar()
    return child, record


def _check_age(child: Child, starts_on: date) -> None:
    """The child is of 送教上门 age (``EDU_GUARD_HOMEBOUND_MIN_AGE``–``MAX_AGE``) on the
    first day of delivery (docs/domain.md §3).

    :raises HomeboundError: naming the age and the range.
    """
    low, high = _age_range()
    age = age_on(child.birth_date, starts_on)
    if not low <= age <= high:
        raise HomeboundError(Message("%(name)s 于 %(starts_on)s 为 %(age)s 周岁，不在送教上门的 %(low)s–%(high)s 周岁范围内", name=child.name, starts_on=starts_on, age=age, low=low, high=high))


def _check_no_overlap(child: Child, starts_on: date, ends_on: date | None) -> None:
    """A child has one placement at a time (:func:`overlapping_placement`).

    :raises HomeboundError: naming the placement already there.
    """
    overlapping = overlapping_placement(child.id, starts_on, ends_on) if child.id is not None else None
    if overlapping is not None:
        raise HomeboundError(
            Message("%(name)s 已有送教上门安置（编号 %(id)s，%(starts_on)s—%(ends_on)s），日期重叠", name=child.name, id=overlapping.id, starts_on=overlapping.starts_on, ends_on=overlapping.ends_on or Message('至今')))


def _disability(child: Child, record: DisabilityRecord | None,
                certificate_number: str | None) -> tuple[str | None, str | None, str | None]:
    """Return (certificate number, category, level): the number given or listed, its
    category and level parsed from it (the list's when it has none; docs/domain.md §3).

    :raises HomeboundError: the number is not the child's (its first 18 characters are
        the ID number) or is malformed.
    """
    certificate_number = normalize_id(certificate_number) or (record.certificate_number if record else None)
    category, level = parse_certificate(certificate_number)
    if certificate_number and certificate_number[:18] != child.id_number:
        raise HomeboundError(Message("残疾人证号 %(certificate_number)s 的前18位与身份证号 %(id_number)s 不符", certificate_number=certificate_number, id_number=child.id_number))
    if category is None and record is not None:
        category, level = record.category, record.level
    return certificate_number, category, level


def _guardian_contact(child: Child, name: str | None, phone: str | None) -> tuple[str | None, str | None]:
    """Return the guardian's name and phone for the placement: those given, else the
    child's first registered guardian's."""
    guardian = child.guardians[0] if child.guardians else None
    return ((name or "").strip() or (guardian.name if guardian else None),
            (phone or "").strip() or (guardian.phone if guardian else None))


def _record_in_registry(placement: HomeboundPlacement, user=None) -> None:
    """What a placement changes in the registry: the child is enrolled (在读) at the
    delivering school, is marked disabled when the certificate says so, and gets the
    placement's guardian when it had none."""
    child = placement.child
    _ensure_enrollment(child, placement.school, user)
    if not child.is_disabled and placement.disability_category:
        before = audit.snapshot(child)
        child.is_disabled = True
        db.session.flush()
        audit.record("update", child, before=before, user=user)
    if placement.guardian_name and not child.guardians:
        add_guardian(child, name=placement.guardian_name, phone=placement.guardian_phone, user=user)


def end_placement(placement: HomeboundPlacement, ends_on: date, user=None) -> HomeboundPlacement:
    """End a placement on ``ends_on`` (the child goes to school, ages out, moves).

    :raises HomeboundError: ``ends_on`` before the start or before a logged session.
    """
    if ends_on < placement.starts_on:
        raise HomeboundError(Message("结束日期 %(ends_on)s 早于开始日期 %(starts_on)s", ends_on=ends_on, starts_on=placement.starts_on))
    later = [s for s in placement.sessions if s.held_on > ends_on]
    if later:
        raise HomeboundError(Message("%(held_on)s 已有送教记录，结束日期不能早于该日", held_on=later[0].held_on))
    before = audit.snapshot(placement)
    placement.ends_on = ends_on
    db.session.flush()
    audit.record("update", placement, before=before, user=user)
    return placement


# --- plans ------------------------------------------------------------------------


def parse_goals(text: str) -> list[dict]:
    """Parse goals typed one a line as ``领域：目标`` (or ``领域:目标``).

    :raises HomeboundError: naming the line whose area is not one of CONTENT_AREAS or
        whose goal is empty.
    """
    goals = []
    for n, line in enumerate((text or "").splitlines(), start=1):
        line = line.strip()
        if not line:
            continue
        area, sep, goal = line.replace(":", "：").partition("：")
        if not sep or not goal.strip():
            raise HomeboundError(Message("第%(n)s行应为“领域：目标”", n=n))
        if area.strip() not in CONTENT_AREAS:
            raise HomeboundError(Message("第%(n)s行的领域“%(area)s”应为：%(areas)s", n=n, area=area.strip(), areas='、'.join(CONTENT_AREAS)))
        goals.append({"area": area.strip(), "goal": goal.strip()})
    if not goals:
        raise HomeboundError(Message("个别化教育计划至少要有一个目标"))
    return goals


def school_year_of(day: date) -> str:
    """Return the school year of ``day``: from 1 September (``2020-2021`` for 2021-03-01)."""
    first = day.year if day.month >= 9 else day.year - 1
    return f"{first}-{first + 1}"


def latest_session_day() -> date | None:
    """The day of the latest 送教 session recorded in the county (``None``: none yet)."""
    return db.session.execute(sa.select(sa.func.max(HomeboundSession.held_on))).scalar()


def term_of(day: date) -> tuple[date, date, str]:
    """Return the school term containing ``day`` as (first day, last day, label).

    The county's term records (:class:`edu_guard.registry.terms.Term`, e.g. 2021-spring,
    1 March – 9 July 2021, "2021年春季学期") decide when one holds ``day``. Without one,
    the half-year: the first term 1 September – 31 January, the second 1 February –
    31 July (August belongs to the second, as its summer holiday), labelled by school
    year. Holidays inside a term are left to ``EDU_GUARD_HOMEBOUND_BREAKS``.
    """
    term = db.session.execute(
        sa.select(Term).where(Term.start <= day, Term.end >= day).order_by(Term.start)
    ).scalars().first()
    if term is not None:
        return term.start, term.end, term_name(term)
    if day.month >= 9 or day.month == 1:
        y = day.year if day.month >= 9 else day.year - 1
        return date(y, 9, 1), date(y + 1, 1, 31), Message("%(first)s-%(second)s学年第一学期", first=y, second=y + 1)
    y = day.year
    return date(y, 2, 1), date(y, 7, 31), Message("%(first)s-%(second)s学年第二学期", first=y - 1, second=y)


def save_plan(placement: HomeboundPlacement, *, school_year: str, made_on: date, goals: list[dict], user=None) -> HomeboundPlan:
    """Create or replace the yearly individual education plan (个别化教育计划).

    :param school_year: ``YYYY-YYYY+1``.
    :param goals: ``[{"area": …, "goal": …}]`` (see :func:`parse_goals`).
    :raises HomeboundError: a malformed school year.
    """
    parts = school_year.split("-")
    if len(parts) != 2 or not all(p.isdigit() and len(p) == 4 for p in parts) or int(parts[1]) != int(parts[0]) + 1:
        raise HomeboundError(Message("学年 %(school_year)s 应写作如 2020-2021", school_year=school_year))
    plan = db.session.execute(sa.select(HomeboundPlan).where(
        HomeboundPlan.placement_id == placement.id, HomeboundPlan.school_year == school_year)).scalar()
    before = audit.snapshot(plan) if plan else None
    if plan is None:
        plan = HomeboundPlan(placement=placement, school_year=school_year, made_on=made_on, goals=goals)
        db.session.add(plan)
    else:
        plan.made_on, plan.goals = made_on, goals
    db.session.flush()
    audit.record("update" if before else "create", plan, before=before, user=user)
    return plan


# --- sessions and attachments -----------------------------------------------------

#: Allowed attachment types by their leading bytes (content, not the name).
_SIGNATURES = (
    (b"\xff\xd8\xff", "image/jpeg", (".jpg", ".jpeg")),
    (b"\x89PNG\r\n\x1a\n", "image/png", (".png",)),
    (b"%PDF-", "application/pdf", (".pdf",)),
)


def detect_type(data: bytes, filename: str) -> str:
    """Return the MIME type of an attachment from its content, checking the name agrees.

    :raises HomeboundError: empty, not JPEG/PNG/PDF by content, or its extension
        names another type.
    """
    if not data:
        raise HomeboundError(Message("附件 %(filename)s 是空文件", filename=filename))
    for magic, mime, exts in _SIGNATURES:
        if data.startswith(magic):
            if not filename.lower().endswith(exts):
                raise HomeboundError(Message("附件 %(filename)s 的内容是 %(mime)s，与文件扩展名不符", filename=filename, mime=mime))
            return mime
    raise HomeboundError(Message("附件 %(filename)s 不是 JPG、PNG 或 PDF 文件（按文件内容判断）", filename=filename))


def attachment_path(sha256: str) -> Path:
    """Return where an attachment with this sha256 is stored: ``<instance>/attachments/<sha256>``."""
    return Path(current_app.instance_path) / "attachments" / sha256


def add_attachment(session: HomeboundSession, filename: str, data: bytes, user=None) -> HomeboundAttachment:
    """Store a file under ``<instance>/attachments/<sha256>`` (once per content) and
    attach it to ``session``.

    :raises HomeboundError: larger than ``EDU_GUARD_ATTACHMENT_MAX_BYTES`` or not an
        allowed type (:func:`detect_type`).
    """
    limit = int(current_app.config["EDU_GUARD_ATTACHMENT_MAX_BYTES"])
    filename = os.path.basename((filename or "").replace("\\", "/")) or "attachment"
    if len(data) > limit:
        raise HomeboundError(Message("附件 %(filename)s 有 %(size)s MB，超过 %(limit)s MB 的上限", filename=filename, size=format(len(data) / 1048576, '.1f'), limit=format(limit / 1048576, '.0f')))
    mime = detect_type(data, filename)
    digest = hashlib.sha256(data).hexdigest()
    path = attachment_path(digest)
    if not path.exists():
        write_private(path, data, prefix=".att-")  # photos and signed pages of children: 0700
    att = HomeboundAttachment(session=session, filename=filename[:255], content_type=mime, size=len(data), sha256=digest)
    db.session.add(att)
    db.session.flush()
    audit.record("create", att, user=user)
    return att


def read_attachment(att: HomeboundAttachment) -> bytes:
    """Return an attachment's bytes.

    :raises HomeboundError: the file is missing or no longer matches its sha256.
    """
    path = attachment_path(att.sha256)
    if not path.exists():
        raise HomeboundError(Message("附件 %(filename)s 的文件不见了", filename=att.filename))
    data = path.read_bytes()
    if hashlib.sha256(data).hexdigest() != att.sha256:
        raise HomeboundError(Message("附件 %(filename)s 与登记的 sha256 不符，文件可能被改动", filename=att.filename))
    return data


def log_session(
    placement: HomeboundPlacement,
    *,
    held_on: date,
    starts_at: time,
    ends_at: time,
    teachers: str,
    content_areas: Sequence[str],
    progress: str,
    guardian_confirmed: bool = False,
    guardian_name: str | None = None,
    attachments: Iterable[tuple[str, bytes]] = (),
    user=None,
) -> HomeboundSession:
    """Log one session delivered at home (送教记录), with its attachments.

    :param held_on: within the placement's dates and not in the future.
    :param starts_at: start time; ``ends_at`` must be later the same day and at most
        ``EDU_GUARD_HOMEBOUND_MAX_SESSION_MINUTES`` (240 by default) after it.
    :param content_areas: areas of CONTENT_AREAS, at least one.
    :param attachments: ``(file name, bytes)`` pairs (see :func:`add_attachment`).
    :raises HomeboundError: bad date or times (a session longer than the maximum),
        no teacher, unknown area, no progress note, a confirmation with no guardian's
        name, a refused attachment (nothing is stored then).
    """
    if held_on > case_services.today():
        raise HomeboundError(Message("送教日期不能晚于今天"))
    if not placement.active_on(held_on):
        raise HomeboundError(Message("%(held_on)s 不在安置期（%(starts_on)s—%(ends_on)s）内", held_on=held_on, starts_on=placement.starts_on, ends_on=placement.ends_on or Message('至今')))
    try:
        minutes = rules.session_minutes(starts_at, ends_at)
    except rules.NormError as exc:
        raise HomeboundError(message_of(exc)) from None
    longest = int(current_app.config["EDU_GUARD_HOMEBOUND_MAX_SESSION_MINUTES"])
    if minutes > longest:
        raise HomeboundError(
            Message("开始时间 %(starts_at)s 至结束时间 %(ends_at)s 共 %(minutes)s 分钟，超过一次送教的上限 %(longest)s 分钟（EDU_GUARD_HOMEBOUND_MAX_SESSION_MINUTES）：请核对开始时间和结束时间", starts_at=format(starts_at, '%H:%M'), ends_at=format(ends_at, '%H:%M'), minutes=minutes, longest=longest))
    areas = [a for a in content_areas if a]
    if not areas:
        raise HomeboundError(Message("请选择送教内容的领域"))
    unknown = [a for a in areas if a not in CONTENT_AREAS]
    if unknown:
        raise HomeboundError(Message("未知的领域：%(areas)s", areas='、'.join(unknown)))
    progress = (progress or "").strip()
    if not progress:
        raise HomeboundError(Message("请填写本次送教的进展情况"))
    guardian_name = (guardian_name or "").strip() or None
    if guardian_confirmed and not guardian_name:
        guardian_name = placement.guardian_name
        if not guardian_name:
            raise HomeboundError(Message("监护人确认时请填写确认的监护人姓名"))
    session = HomeboundSession(
        placement=placement, held_on=held_on, starts_at=starts_at, ends_at=ends_at,
        teachers=_split_names(teachers, Message("送教教师")), content_areas=areas, progress=progress,
        guardian_confirmed=bool(guardian_confirmed), guardian_name=guardian_name,
        recorded_by_id=audit.acting_user_id(user),
    )
    db.session.add(session)
    db.session.flush()
    for name, data in attachments:
        add_attachment(session, name, data, user=user)
    audit.record("create", session, user=user)
    return session


# --- compliance -------------------------------------------------------------------


@dataclass
class ComplianceRow:
    """One child's compliance in a period, with who and where."""

    placement_id: int
    child_id: int
    name: str
    school_id: int
    school: str
    township: str
    figures: rules.ChildCompliance


def _rule_settings(norm_key: str | None = None) -> tuple[rules.Norm, list[tuple[date, date]], int]:
    cfg = current_app.config
    try:
        return (rules.configured_norm(cfg, norm_key), rules.breaks_from_config(cfg),
                int(cfg["EDU_GUARD_HOMEBOUND_PERIOD_MINUTES"]))
    except rules.NormError as exc:
        raise HomeboundError(message_of(exc)) from None


def compliance(start: date, end: date, user=None, *, norm_key: str | None = None,
               placement_id: int | None = None) -> tuple[rules.Norm, list[ComplianceRow]]:
    """Work out every visible placement's compliance in ``[start, end]``
    (:func:`edu_guard.homebound.compliance.assess`). Placements not active on any day
    of the period are left out.

    :param user: limits the placements (:func:`~edu_guard.auth.scoping.scope_placements`).
    :param norm_key: a norm other than ``EDU_GUARD_HOMEBOUND_NORM``.
    :param placement_id: only this placement.
    :return: the norm used and one row per placement, in the clerk's order (township,
        school, name).
    :raises HomeboundError: a bad period or norm configuration.
    """
    norm, breaks, minutes = _rule_settings(norm_key)
    if end < start:
        raise HomeboundError(Message("统计期止日 %(end)s 早于起日 %(start)s", end=end, start=start))
    # Plain rows, not ORM objects: a province's year is ~10^5 sessions.
    where = [HomeboundPlacement.starts_on <= end,
             sa.or_(HomeboundPlacement.ends_on.is_(None), HomeboundPlacement.ends_on >= start)]
    if placement_id is not None:
        where.append(HomeboundPlacement.id == placement_id)
    scoped_ids = scope_placements(sa.select(HomeboundPlacement.id).where(*where), user)
    placed = db.session.execute(
        scope_placements(
            sa.select(HomeboundPlacement.id, HomeboundPlacement.child_id, Child.name, HomeboundPlacement.school_id,
                      School.name.label("school"), Township.name.label("township"), HomeboundPlacement.starts_on,
                      HomeboundPlacement.ends_on)
            .join(Child, Child.id == HomeboundPlacement.child_id)
            .join(School, School.id == HomeboundPlacement.school_id).join(Township, Township.id == School.township_id)
            .where(*where).order_by(Township.name, School.code, Child.name, HomeboundPlacement.id), user)
    ).all()
    sessions: dict[int, list[rules.SessionFacts]] = {}
    for pid, held_on, starts_at, ends_at, confirmed in db.session.execute(
        sa.select(HomeboundSession.placement_id, HomeboundSession.held_on, HomeboundSession.starts_at,
                  HomeboundSession.ends_at, HomeboundSession.guardian_confirmed)
        .where(HomeboundSession.placement_id.in_(scoped_ids), HomeboundSession.held_on.between(start, end))
    ):
        sessions.setdefault(pid, []).append(rules.SessionFacts(held_on, starts_at, ends_at, confirmed))
    rows = []
    for p in placed:
        figures = rules.assess(start, end, p.starts_on, p.ends_on, sessions.get(p.id, []), norm, breaks=breaks,
                               period_minutes=minutes)
        rows.append(ComplianceRow(p.id, p.child_id, p.name, p.school_id, p.school, p.township, figures))
    return norm, rows


def placement_compliance(placement: HomeboundPlacement, start: date, end: date) -> tuple[rules.Norm, ComplianceRow | None]:
    """Return the norm and ``placement``'s compliance row for ``[start, end]``, or
    ``None`` when the placement is not active in the period (see :func:`compliance`).

    :raises HomeboundError: a bad period or norm configuration.
    """
    norm, rows = compliance(start, end, placement_id=placement.id)
    return norm, (rows[0] if rows else None)


@dataclass
class GroupSummary:
    """Totals of a school or township: children placed, sessions, hours delivered
    (minutes / 60, one decimal), periods and the compliance rate (compliant children /
    children, in per cent with one decimal)."""

    name: str
    children: int = 0
    compliant: int = 0
    sessions: int = 0
    periods: int = 0
    minutes: int = 0
    expected_periods: int = 0

    @property
    def hours(self) -> str:
        from decimal import ROUND_HALF_UP, Decimal

        return str((Decimal(self.minutes) / 60).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))

    @property
    def rate(self) -> str:
        from decimal import ROUND_HALF_UP, Decimal

        if not self.children:
            return "—"
        return str((Decimal(100 * self.compliant) / self.children).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)) + "%"


def summarise(rows: Sequence[ComplianceRow], by: str) -> list[GroupSummary]:
    """Group compliance rows by ``"school"`` or ``"township"``, in first-seen order,
    with a last ``合计`` (total) row."""
    groups: dict[str, GroupSummary] = {}
    total = GroupSummary("合计")
    for row in rows:
        key = getattr(row, by)
        for g in (groups.setdefault(key, GroupSummary(key)), total):
            g.children += 1
            g.compliant += 1 if row.figures.compliant else 0
            g.sessions += row.figures.visits
            g.periods += row.figures.periods
            g.minutes += row.figures.minutes
            g.expected_periods += row.figures.expected_periods
    return [*groups.values(), total]


def placements(user=None, *, active_on: date | None = None) -> list[HomeboundPlacement]:
    """Return the placements ``user`` may see (optionally only those active on a day),
    by school and child's name."""
    stmt = sa.select(HomeboundPlacement).join(Child).join(School, School.id == HomeboundPlacement.school_id)
    if active_on:
        stmt = stmt.where(_active_on(active_on))
    stmt = scope_placements(stmt.order_by(School.code, Child.name, HomeboundPlacement.id), user)
    return list(db.session.execute(stmt).scalars())
