"""Marking labels for translation where they are defined (界面文字的翻译标记).

Labels kept in Python tables (case states and steps, report columns, role names …) are
Chinese strings used as data too (Excel headers, letters, the CLI). :func:`N_` marks
them for ``pybabel extract -k N_`` without changing them; a page translates them
when it shows them (``{{ _(state.label) }}``, :func:`flask_babel.gettext`).

:class:`Punctuation` gives English pages English punctuation where a template puts
full-width marks between translated words and data.

:class:`Message` is a sentence built in a service (a refusal, an import's reject
reason, a job's summary) kept as its catalogue id and arguments, so it is shown in the
reader's language: when it is raised, when it is stored and read back days later, and
in the CLI (Chinese). :class:`MessageJSON` and :class:`MessageText` are the column
types that keep it in the database.
"""

from __future__ import annotations

import json
import re
from collections import UserString

import sqlalchemy as sa
from flask import has_app_context
from flask_babel import get_locale, gettext, lazy_gettext
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


# --- sentences built in services (服务层提示的翻译) ----------------------------------

#: The key that marks a stored :class:`Message` in JSON.
KEY = "_msg"


class Message(UserString):
    """A sentence for a user, kept as its catalogue id and arguments and put into the
    reader's language each time it is shown (用户提示).

    ``Message("第%(row)s行：%(reason)s", row=5, reason=Message("不能为空"))``: the
    id is the Chinese source text (``pybabel extract -k Message`` collects it); the
    arguments fill its ``%(name)s`` placeholders and may be Messages themselves.
    ``str()``, ``==``, ``in``, ``+`` and every ``str`` method work on the text in the
    current interface language: the request's (Flask-Babel), Chinese outside a request
    (the CLI, the queue's worker, a service called in a test). An exception raised with
    one (``raise CaseError(Message(…))``) reads in the language of whoever sees it.

    Arguments are kept as JSON values: numbers and text as they are, other values
    (dates, ``Decimal`` yuan) as their ``str()``, which is what ``%(x)s`` shows anyway.
    A Message is stored with :meth:`to_json` (or the :class:`MessageJSON` /
    :class:`MessageText` column types) and read back with :func:`from_json`.
    """

    def __init__(self, msgid: str, /, **args):
        self.msgid = str(msgid)
        self.args = {name: _keep(value) for name, value in args.items()}
        self.parts: list | None = None
        self.sep = ""

    @classmethod
    def join(cls, parts, sep: str = "；") -> "Message":
        """One Message of ``parts`` (Messages or text) joined by ``sep``; a full-width
        ``sep`` (``；``, ``，``, ``、``) is written the English way on English pages.
        Empty parts are left out."""
        joined = cls("")
        joined.parts = [_keep(p) for p in parts if p not in (None, "")]
        joined.sep = sep
        return joined

    @property
    def data(self) -> str:  # UserString's text: rendered in the current language
        return self.render(_locale())

    def render(self, locale: str) -> str:
        """The text in ``locale`` (``"zh"``: the Chinese source, no catalogue)."""
        chinese = str(locale).startswith("zh")
        if self.parts is not None:
            sep = self.sep if chinese else punctuation_for(locale).get(self.sep, self.sep)
            return sep.join(p.render(locale) if isinstance(p, Message) else str(p) for p in self.parts)
        text = self.msgid if chinese else gettext(self.msgid)
        if self.args:
            text = text % {k: v.render(locale) if isinstance(v, Message) else v for k, v in self.args.items()}
        return text

    def chinese(self) -> str:
        """The Chinese text whatever the interface language: what an official letter,
        a 公示 or a workbook a bank or a superior reads must say."""
        return self.render("zh")

    def to_json(self) -> dict:
        """The Message as JSON values: ``{"_msg": id, "args": {…}}`` (or the parts of a
        :meth:`join`), nested Messages included."""
        if self.parts is not None:
            return {KEY: None, "join": [to_json(p) for p in self.parts], "sep": self.sep}
        return {KEY: self.msgid, "args": {k: to_json(v) for k, v in self.args.items()}}

    def __reduce__(self):  # pickled (a queue's exception) as its JSON, not its text
        return from_json, (self.to_json(),)

    def __repr__(self) -> str:
        return f"Message({self.data!r})"


def _locale() -> str:
    """The interface language now: the request's, else ``zh`` (CLI, worker, tests)."""
    if not has_app_context():
        return "zh"
    return str(get_locale() or "zh")


def _keep(value):
    """An argument as a JSON value: a Message, text, a whole number or ``None`` as it is;
    anything else (a date, ``Decimal`` yuan) as its ``str()``, which ``%(x)s`` shows."""
    if value is None or isinstance(value, (Message, bool, int, str)):
        return value
    return str(value)


def to_json(value):
    """``value`` with every :class:`Message` in it (in dicts and lists, at any depth)
    replaced by its JSON form; anything else unchanged."""
    if isinstance(value, Message):
        return value.to_json()
    if isinstance(value, dict):
        return {k: to_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_json(v) for v in value]
    return value


def from_json(value):
    """The inverse of :func:`to_json`: every stored Message (a dict with ``"_msg"``)
    becomes a :class:`Message` again; plain text (rows written before Messages were
    stored) stays text."""
    if isinstance(value, dict):
        if KEY in value:
            if value[KEY] is None:
                return Message.join([from_json(p) for p in value.get("join", [])], value.get("sep", ""))
            return Message(value[KEY], **{k: from_json(v) for k, v in (value.get("args") or {}).items()})
        return {k: from_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [from_json(v) for v in value]
    return value


def message_of(exc: BaseException) -> "Message | str":
    """What a refusal says, kept translatable: its :class:`Message`, or its text."""
    if len(exc.args) == 1 and isinstance(exc.args[0], Message):
        return exc.args[0]
    return str(exc)


class MessageJSON(sa.types.TypeDecorator):
    """A JSON column whose values may hold :class:`Message` objects (an import's reject
    reasons, a job's summary): they are stored as :func:`to_json` and read back as
    Messages (:func:`from_json`), so they are shown in the reader's language. The
    database type is plain JSON."""

    impl = sa.JSON
    cache_ok = True

    def process_bind_param(self, value, dialect):
        return to_json(value)

    def process_result_value(self, value, dialect):
        return from_json(value)


class MessageText(sa.types.TypeDecorator):
    """A text column that may hold a :class:`Message` (a job's failure): stored as its
    JSON text, read back as a Message; other text is kept and read as it is."""

    impl = sa.Text
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if isinstance(value, Message):
            return json.dumps(value.to_json(), ensure_ascii=False)
        return None if value is None else str(value)

    def process_result_value(self, value, dialect):
        if value and value.startswith("{\"" + KEY + "\""):
            try:
                return from_json(json.loads(value))
            except ValueError:
                return value
        return value
