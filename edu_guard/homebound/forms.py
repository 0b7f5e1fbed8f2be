"""Flask-WTF forms of the 送教上门 pages (CSRF on every form)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import MultipleFileField
from wtforms import BooleanField, DateField, SelectField, SelectMultipleField, StringField, TextAreaField, TimeField
from wtforms.validators import DataRequired, Length, Optional, InputRequired

from edu_guard import clock
from edu_guard.homebound.models import CONTENT_AREAS
from edu_guard.i18n import labelled


def _today():
    """The county's today (:func:`edu_guard.clock.today`), looked up when a form is built."""
    return clock.today()


class PlaceForm(FlaskForm):
    school = SelectField(_l("学籍学校（送教学校）"), choices=[], validators=[DataRequired()])
    assessed_on = DateField(_l("专家委员会评估日期"), validators=[InputRequired()])
    assessment = TextAreaField(_l("评估结论"), validators=[DataRequired(), Length(max=4000)],
                               default="经县特殊教育专家委员会评估，该生因残疾程度重，不能到校就读，建议送教上门。")
    certificate_number = StringField(_l("残疾人证号"), validators=[Optional(), Length(max=20)])
    teachers = StringField(_l("送教教师（用、分隔）"), validators=[DataRequired(), Length(max=255)])
    starts_on = DateField(_l("送教开始日期"), validators=[InputRequired()])
    ends_on = DateField(_l("送教结束日期"), validators=[Optional()])
    guardian_name = StringField(_l("监护人"), validators=[Optional(), Length(max=64)])
    guardian_phone = StringField(_l("监护人电话"), validators=[Optional(), Length(max=32)])


class PlanForm(FlaskForm):
    school_year = StringField(_l("学年（如 2020-2021）"), validators=[DataRequired(), Length(max=9)])
    made_on = DateField(_l("制定日期"), default=_today, validators=[InputRequired()])
    goals = TextAreaField(_l("目标（每行一条：领域：目标）"), validators=[DataRequired(), Length(max=8000)],
                          description="领域：" + "、".join(CONTENT_AREAS))


class SessionForm(FlaskForm):
    held_on = DateField(_l("送教日期"), default=_today, validators=[InputRequired()])
    starts_at = TimeField(_l("开始时间"), validators=[DataRequired()])
    ends_at = TimeField(_l("结束时间"), validators=[DataRequired()])
    teachers = StringField(_l("送教教师"), validators=[DataRequired(), Length(max=255)])
    content_areas = SelectMultipleField(_l("内容领域"), choices=labelled(CONTENT_AREAS), validators=[DataRequired()])
    progress = TextAreaField(_l("进展情况"), validators=[DataRequired(), Length(max=4000)])
    guardian_confirmed = BooleanField(_l("监护人已签字确认"))
    guardian_name = StringField(_l("确认的监护人"), validators=[Optional(), Length(max=64)])
    attachments = MultipleFileField(_l("附件（JPG、PNG、PDF）"))


class EndForm(FlaskForm):
    ends_on = DateField(_l("结束日期"), default=_today, validators=[InputRequired()])
