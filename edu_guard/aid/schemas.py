"""Input schemas of the aid pages (marshmallow): a new term, a review, a school's
addition, a reversal."""

from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, pre_load, validate, validates_schema

from edu_guard.registry.identity import normalize_id

REASON = fields.String(required=True, validate=validate.Length(min=1, max=255),
                       error_messages={"required": "请填写理由"})


class TermSchema(Schema):
    """A new term: code (``2021-spring``), dates, school days, optional name."""

    code = fields.String(required=True, validate=validate.Regexp(r"^\d{4}-(spring|autumn)$",
                                                                  error="学期代码应形如 2021-spring"))
    start = fields.Date(required=True)
    end = fields.Date(required=True)
    school_days = fields.Integer(required=True, validate=validate.Range(min=1, max=200))
    name = fields.String(load_default=None, allow_none=True)

    @validates_schema
    def _order(self, data, **kwargs):
        if data["end"] <= data["start"]:
            raise ValidationError("结束日期应晚于开始日期", "end")


class ReviewSchema(Schema):
    """The school keeps (``included`` true) or removes a child, with a reason."""

    included = fields.Boolean(required=True)
    reason = fields.String(required=True, validate=validate.Length(min=1, max=255))


class AddEntrySchema(Schema):
    """The school adds a child by ID number, with a reason and, when the scheme does not
    find the child eligible, an amount in yuan."""

    id_number = fields.String(required=True, validate=validate.Length(min=15, max=18))
    reason = fields.String(required=True, validate=validate.Length(min=1, max=255))

    @pre_load
    def normalise_number(self, data, **kwargs):
        """Normalise the typed number as everywhere (:func:`edu_guard.registry.identity.normalize_id`)."""
        if isinstance(data.get("id_number"), str):
            data = dict(data, id_number=normalize_id(data["id_number"]))
        return data
    amount = fields.Decimal(load_default=None, allow_none=True, places=2, as_string=False,
                            validate=validate.Range(min=0, min_inclusive=False))


class ReversalSchema(Schema):
    """A reversal's reason."""

    reason = fields.String(required=True, validate=validate.Length(min=1, max=255))


def load(schema: Schema, form) -> dict:
    """Load a form through ``schema`` (empty strings are missing values).

    :raises ValidationError: with the messages by field.
    """
    data = {k: v.strip() for k, v in form.items() if k != "csrf_token" and v is not None and v.strip() != ""}
    return schema.load(data)


def messages(exc: ValidationError) -> str:
    """One line of the errors of a form, for a flash message."""
    labels = {"code": "学期代码", "start": "开始日期", "end": "结束日期", "school_days": "在校天数", "reason": "理由",
              "id_number": "身份证号", "amount": "金额", "included": "审核结果", "_schema": ""}
    parts = []
    for key, errors in exc.messages.items():
        text = "；".join(errors if isinstance(errors, list) else [str(errors)])
        parts.append(f"{labels.get(key, key)}：{text}" if labels.get(key, key) else text)
    return "；".join(parts)
