"""Translations: Chinese source strings, English as the second locale, and message
extraction over code and templates (babel.cfg)."""

import subprocess
import sys
from pathlib import Path

from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]


def test_sign_in_page_in_both_locales(client):
    assert "用户登录" in client.get("/login").text
    english = client.get("/login?lang=en").text
    assert "Sign in" in english and "Username" in english and '<html lang="en">' in english


def test_extraction_reads_code_and_templates(tmp_path):
    pot = tmp_path / "messages.pot"
    subprocess.run(  # noqa: S603 - our own interpreter and arguments
        [sys.executable, "-m", "babel.messages.frontend", "extract", "-F", "babel.cfg", "-k", "_l", "-k", "lazy_gettext",
         "-k", "N_", "-k", "Message", "-o", str(pot), "."],
        cwd=ROOT, check=True, capture_output=True,
    )
    with pot.open("rb") as f:
        ids = {m.id for m in read_po(f) if m.id}
    assert "用户登录" in ids  # templates/auth/login.html
    assert "用户名或密码错误。" in ids  # lazy_gettext in edu_guard/auth/services.py
    assert "共 %(total)s 条，第 %(page)s / %(pages)s 页" in ids  # templates/_macros.html
    assert "任务执行时发生内部错误，未写入任何数据。请联系系统管理员查看日志。" in ids  # Message(…) in edu_guard/jobs/services.py
    assert "局业务人员" in ids  # N_(…) in edu_guard/auth/models.py


def test_the_user_form_names_roles_in_the_page_language(client, make_user):
    admin = make_user("admin")
    with client.session_transaction() as session:
        session["_user_id"] = admin.get_id()
        session["_fresh"] = True
    english = client.get("/users/new?lang=en").text
    assert ">Bureau clerk<" in english and ">School staff<" in english and "局业务人员" not in english
    chinese = client.get("/users/new?lang=zh").text
    assert ">局业务人员<" in chinese


def test_english_catalogue_is_compiled_and_current():
    po = ROOT / "edu_guard/translations/en/LC_MESSAGES/messages.po"
    with po.open("rb") as f:
        source = read_po(f)
    with po.with_suffix(".mo").open("rb") as f:
        compiled = read_mo(f)
    assert not source.fuzzy
    # keyed by (context, id): the menu's short labels are ``pgettext("menu", …)``
    wanted = {(m.context, m.id): m.string for m in source if m.id and m.string and not m.fuzzy}
    assert {(m.context, m.id): m.string for m in compiled if m.id} == wanted, "run: pybabel compile -d edu_guard/translations"


def test_the_users_state_is_an_adjective_and_the_button_a_verb(client, make_user):
    """启用/停用 is both a user's state and the button that changes it: English pages
    say "Active" in the state column and "Deactivate"/"Activate" on the buttons."""
    admin = make_user("admin")
    make_user("clerk", username="clerk")
    with client.session_transaction() as session:
        session["_user_id"] = admin.get_id()
        session["_fresh"] = True
    english = client.get("/users?lang=en").text
    assert ">Active<" in english and ">Deactivate<" in english
    chinese = client.get("/users?lang=zh").text
    assert ">启用<" in chinese and ">停用<" in chinese
