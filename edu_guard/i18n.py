"""Marking labels for translation where they are defined (界面文字的翻译标记).

Labels kept in Python tables (case states and steps, report columns, role names …) are
Chinese strings used as data too (Excel headers, letters, the CLI). :func:`N_` marks
them for ``pybabel extract -k N_`` without changing them; a page translates them
when it shows them (``{{ _(state.label) }}``, :func:`flask_babel.gettext`).
"""

from __future__ import annotations


def N_(text: str) -> str:  # noqa: N802 - the customary name of the no-op marker
    """Return ``text`` unchanged; ``pybabel extract -k N_`` collects it for the catalogue."""
    return text
