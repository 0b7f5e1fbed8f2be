"""Chinese wording of marshmallow's built-in validation messages, so a refusal never
reaches a clerk in English.

marshmallow documents ``default_error_messages`` and the validators' ``message_*``
attributes as the way to change its defaults. Fields and validators copy them when a
schema class is created, so :func:`install` runs when the ``edu_guard`` package is
imported, before any schema module. Messages a schema sets itself
(``error_messages=…``) still win.
"""

from __future__ import annotations

from marshmallow import fields, validate

#: Field class → its messages (marshmallow's keys).
FIELD_MESSAGES = {
    fields.Field: {"required": "不能为空", "null": "不能为空", "validator_failed": "无效"},
    fields.String: {"invalid": "应为文字", "invalid_utf8": "不是有效的文字"},
    fields.Number: {"invalid": "不是有效的数字", "too_large": "数字太大"},
    fields.Integer: {"invalid": "应为整数"},
    fields.Decimal: {"special": "不是有效的数字（不能为 NaN 或无穷大）"},
    fields.Boolean: {"invalid": "应为“是”或“否”"},
    fields.Date: {"invalid": "不是有效的日期（应为 YYYY-MM-DD）", "format": "“{input}”不是日期"},
    fields.DateTime: {"invalid": "不是有效的日期时间", "format": "“{input}”不是日期时间"},
    fields.Time: {"invalid": "不是有效的时间（应为 HH:MM）", "format": "“{input}”不是时间"},
    fields.List: {"invalid": "应为列表"},
    fields.Nested: {"type": "格式无效"},
    fields.Email: {"invalid": "不是有效的电子邮件地址"},
}

#: Validator class → attribute → message (marshmallow's placeholders kept).
VALIDATOR_MESSAGES = {
    validate.Length: {
        "message_min": "长度不能少于 {min} 个字符",
        "message_max": "长度不能超过 {max} 个字符",
        "message_all": "长度应在 {min} 到 {max} 个字符之间",
        "message_equal": "长度应为 {equal} 个字符",
    },
    validate.Range: {
        "message_min": "应{min_op} {{min}}",
        "message_max": "应{max_op} {{max}}",
        "message_all": "应{min_op} {{min}} 且{max_op} {{max}}",
        "message_gte": "大于或等于",
        "message_gt": "大于",
        "message_lte": "小于或等于",
        "message_lt": "小于",
    },
    validate.OneOf: {"default_message": "“{input}”不是可选值（可选：{choices}）"},
    validate.Regexp: {"default_message": "格式不正确"},
    validate.Equal: {"default_message": "应为 {other}"},
}


def install() -> None:
    """Set the Chinese messages on marshmallow's classes (idempotent)."""
    for cls, messages in FIELD_MESSAGES.items():
        cls.default_error_messages = {**cls.default_error_messages, **messages}
    for cls, attrs in VALIDATOR_MESSAGES.items():
        for name, text in attrs.items():
            if hasattr(cls, name):
                setattr(cls, name, text)
