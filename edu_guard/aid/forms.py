"""Flask-WTF forms of the aid pages (资助表单): a new term, a review, a school's
addition, a reversal (CSRF on every form)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, DecimalField, IntegerField, StringField
from wtforms.validators import AnyOf, DataRequired, Length, NumberRange, Optional, Regexp, ValidationError, InputRequired

from edu_guard.i18n import Message
from edu_guard.registry.identity import normalize_id

_REASON = [DataRequired(message=_l("请填写理由")), Length(max=255, message=_l("理由不超过255字"))]


class TermForm(FlaskForm):
    """A new term: code (``2021-spring``), dates, school days, optional name."""

    code = StringField(_l("学期代码"), validators=[DataRequired(message=_l("请填写学期代码")),
                                           Regexp(r"^\d{4}-(spring|autumn)$", message=_l("学期代码应形如 2021-spring"))])
    start = DateField(_l("开始日期"), validators=[InputRequired(message=_l("请填写开始日期（年-月-日）"))])
    end = DateField(_l("结束日期"), validators=[InputRequired(message=_l("请填写结束日期（年-月-日）"))])
    school_days = IntegerField(_l("在校天数"), validators=[DataRequired(message=_l("请填写在校天数")),
                                                   NumberRange(min=1, max=200, message=_l("在校天数应为 1–200"))])
    name = StringField(_l("名称"), validators=[Optional(), Length(max=32)])

    def validate_end(self, field) -> None:
        if self.start.data and field.data and field.data <= self.start.data:
            raise ValidationError(Message("结束日期应晚于开始日期"))

    def values(self) -> dict:
        """The term: ``code``, ``start``, ``end`` (dates), ``school_days``, ``name`` or None."""
        return {"code": self.code.data.strip(), "start": self.start.data, "end": self.end.data,
                "school_days": self.school_days.data, "name": (self.name.data or "").strip() or None}


class ReviewForm(FlaskForm):
    """The school keeps (``included`` true) or removes a child, with a reason."""

    included = StringField(_l("审核结果"), validators=[DataRequired(message=_l("请选择保留或移出")),
                                               AnyOf(["true", "false"], message=_l("审核结果应为保留或移出"))])
    reason = StringField(_l("理由"), validators=_REASON)


class AddEntryForm(FlaskForm):
    """The school adds a child by ID number, with a reason and, when the scheme does not
    find the child eligible, an amount in yuan (Decimal, two places)."""

    id_number = StringField(_l("身份证号"), filters=[normalize_id],  # as everywhere a number is typed
                            validators=[DataRequired(message=_l("请填写身份证号")),
                                                Length(min=15, max=18, message=_l("身份证号应为15或18位"))])
    reason = StringField(_l("理由"), validators=_REASON)
    amount = DecimalField(_l("金额"), places=2, validators=[Optional()])

    def validate_amount(self, field) -> None:
        if field.data is not None and field.data <= 0:
            raise ValidationError(Message("金额应大于0"))


class ReversalForm(FlaskForm):
    """A reversal's reason."""

    reason = StringField(_l("理由"), validators=_REASON)


class ProposeForm(FlaskForm):
    """Which scheme to propose lists for (empty: every scheme)."""

    scheme = StringField(_l("资助项目"), validators=[Optional(), Length(max=64)])


class ActForm(FlaskForm):
    """The date of an act on a list (公示, approval) when entered after the fact (``on``,
    ISO; today when empty; parsed by the view so a bad date is the service's refusal)."""

    on = StringField(_l("日期"), validators=[Optional(), Length(max=10)])


class ApproveForm(ActForm):
    """The payment channel of an approval (``bank`` by default) and its date."""

    channel = StringField(_l("发放渠道"), validators=[Optional(), Length(max=16)])
