"""Flask-WTF forms of the case pages (CSRF on every form)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (BooleanField, DateField, HiddenField, IntegerField, SelectField, SelectMultipleField, StringField,
                     TextAreaField)
from wtforms.validators import DataRequired, Length, Optional, InputRequired

from edu_guard import clock
from edu_guard.cases import machine
from edu_guard.cases.models import REASONS, RESPONSIBLE_ROLES, VISIT_FORMS
from edu_guard.i18n import N_, labelled
from edu_guard.letters.models import SERVICE_MANNERS
from edu_guard.web import form_errors  # noqa: F401 (the case views' name)


def _today():
    """The county's today (:func:`edu_guard.clock.today`), looked up when a form is built."""
    return clock.today()


class OpenCaseForm(FlaskForm):
    reason = SelectField(_l("辍学原因"), choices=labelled(REASONS), validators=[DataRequired()])
    opened_on = DateField(_l("发现日期"), default=_today, validators=[InputRequired()])
    reason_note = TextAreaField(_l("情况说明"), validators=[Optional(), Length(max=2000)])

    def assignments(self, formdata) -> list[dict]:
        """The responsible people typed in the rows ``name_<role>`` / ``phone_<role>``."""
        return [{"role": role, "name": (formdata.get(f"name_{role}") or "").strip(),
                 "phone": (formdata.get(f"phone_{role}") or "").strip() or None}
                for role in RESPONSIBLE_ROLES if (formdata.get(f"name_{role}") or "").strip()]


class ActForm(FlaskForm):
    event = HiddenField(validators=[DataRequired()])
    version = IntegerField(validators=[DataRequired()])
    on = DateField(_l("办理日期"), default=_today, validators=[InputRequired()])
    note = TextAreaField(_l("说明"), validators=[Optional(), Length(max=2000)])
    fine = StringField(_l("拟罚款（元）"), validators=[Optional(), Length(max=16)])
    placement = SelectField(_l("安置方式"), choices=labelled(machine.PLACEMENTS, empty=""), validators=[Optional()])
    school = StringField(_l("核实就读学校"), validators=[Optional(), Length(max=128)])
    representative = StringField(_l("法定代表人（局长）"), validators=[Optional(), Length(max=64)])
    fine_reason = StringField(_l("减轻罚款的理由"), validators=[Optional(), Length(max=500)])
    content = TextAreaField(_l("内容"), validators=[Optional(), Length(max=2000)])
    result = StringField(_l("结果"), validators=[Optional(), Length(max=16)])
    hearing_on = DateField(_l("听证日期"), validators=[Optional()])
    hearing_time = StringField(_l("听证时间"), validators=[Optional(), Length(max=32)])
    place = StringField(_l("听证地点"), validators=[Optional(), Length(max=128)])
    host = StringField(_l("听证主持人"), validators=[Optional(), Length(max=64)])
    #: 行政处罚法 Art. 64 (三): public unless a state secret, trade secret or privacy.
    public = SelectField(_l("是否公开举行"), choices=labelled((N_("公开"), N_("不公开")), empty=""),
                         validators=[Optional()])
    closed_reason = SelectField(_l("不公开的理由"), validators=[Optional()], choices=labelled(
        (N_("涉及国家秘密"), N_("涉及商业秘密"), N_("涉及个人隐私")), empty=""))
    amount = StringField(_l("金额（元）"), validators=[Optional(), Length(max=16)])
    receipt = StringField(_l("缴款凭证号"), validators=[Optional(), Length(max=64)])
    until = DateField(_l("缴纳截止日期"), validators=[Optional()])
    pay_kind = SelectField(_l("方式"), choices=labelled((N_("延期"), N_("分期")), empty=""), validators=[Optional()])
    body = StringField(_l("复议机关或法院"), validators=[Optional(), Length(max=128)])
    confirm_estimate = BooleanField(_l("确认按估算日期制发"))
    #: Show the letter as it would be printed, without numbering or storing it.
    preview = BooleanField(_l("预览"))


class HolidayArrangementForm(FlaskForm):
    """A year's official holiday arrangement, typed from the State Council's notice."""

    year = IntegerField(_l("年度"), validators=[InputRequired()])
    holidays = TextAreaField(_l("放假日期（含法定节假日和调休放假日）"), validators=[DataRequired(), Length(max=4000)])
    workdays = TextAreaField(_l("调休上班日期"), validators=[Optional(), Length(max=2000)])
    source = StringField(_l("通知文号"), validators=[DataRequired(), Length(max=128)])


