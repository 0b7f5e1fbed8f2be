"""Chinese wording of marshmallow's built-in validation messages, so a refusal never
reaches a clerk in English.

marshmallow documents ``default_error_messages`` and the validators' ``message_*``
attributes as the way to change its defaults. Fields and validators copy them when a
schema class is created, so :func:`install` runs when the ``edu_guard`` package is
imported, before any schema module. Messages a schema sets itself
(``error_messages=…``) still win.

Each message is a :class:`Template`: a ``str`` (Chinese, so code that reads
marshmallow's messages as text keeps working) that remembers its catalogue id, so a
page can show it in the reader's language. marshmallow formats a message with
``msg.format(**kwargs)`` (only when it is a ``str``); :meth:`Template.format` keeps the
id and the arguments, and :func:`edu_guard.registry.normalize.as_message` turns the
result into an :class:`edu_guard.i18n.Message` (this module sits below
:mod:`edu_guard.i18n` and cannot import it).
"""

from __future__ import annotations

from marshmallow import fields, validate


def N_(text: str) -> str:  # noqa: N802 - pybabel's marker (edu_guard.i18n.N_ sits above this module)
    """Return ``text`` unchanged; ``pybabel extract -k N_`` collects it for the catalogue."""
    return text


class _Partial(dict):
    """Arguments of a message formatted in two steps (``Range``): a placeholder not yet
    given stays as it is."""

    def __missing__(self, key):
        return "%(" + key + ")s"


class Template(str):
    """A message kept as its catalogue id (``%(name)s`` placeholders) and arguments; its
    text is the Chinese.

    :meth:`format` (how marshmallow fills a message) returns a new Template with the
    arguments added, so the id survives marshmallow; ``Template("…%(x)s", x=1)`` is
    what a module below :mod:`edu_guard.i18n` raises (:mod:`edu_guard.textfile`).

    :ivar msgid: the catalogue id.
    :ivar args: the arguments (values may be Templates themselves).
    """

    msgid: str
    args: dict

    def __new__(cls, msgid: str, /, **args):
        text = msgid % _Partial({k: str(v) for k, v in args.items()}) if args else msgid
        self = super().__new__(cls, text)
        self.msgid, self.args = str(msgid), args
        return self

    def format(self, *unused, **kwargs) -> "Template":  # marshmallow: ``msg.format(**kwargs)``
        return Template(self.msgid, **{**self.args, **kwargs})

    def __reduce__(self):
        return _template, (self.msgid, self.args)


def _template(msgid: str, args: dict) -> Template:
    return Template(msgid, **args)


#: Field class → its messages (marshmallow's keys).
FIELD_MESSAGES = {
    fields.Field: {"required": N_("不能为空"), "null": N_("不能为空"), "validator_failed": N_("无效")},
    fields.String: {"invalid": N_("应为文字"), "invalid_utf8": N_("不是有效的文字")},
    fields.Number: {"invalid": N_("不是有效的数字"), "too_large": N_("数字太大")},
    fields.Integer: {"invalid": N_("应为整数")},
    fields.Decimal: {"special": N_("不是有效的数字（不能为 NaN 或无穷大）")},
    fields.Boolean: {"invalid": N_("应为“是”或“否”")},
    fields.Date: {"invalid": N_("不是有效的日期（应为 YYYY-MM-DD）"), "format": N_("“%(input)s”不是日期")},
    fields.DateTime: {"invalid": N_("不是有效的日期时间"), "format": N_("“%(input)s”不是日期时间")},
    fields.Time: {"invalid": N_("不是有效的时间（应为 HH:MM）"), "format": N_("“%(input)s”不是时间")},
    fields.List: {"invalid": N_("应为列表")},
    fields.Nested: {"type": N_("格式无效")},
    fields.Email: {"invalid": N_("不是有效的电子邮件地址")},
}

#: Validator class → attribute → message (marshmallow's placeholders as ``%(name)s``, filled by
#: :meth:`Template.format`).
VALIDATOR_MESSAGES = {
    validate.Length: {
        "message_min": N_("长度不能少于 %(min)s 个字符"),
        "message_max": N_("长度不能超过 %(max)s 个字符"),
        "message_all": N_("长度应在 %(min)s 到 %(max)s 个字符之间"),
        "message_equal": N_("长度应为 %(equal)s 个字符"),
    },
    validate.Range: {
        "message_min": N_("应%(min_op)s %(min)s"),
        "message_max": N_("应%(max_op)s %(max)s"),
        "message_all": N_("应%(min_op)s %(min)s 且%(max_op)s %(max)s"),
        "message_gte": N_("大于或等于"),
        "message_gt": N_("大于"),
        "message_lte": N_("小于或等于"),
        "message_lt": N_("小于"),
    },
    validate.OneOf: {"default_message": N_("“%(input)s”不是可选值（可选：%(choices)s）")},
    validate.Regexp: {"default_message": N_("格式不正确")},
    validate.Equal: {"default_message": N_("应为 %(other)s")},
}


def install() -> None:
    """Set the Chinese messages on marshmallow's classes (idempotent)."""
    for cls, messages in FIELD_MESSAGES.items():
        cls.default_error_messages = {**cls.default_error_messages,
                                      **{key: Template(text) for key, text in messages.items()}}
    for cls, attrs in VALIDATOR_MESSAGES.items():
        for name, text in attrs.items():
            if hasattr(cls, name):
                setattr(cls, name, Template(text))
