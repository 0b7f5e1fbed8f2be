"""Flask-WTF forms of the comparison pages (比对表单)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, SelectField, SelectMultipleField, StringField
from wtforms.validators import Length, Optional

from edu_guard.cases.models import REASONS
from edu_guard.i18n import labelled


class OpenCasesForm(FlaskForm):
    """Open cases for the ticked rows (``row_id``), or every row of a flagged category
    (``all_of``), with the 辍学原因 they start with (the category's by default)."""

    row_id = SelectMultipleField(_l("比对行"), coerce=int, validate_choice=False)
    all_of = StringField(_l("类别"), validators=[Optional(), Length(max=24)])
    reason = SelectField(_l("辍学原因"), choices=labelled(REASONS, empty=""), validators=[Optional()])
    category = StringField(validators=[Optional(), Length(max=24)])  # the list's filter, to return to


class CloseRowForm(FlaskForm):
    """Close (销号) a suspected-dropout ledger entry: why and when (today when empty)."""

    reason = StringField(_l("销号原因"), validators=[Optional(), Length(max=255)])  # the service refuses an empty one
    on = DateField(_l("销号日期"), validators=[Optional()])
    next = StringField(validators=[Optional()])
