"""Marking labels for translation where they are defined (界面文字的翻译标记).

Labels kept in Python tables (case states and steps, report columns, role names …) are
Chinese strings used as data too (Excel headers, letters, the CLI). :func:`N_` marks
them for ``pybabel extract -k N_`` without changing them; a page translates them
when it shows them (``{{ _(state.label) }}``, :func:`flask_babel.gettext`).

:class:`Punctuation` gives English pages English punctuation where a template puts
full-width marks between translated words and data.
"""

from __future__ import annotations

import re

from flask_babel import get_locale, lazy_gettext
from jinja2.ext import Extension
from wtforms import SelectChoice


def N_(text: str) -> str:  # noqa: N802 - the customary name of the no-op marker
    """Return ``text`` unchanged; ``pybabel extract -k N_`` collects it for the catalogue."""
    return text


def labelled(values, empty: str | None = None) -> list[SelectChoice]:
    """Select choices for Chinese values kept as data (reasons, roles, forms of visit …,
    marked with :func:`N_`): the value stays Chinese, the label is translated when the
    form is shown. ``empty`` puts a first choice of value ``""`` with that label.

    :return: ``[SelectChoice(value, lazy label), …]`` for a WTForms ``SelectField``.
    """
    head = [SelectChoice("", empty)] if empty is not None else []
    return head + [SelectChoice(value, lazy_gettext(value)) for value in values]


# --- full-width punctuation in templates (中文标点与英文界面) ------------------------

#: Full-width punctuation written in templates between translated words and data
#: (``{{ _('统计期') }}：{{ start }}``) and what an English page shows instead.
FULL_WIDTH = {"（": " (", "）": ")", "：": ": ", "，": ", ", "；": "; ", "、": ", "}

#: Templates that are official Chinese documents whatever the interface language (the
#: letters per GB/T 9704, the 公示): their punctuation is never changed.
CHINESE_ONLY = ("letters/", "aid/notice")
#: Template pages under ``letters/`` that are interface pages, not documents.
INTERFACE_LETTER_PAGES = ("letters/detail.html", "letters/list.html")

_TAG = re.compile(r"(\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\})", re.S)
_MARKS = re.compile("[" + "".join(FULL_WIDTH) + "]")


def punctuation_for(locale: str) -> dict[str, str]:
    """The mapping :func:`punct` applies for ``locale`` (none for Chinese)."""
    return {} if str(locale).startswith("zh") else FULL_WIDTH


class Punctuation(Extension):
    """A Jinja extension: full-width punctuation written in a template's own text
    becomes ``{{ punct('：') }}``, which is ``：`` on Chinese pages and ``: `` on English
    ones, so "统计期：" reads "Reporting period: " and not "Reporting period：".

    Only the template's literal text is touched — never data (names, addresses and
    notes typed by users keep their punctuation, also in form fields), nor
    expressions, nor ``{% trans %}`` blocks — and never the official documents
    (:data:`CHINESE_ONLY`). The page asks :func:`punct` through the ``punct``
    global, which reads Flask-Babel's locale at render time.
    """

    def preprocess(self, source: str, name: str | None, filename: str | None = None) -> str:
        """Rewrite the literal text of template ``name`` (Jinja's hook, before parsing)."""
        if name and name.startswith(CHINESE_ONLY) and name not in INTERFACE_LETTER_PAGES:
            return source
        out, in_trans = [], False
        for part in _TAG.split(source):
            if _TAG.fullmatch(part):
                words = part.strip("{%-+ ").split()
                if part.startswith("{%") and words:
                    in_trans = words[0] == "trans" or (in_trans and words[0] != "endtrans")
                out.append(part)
            elif in_trans:
                out.append(part)
            else:
                out.append(_MARKS.sub(lambda m: "{{ punct('" + m.group(0) + "') }}", part))
        return "".join(out)


def punct(mark: str) -> str:
    """``mark`` (full-width) as the current interface language writes it."""
    return punctuation_for(get_locale() or "zh").get(mark, mark)
