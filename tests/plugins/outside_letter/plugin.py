"""An outside author's letter plugin, written from docs/plugins.md alone: a 资助政策告知书
served on a pupil's guardian, in the 执法文书 layout with a 送达回证."""

from pathlib import Path

from marshmallow import Schema, fields

from edu_guard.toolkit import LetterKind, hookimpl

TEMPLATES = Path(__file__).parent / "templates"


class PolicyNoticeSchema(Schema):
    guardian = fields.String(required=True)
    pupil = fields.String(required=True)
    school = fields.String(required=True)
    address = fields.String(required=True)


POLICY_NOTICE = LetterKind(
    key="aid_policy_notice",
    name="资助政策告知书",
    schema=PolicyNoticeSchema,
    letter_format=False,
    service_slip=True,
    recipient=lambda ctx: ctx["guardian"],
    title=lambda ctx: "资助政策告知书",
    address=lambda ctx: ctx["address"],
    mark="资政",
    template_dir=str(TEMPLATES),
)


@hookimpl
def letter_types():
    return [POLICY_NOTICE]
