"""marshmallow schemas of 送教上门: the JSON of the CLI and the plain data of lists,
plus the contexts of the printables (:mod:`edu_guard.letters` kinds
``homebound_agreement`` and ``homebound_log``)."""

from __future__ import annotations

from datetime import date

from flask import current_app
from marshmallow import Schema, fields

from edu_guard.auth.services import mask_id_number
from edu_guard.homebound import compliance as rules


class PlacementSchema(Schema):
    """A placement as listed (ID masked)."""

    id = fields.Integer()
    child_id = fields.Integer()
    name = fields.Function(lambda p: p.child.name)
    id_number = fields.Function(lambda p: mask_id_number(p.child.id_number))
    sex = fields.Function(lambda p: p.child.sex)
    school = fields.Function(lambda p: p.school.name)
    township = fields.Function(lambda p: p.school.township.name)
    disability_category = fields.String(allow_none=True)
    disability_level = fields.Integer(allow_none=True)
    assessed_on = fields.Date()
    teachers = fields.String()
    starts_on = fields.Date()
    ends_on = fields.Date(allow_none=True)
    sessions = fields.Function(lambda p: len(p.sessions))


class CandidateSchema(Schema):
    """A candidate for 送教上门 (ID masked)."""

    key = fields.String()
    source = fields.String()
    name = fields.String()
    id_number = fields.Function(lambda c: mask_id_number(c.id_number))
    age = fields.Integer()
    school = fields.String(allow_none=True)
    township = fields.String(allow_none=True)
    category = fields.String(allow_none=True)
    level = fields.Integer(allow_none=True)
    case_id = fields.Integer(allow_none=True)


class ComplianceRowSchema(Schema):
    """One child's compliance figures in a period."""

    placement_id = fields.Integer()
    name = fields.String()
    school = fields.String()
    township = fields.String()
    counted_days = fields.Function(lambda r: r.figures.counted_days)
    visits = fields.Function(lambda r: r.figures.visits)
    periods = fields.Function(lambda r: r.figures.periods)
    expected_visits = fields.Function(lambda r: r.figures.expected_visits)
    expected_periods = fields.Function(lambda r: r.figures.expected_periods)
    visit_shortfall = fields.Function(lambda r: r.figures.visit_shortfall)
    period_shortfall = fields.Function(lambda r: r.figures.period_shortfall)
    unconfirmed = fields.Function(lambda r: r.figures.unconfirmed)
    compliant = fields.Function(lambda r: r.figures.compliant)


class GroupSummarySchema(Schema):
    """Totals of a school or township."""

    name = fields.String()
    children = fields.Integer()
    compliant = fields.Integer()
    sessions = fields.Integer()
    periods = fields.Integer()
    hours = fields.String()
    rate = fields.String()


def _child(p, full_ids: bool = True) -> dict:
    c = p.child
    return {"name": c.name, "sex": c.sex, "birth_date": c.birth_date, "full": full_ids, "address": c.address,
            "id_number": c.id_number if full_ids else mask_id_number(c.id_number)}


def agreement_context(placement, full_ids: bool = True) -> dict:
    """Return the ``homebound_agreement`` context of a placement (plain values).

    :param full_ids: print the whole ID and 残疾人证号 and the birth date; otherwise
        (auditors) both numbers are masked and only the birth year is printed.
    """
    norm = rules.configured_norm(current_app.config)
    return {
        "child": _child(placement, full_ids),
        "school": placement.school.name,
        "township": placement.school.township.name,
        "assessed_on": placement.assessed_on,
        "assessment": placement.assessment,
        "certificate_number": placement.certificate_number if full_ids else mask_id_number(placement.certificate_number),
        "disability_category": placement.disability_category,
        "disability_level": placement.disability_level,
        "teachers": placement.teachers,
        "starts_on": placement.starts_on,
        "ends_on": placement.ends_on,
        "guardian": placement.guardian_name,
        "guardian_phone": placement.guardian_phone,
        "norm": rules.cited(norm, current_app.config),
    }


def log_context(placement, start: date, end: date, term: str, figures: rules.ChildCompliance) -> dict:
    """Return the ``homebound_log`` context: the sessions of ``[start, end]`` and the
    figures :func:`edu_guard.homebound.compliance.assess` gave for them."""
    minutes = int(current_app.config["EDU_GUARD_HOMEBOUND_PERIOD_MINUTES"])
    rows = [
        {
            "held_on": s.held_on,
            "time": f"{s.starts_at:%H:%M}–{s.ends_at:%H:%M}",
            "periods": rules.session_periods(s.starts_at, s.ends_at, minutes),
            "teachers": s.teachers,
            "areas": "、".join(s.content_areas),
            "progress": s.progress,
            "guardian": s.guardian_name if s.guardian_confirmed else None,
        }
        for s in placement.sessions
        if start <= s.held_on <= end
    ]
    return {
        "child": _child(placement),
        "school": placement.school.name,
        "term": term,
        "start": start,
        "end": end,
        "sessions": rows,
        "norm": rules.cited(rules.configured_norm(current_app.config), current_app.config),
        "visits": figures.visits,
        "periods": figures.periods,
        "expected_visits": figures.expected_visits,
        "expected_periods": figures.expected_periods,
    }