class VisitForm(FlaskForm):
    version = IntegerField(validators=[Optional()])
    visited_on = DateField(_l("家访日期"), default=_today, validators=[InputRequired()])
    visitors = StringField(_l("家访人员"), validators=[DataRequired(), Length(max=255)])
    form = SelectField(_l("形式"), choices=labelled(VISIT_FORMS))
    findings = TextAreaField(_l("家访情况"), validators=[DataRequired(), Length(max=4000)])
    outcome = TextAreaField(_l("结果"), validators=[Optional(), Length(max=2000)])
    next_action = TextAreaField(_l("下一步措施"), validators=[Optional(), Length(max=2000)])


class ServiceForm(FlaskForm):
    version = IntegerField(validators=[DataRequired()])
    letter_id = IntegerField(validators=[DataRequired()])
    served_on = DateField(_l("送达日期"), default=_today, validators=[InputRequired()])
    manner = SelectField(_l("送达方式"), choices=labelled(SERVICE_MANNERS))
    served_to = StringField(_l("受送达人"), validators=[DataRequired(), Length(max=64)])
    served_by = StringField(_l("送达人"), validators=[DataRequired(), Length(max=128)])


class GuardianForm(FlaskForm):
    name = StringField(_l("监护人姓名"), validators=[DataRequired(), Length(max=64)])
    relation = StringField(_l("与学生关系"), validators=[Optional(), Length(max=16)])
    phone = StringField(_l("联系电话"), validators=[Optional(), Length(max=32)])
    address = StringField(_l("住址"), validators=[Optional(), Length(max=255)])
    id_number = StringField(_l("身份证号"), validators=[Optional(), Length(max=18)])


class AddressesForm(FlaskForm):
    """The first guardian's address and ID number, and the child's address (the party
    of the penalty letters: 行政处罚法 Art. 59 (一); 行政强制法 Art. 55)."""

    guardian_address = StringField(_l("监护人住址"), validators=[Optional(), Length(max=255)])
    guardian_id_number = StringField(_l("监护人身份证号"), validators=[Optional(), Length(max=18)])
    child_address = StringField(_l("学生住址"), validators=[Optional(), Length(max=255)])


class CorrectServiceForm(FlaskForm):
    version = IntegerField(validators=[DataRequired()])
    letter_id = IntegerField(validators=[DataRequired()])
    served_on = DateField(_l("正确的送达日期"), validators=[InputRequired()])
    manner = SelectField(_l("送达方式"), choices=labelled(SERVICE_MANNERS))
    reason = StringField(_l("更正理由"), validators=[DataRequired(), Length(max=500)])


class VoidLetterForm(FlaskForm):
    version = IntegerField(validators=[DataRequired()])
    letter_id = IntegerField(validators=[DataRequired()])
    reason = StringField(_l("作废理由"), validators=[DataRequired(), Length(max=500)])


class ReturnContactForm(FlaskForm):
    """The cases one 劝返联系函 is issued for, and its date (today when empty)."""

    case_id = SelectMultipleField(_l("个案"), coerce=int, validate_choice=False)
    on = DateField(_l("日期"), validators=[Optional()])


class AssignmentForm(FlaskForm):
    """Add, change or end (``end`` with ``ended_on``) a responsible person (包保责任人)."""

    version = IntegerField(validators=[Optional()])
    role = StringField(_l("角色"), validators=[Optional(), Length(max=16)])
    name = StringField(_l("姓名"), validators=[Optional(), Length(max=64)])
    phone = StringField(_l("电话"), validators=[Optional(), Length(max=32)])
    end = StringField(validators=[Optional()])
    ended_on = DateField(_l("终止日期"), validators=[Optional()])


class ReasonForm(FlaskForm):
    """Correct the 辍学原因 of a case (and its note)."""

    version = IntegerField(validators=[Optional()])
    reason = StringField(_l("辍学原因"), validators=[Optional(), Length(max=16)])
    reason_note = TextAreaField(_l("情况说明"), validators=[Optional(), Length(max=2000)])
