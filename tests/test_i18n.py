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
MARKERS = {"_", "gettext", "ngettext", "lazy_gettext", "_l", "N_", "pgettext", "lazy_ngettext"}
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


def untranslatable(source: str, filename: str = "<source>") -> list[str]:
    """Places in ``source`` where a user's message escapes the catalogue, as ``line: why``."""
    found = []
    for node in ast.walk(ast.parse(source, filename)):
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
