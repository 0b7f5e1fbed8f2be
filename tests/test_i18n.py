"""Translation hygiene (界面文字的翻译): every message a user reads goes through the
catalogue, so ``pybabel extract`` finds it and the English interface shows it in English.

Babel extracts only literal strings: ``flash(f"已立案：{name}")`` or ``_(f"…{x}")`` can
never be translated (the literal differs with every value). Messages are written
``_("已立案：%(name)s", name=…)`` instead; this test scans the source (an AST walk of
``edu_guard/`` and ``plugins/``) and names every place that breaks the rule.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[1]
SOURCES = [p for folder in ("edu_guard", "plugins") for p in sorted((ROOT / folder).rglob("*.py"))
           if ".venv" not in p.parts and "node_modules" not in p.parts]
#: The marker functions (Flask-Babel's and :func:`edu_guard.i18n.N_`): their message must be a literal.
MARKERS = {"_", "gettext", "ngettext", "lazy_gettext", "_l", "N_", "pgettext", "lazy_ngettext", "Message"}
#: Functions that show their message to the user as it is (a flash, or a success flashed later).
SHOWN = {"flash", "run_or_flash", "_run"}
#: WTForms validators whose message a user reads.
VALIDATORS = {"DataRequired", "InputRequired", "Optional", "Length", "NumberRange", "Regexp", "Email", "EqualTo",
              "AnyOf", "NoneOf", "FileAllowed", "FileRequired", "FileSize"}
HAN = re.compile(r"[\u4e00-\u9fff]")
CATALOGUE = ROOT / "edu_guard" / "translations" / "en" / "LC_MESSAGES"


def _name(call: ast.Call) -> str | None:
    func = call.func
    return func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else None


def _dynamic(node: ast.AST) -> bool:
    """An f-string, a concatenation, ``%`` or ``.format`` of a string: built at run time."""
    if isinstance(node, ast.JoinedStr):
        return True
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Mod)):
        return True
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "format"


def _has_han(node: ast.AST) -> bool:
    return any(isinstance(n, ast.Constant) and isinstance(n.value, str) and HAN.search(n.value) for n in ast.walk(node))


#: Modules whose refusals only a terminal shows (the CLI, start-up, backup): they speak
#: Chinese like the CLI and may raise with plain text.
TERMINAL_ONLY = re.compile(r"(^|/)(\w*cli(_util)?|backup|config|app|plugins|serve)\.py$")


def _raises_plain_text(node: ast.Raise) -> bool:
    """``raise XError("中文…")`` or ``raise XError(f"…{x}…")``: a refusal a page shows,
    fixed in Chinese (it must be ``raise XError(Message("…%(x)s", x=x))``)."""
    exc = node.exc
    if not isinstance(exc, ast.Call) or not exc.args:
        return False
    first = exc.args[0]
    if isinstance(first, ast.Call):
        return False  # Message(…), _(…) or a helper that builds one
    return _has_han(first)


def untranslatable(source: str, filename: str = "<source>") -> list[str]:
    """Places in ``source`` where a user's message escapes the catalogue, as ``line: why``."""
    found = []
    terminal = bool(TERMINAL_ONLY.search(filename.replace("\\", "/")))
    for node in ast.walk(ast.parse(source, filename)):
        if isinstance(node, ast.Raise) and not terminal and _raises_plain_text(node):
            found.append(f"{node.lineno}: raise with Chinese text fixed at the raise; write "
                         f"raise …Error(Message(\"… %(x)s\", x=…)) so a page shows it in its language")
            continue
        if not isinstance(node, ast.Call):
            continue
        name = _name(node)
        if name in MARKERS and node.args and _dynamic(node.args[0]):
            found.append(f"{node.lineno}: {name}() of a string built at run time; write "
                         f"_(\"… %(x)s\", x=…) so Babel can extract it")
        elif name and name.endswith("Field") or name in VALIDATORS:
            labels = ([node.args[0]] if name.endswith("Field") and node.args else []) + [
                k.value for k in node.keywords if k.arg in ("label", "message", "description")]
            if name in VALIDATORS:
                labels += list(node.args)
            if any(isinstance(a, ast.Constant) and isinstance(a.value, str) and HAN.search(a.value) for a in labels):
                found.append(f"{node.lineno}: {name}() has a Chinese label or message not wrapped in _l()")
        elif name in SHOWN:
            for arg in [*node.args, *(k.value for k in node.keywords)]:
                if (isinstance(arg, ast.Constant) and isinstance(arg.value, str) and HAN.search(arg.value)) or (
                        _dynamic(arg) and _has_han(arg)) or (isinstance(arg, ast.IfExp) and _has_han(arg.body)
                                                            and not isinstance(arg.body, ast.Call)):
                    found.append(f"{node.lineno}: {name}() shows Chinese text not wrapped in _()")
                    break
    return sorted(found, key=lambda f: int(f.split(":")[0]))


