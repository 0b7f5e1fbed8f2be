"""The built-in plugin of student aid (学生资助): contributes the payee accounts'
workbook as an import format (``import_formats``), so the registry's import page and
``edu-guard import accounts`` read it without the registry importing aid."""

from __future__ import annotations

from edu_guard.aid.account_import import AccountsImporter
from edu_guard.hookspecs import hookimpl


@hookimpl
def import_formats():
    """The clerk's workbook of payee accounts (:class:`AccountsImporter`)."""
    return [AccountsImporter]
