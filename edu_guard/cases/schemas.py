"""marshmallow schemas of cases: the JSON of the CLI and the data of the templates."""

from __future__ import annotations

from marshmallow import Schema, fields

from edu_guard.auth.services import mask_id_number as mask_id
from edu_guard.cases import machine


class AssignmentSchema(Schema):
    role = fields.String()
    name = fields.String()
    phone = fields.String(allow_none=True)


class EventSchema(Schema):
    id = fields.Integer()
    event = fields.String()
    from_state = fields.String(allow_none=True)
    to_state = fields.String()
    acted_on = fields.Date()
    recorded_at = fields.DateTime()
    user = fields.Function(lambda e: e.user.username if e.user else None)
    note = fields.String(allow_none=True)
    letter = fields.Function(lambda e: e.letter.doc_number if e.letter else None)


class VisitSchema(Schema):
    id = fields.Integer()
    visited_on = fields.Date()
    visitors = fields.String()
    form = fields.String()
    findings = fields.String()
    outcome = fields.String(allow_none=True)
    next_action = fields.String(allow_none=True)


class LetterRefSchema(Schema):
    id = fields.Integer()
    kind = fields.String()
    doc_number = fields.String()
    title = fields.String()
    issued_on = fields.Date()
    served_on = fields.Date(allow_none=True)
    service_manner = fields.String(allow_none=True)
    #: The day it counts as served (公告送达: publication + 60/30 days), periods run from it.
    deemed_served_on = fields.Method("get_deemed")
    voided_on = fields.Date(allow_none=True)
    void_reason = fields.String(allow_none=True)
    sha256 = fields.String(allow_none=True)

    def get_deemed(self, letter):
        from edu_guard.cases.deadlines import effective_service

        return effective_service(letter.served_on, letter.service_manner).day.isoformat() if letter.served_on else None


class CaseSchema(Schema):
    """A case as JSON: identity, state, step, deadline and, in full, its history.

    ``id_number`` is masked unless the schema is built with ``context_full_ids``.
    """

    id = fields.Integer()
    child_id = fields.Integer()
    name = fields.Function(lambda c: c.child.name)
    id_number = fields.Method("get_id_number")
    school = fields.Function(lambda c: c.school.name if c.school else None)
    township = fields.Function(lambda c: c.township.name if c.township else None)
    state = fields.String()
    state_label = fields.Function(lambda c: machine.STATES[c.state].label)
    step = fields.Function(lambda c: machine.STATES[c.state].step)
    reason = fields.String()
    source = fields.String()
    opened_on = fields.Date()
    step_started_on = fields.Date()
    deadline = fields.Date(allow_none=True)
    outcome = fields.String(allow_none=True)
    closed_on = fields.Date(allow_none=True)
    closed_reason = fields.String(allow_none=True)
    version = fields.Integer()

    def __init__(self, *args, full_ids: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.full_ids = full_ids

    def get_id_number(self, case):
        return case.child.id_number if self.full_ids else mask_id(case.child.id_number)


class CaseDetailSchema(CaseSchema):
    assignments = fields.List(fields.Nested(AssignmentSchema))
    events = fields.List(fields.Nested(EventSchema))
    visits = fields.List(fields.Nested(VisitSchema))
    letters = fields.Method("get_letters")

    def get_letters(self, case):
        return LetterRefSchema(many=True).dump(sorted(case.letters, key=lambda l: l.id))