def test_the_scanner_catches_what_babel_cannot_extract():
    bad = 'flash(f"已立案：{name}")\nflash("已保存", "success")\n_(f"第{n}步")\nflash(_("已立案：" + name))\n' \
          '_run(lambda: 1, "已终止包保")\nflash("x {}".format(1) + "中")\n' \
          'name = StringField("姓名")\ncode = StringField(_l("代码"), validators=[Length(max=2, message="太长")])\n'
    assert [line.split(":")[0] for line in untranslatable(bad)] == ["1", "2", "3", "4", "5", "6", "7", "8"]
    raises = 'raise CaseError("尚无家访记录")\nraise CaseError(f"第{n}行有误")\nraise AidError(Message(f"第{n}行"))\n' \
             'raise CaseError(Message("第%(n)s行有误", n=n))\nraise ValueError("bad")\n'
    assert [line.split(":")[0] for line in untranslatable(raises, "edu_guard/cases/services.py")] == ["1", "2", "3"]
    assert [line.split(":")[0] for line in untranslatable(raises, "edu_guard/cases/cli.py")] == ["3"]
    good = ('flash(_("已立案：%(name)s", name=name), "success")\nflash(str(exc), "error")\n'
            '_run(lambda: 1, _("已终止包保"))\nflash(form_errors(form), "error")\n'
            'name = StringField(_l("姓名"), validators=[Length(max=2, message=_l("太长"))])\n')
    assert untranslatable(good) == []


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(ROOT)))
def test_messages_are_literal_and_wrapped(path):
    found = untranslatable(path.read_text(encoding="utf-8"), str(path))
    assert not found, f"{path.relative_to(ROOT)}:\n  " + "\n  ".join(found)


def test_english_catalogue_is_complete_and_compiled():
    """Every entry of the English catalogue has a translation (no empty msgstr, no fuzzy
    guess), its ``%(name)s`` placeholders are those of the Chinese, and the compiled
    ``messages.mo`` the app loads holds the same translations (it is compiled from the
    .po and committed; `pybabel compile -d edu_guard/translations`)."""
    with open(CATALOGUE / "messages.po", "rb") as f:
        po = read_po(f, locale="en")
    missing = [m.id for m in po if m.id and not (m.string if isinstance(m.string, str) else all(m.string))]
    fuzzy = [m.id for m in po if m.id and m.fuzzy]
    assert not missing, f"{len(missing)} untranslated, e.g. {missing[:5]}"
    assert not fuzzy, f"{len(fuzzy)} fuzzy, e.g. {fuzzy[:5]}"
    placeholder = re.compile(r"%\((\w+)\)s")
    for m in po:
        if m.id and isinstance(m.id, str):
            assert set(placeholder.findall(m.id)) == set(placeholder.findall(m.string)), m.id
    with open(CATALOGUE / "messages.mo", "rb") as f:
        mo = read_mo(f)
    stale = [m.id for m in po if m.id and (mo.get(m.id, m.context) is None or mo.get(m.id, m.context).string != m.string)]
    assert not stale, f"messages.mo is older than messages.po ({len(stale)} differ, e.g. {stale[:3]}): recompile"


def test_english_pages_get_english_punctuation_and_data_keeps_its_own(app):
    """The template's own full-width marks follow the page's language; values (a
    township's name with its brackets, a note typed with Chinese commas) never change."""
    from flask import render_template_string

    template = "{{ _('统计期') }}：{{ start }}（{{ place }}）"
    with app.test_request_context("/?lang=en"):
        assert render_template_string(template, start="2021-03-01", place="勐罕镇（曼听），傣族") == \
            "Reporting period: 2021-03-01 (勐罕镇（曼听），傣族)"
        assert render_template_string("<input value=\"{{ v }}\">", v="甲，乙") == '<input value="甲，乙">'
    with app.test_request_context("/?lang=zh"):
        assert render_template_string(template, start="2021-03-01", place="勐罕镇") == "统计期：2021-03-01（勐罕镇）"


