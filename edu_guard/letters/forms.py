"""Flask-WTF forms of the letter pages (文书表单)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectMultipleField


class PrintRunForm(FlaskForm):
    """The letters to print in one run."""

    letter_id = SelectMultipleField(_l("文书"), coerce=int, validate_choice=False)
