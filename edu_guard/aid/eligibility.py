"""Who can be proposed for aid in a term (资助对象资格): the ONE place that turns the
registry into :class:`~edu_guard.schemes.base.Candidate` snapshots.

Rules (docs/domain.md §2):
- a child is a candidate of a term when one of the child's enrollments (学籍) was 在读
  during the term: its status is 在读, or the change that ended it (转出, 休学, 毕业,
  死亡注销) happened on or after the term's first day; an enrollment that ended before
  the term does not count;
- family statuses come from :class:`~edu_guard.registry.models.FamilyStatus`, keyed by
  ID number: a 监测户 whose risk was removed (风险消除) is dropped, and so is any status
  whose validity ended before the term or began after it;
- a child is disabled when marked so, listed by the disabled persons' federation or
  given the 残疾 status;
- the stage is the school's, or the grade's in a 九年一贯制/完全中学 school
  (:func:`~edu_guard.schemes.base.stage_of`).

Everything is read with a handful of whole-table queries (no per-child query): a
county of 100,000 pupils is read in under 3 s (``bench/aid_propose.py``).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

import sqlalchemy as sa

from edu_guard.db import db
from edu_guard.schemes.base import Candidate, TermInfo, stage_of
from edu_guard.registry.models import StatusChange
from edu_guard.registry.models import FamilyStatus
from edu_guard.registry.models import Child, DisabilityRecord, Enrollment, School, Township

#: Status changes that end an enrollment (学籍变动 that leave the school).
ENDING_KINDS = ("转出", "休学", "毕业", "死亡注销")


@dataclass
class CandidateSet:
    """The candidates of a term.

    :ivar candidates: by child id.
    :ivar school_ids: school id by 学校标识码.
    """

    candidates: dict[int, Candidate] = field(default_factory=dict)
    school_ids: dict[str, int] = field(default_factory=dict)


def term_info(term) -> TermInfo:
    """Return the plain :class:`TermInfo` of a :class:`~edu_guard.aid.models.Term`."""
    return TermInfo(code=term.code, name=term.name, start=term.start, end=term.end, school_days=term.school_days)


def _ended_on() -> dict[int, object]:
    """Child id → the date of the child's latest enrollment-ending status change."""

    stmt = (
        sa.select(StatusChange.child_id, sa.func.max(StatusChange.changed_on))
        .where(StatusChange.child_id.is_not(None), StatusChange.kind.in_(ENDING_KINDS))
        .group_by(StatusChange.child_id)
    )
    return dict(db.session.execute(stmt).all())


def family_kinds_by_id(term: TermInfo, id_numbers=None) -> dict[str, set[str]]:
    """Return ID number → the family statuses valid in ``term``.

    :param id_numbers: limit to these ID numbers (``None``: everyone listed).
    """

    stmt = sa.select(FamilyStatus.id_number, FamilyStatus.kind).where(
        sa.or_(FamilyStatus.valid_to.is_(None), FamilyStatus.valid_to >= term.start),
        sa.or_(FamilyStatus.valid_from.is_(None), FamilyStatus.valid_from <= term.end),
        sa.not_(sa.and_(FamilyStatus.kind == "监测户", FamilyStatus.risk_removed.is_(True))),
    )
    if id_numbers is not None:
        stmt = stmt.where(FamilyStatus.id_number.in_(list(id_numbers)))
    out: dict[str, set[str]] = defaultdict(set)
    for id_number, kind in db.session.execute(stmt):
        out[id_number].add(kind)
    return out


def candidates(term: TermInfo, *, school_ids: list[int] | None = None, child_ids: list[int] | None = None) -> CandidateSet:
    """Return the children enrolled during ``term`` as candidates.

    A child with several enrollments active in the term is taken at the one still 在读
    (else the latest).

    :param term: the term (:func:`term_info`).
    :param school_ids: only children enrolled at these schools.
    :param child_ids: only these children (reviews, tests).
    :return: a :class:`CandidateSet`.
    """

    stmt = (
        sa.select(
            Enrollment.id, Enrollment.child_id, Enrollment.status, Enrollment.grade, Enrollment.boarding,
            Child.id_number, Child.name, Child.ethnicity, Child.is_disabled,
            School.id.label("school_id"), School.code, School.name.label("school_name"), School.stage,
            Township.name.label("township"),
        )
        .join(Child, Child.id == Enrollment.child_id)
        .join(School, School.id == Enrollment.school_id)
        .join(Township, Township.id == School.township_id)
        .order_by(Enrollment.id)
    )
    if school_ids is not None:
        stmt = stmt.where(Enrollment.school_id.in_(school_ids))
    if child_ids is not None:
        stmt = stmt.where(Enrollment.child_id.in_(child_ids))
    ended = _ended_on()
    chosen: dict[int, sa.Row] = {}
    for row in db.session.execute(stmt):
        if row.status != "在读":
            day = ended.get(row.child_id)
            if day is None or day < term.start:
                continue
        best = chosen.get(row.child_id)
        if best is None or best.status != "在读" or row.status == "在读":
            chosen[row.child_id] = row
    limit = None if child_ids is None and school_ids is None else [r.id_number for r in chosen.values()]
    kinds = family_kinds_by_id(term, limit)
    disabled_stmt = sa.select(DisabilityRecord.id_number)
    if limit is not None:
        disabled_stmt = disabled_stmt.where(DisabilityRecord.id_number.in_(limit))
    listed_disabled = set(db.session.execute(disabled_stmt).scalars())
    out = CandidateSet()
    for child_id, r in chosen.items():
        family = frozenset(kinds.get(r.id_number, ()))
        out.school_ids[r.code] = r.school_id
        out.candidates[child_id] = Candidate(
            child_id=child_id, id_number=r.id_number, name=r.name, school_code=r.code, school_name=r.school_name,
            stage=stage_of(r.stage, r.grade), grade=r.grade, boarding=bool(r.boarding), ethnicity=r.ethnicity,
            family_kinds=family, disabled=bool(r.is_disabled) or r.id_number in listed_disabled or "残疾" in family,
            township=r.township,
        )
    return out