def test_official_documents_keep_chinese_punctuation(app):
    from edu_guard.i18n import Punctuation

    ext = Punctuation(app.jinja_env)
    assert ext.preprocess("当事人：{{ name }}，", "letters/demand.html") == "当事人：{{ name }}，"
    assert ext.preprocess("公示期：{{ d }}", "aid/notice.html") == "公示期：{{ d }}"
    assert "punct('：')" in ext.preprocess("文书：{{ n }}", "letters/list.html")  # an interface page
    assert ext.preprocess("{% trans %}甲：乙{% endtrans %}", "x.html") == "{% trans %}甲：乙{% endtrans %}"


# --- Message: sentences built in services ------------------------------------------


def test_a_message_reads_in_the_language_of_whoever_shows_it(app):
    from edu_guard.i18n import Message

    msg = Message("%(day)s 属于已结束的%(term)s：按补录办理，期限和条件按该日期计算", day="2021-03-10", term="2021年春季学期")
    assert str(msg) == "2021-03-10 属于已结束的2021年春季学期：按补录办理，期限和条件按该日期计算"  # no request: Chinese
    with app.test_request_context("/?lang=en"):
        assert str(msg).startswith("2021-03-10 falls in 2021年春季学期, which has ended")
        assert "falls in" in msg and msg == str(msg)
        joined = Message.join([Message("请求无效。"), "甲"])
        assert str(joined) == "Bad request.; 甲"
    with app.test_request_context("/?lang=zh"):
        assert str(joined) == "请求无效。；甲"
        assert str(Message("请求无效。")) == "请求无效。"


def test_a_message_is_stored_and_read_back_translatable(app):
    import pickle
    from datetime import date
    from decimal import Decimal

    from edu_guard.i18n import Message, MessageText, from_json, to_json

    msg = Message("%(day)s 属于已结束的%(term)s：按补录办理，期限和条件按该日期计算", day=date(2021, 3, 10),
                  term=Message("请求无效。"))
    stored = to_json({"rejects": [{"row": 3, "reason": msg}], "total": Decimal("1.50")})
    assert stored["rejects"][0]["reason"] == {"_msg": msg.msgid, "args": {"day": "2021-03-10",
                                                                          "term": {"_msg": "请求无效。", "args": {}}}}
    back = from_json(stored)["rejects"][0]["reason"]
    with app.test_request_context("/?lang=en"):
        assert str(back).startswith("2021-03-10 falls in Bad request., which has ended")
        assert str(pickle.loads(pickle.dumps(msg))) == str(back)
    column = MessageText()
    text = column.process_bind_param(msg, None)
    assert column.process_result_value(text, None) == str(msg)
    assert isinstance(column.process_result_value(text, None), Message)
    assert column.process_result_value("旧的说明", None) == "旧的说明"  # text written before stays text


def test_a_refusal_raised_with_a_message_reads_in_the_page_language(app):
    from edu_guard.i18n import Message, message_of

    exc = ValueError(Message("请求无效。"))
    assert str(exc) == "请求无效。"
    with app.test_request_context("/?lang=en"):
        assert str(exc) == "Bad request."
    assert message_of(exc) is exc.args[0]
    assert message_of(ValueError("x")) == "x"


def test_a_message_goes_into_json_and_a_flash_as_text(app):
    from flask import flash, get_flashed_messages, json

    from edu_guard.i18n import Message

    with app.test_request_context("/?lang=en"):
        assert json.dumps({"error": Message("请求无效。")}) == '{"error": "Bad request."}'
        flash(Message("请求无效。"), "error")
        assert app.session_interface.get_signing_serializer(app).dumps(dict(_flashes=[("error", Message("请求无效。"))]))
        assert get_flashed_messages() == ["Bad request."]


def test_a_message_in_an_official_document_stays_chinese(app):
    from edu_guard.i18n import Message

    msg = Message.join([Message("请求无效。"), Message("您的角色无权进行此操作。")])
    with app.test_request_context("/?lang=en"):
        assert str(msg) == "Bad request.; Your role may not do this."
        assert msg.chinese() == "请求无效。；您的角色无权进行此操作。"
