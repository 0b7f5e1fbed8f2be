"""Scripts come from the app's own files only (issue 14): the Content-Security-Policy
says ``script-src 'self'`` without ``'unsafe-inline'``, no template holds an inline
script, an ``on…=`` handler or a ``javascript:`` link, and the behaviours that used to be
inline (confirm before submitting, the role's area fields, printing) still work in a
browser under that policy."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from edu_guard.paths import TEMPLATE_DIR

#: An inline script: a <script> element without a src attribute.
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I)
#: An event handler attribute (onclick=, onsubmit= …) or a javascript: URL.
HANDLER = re.compile(r"\son[a-z]+\s*=|javascript:", re.I)


def _policy(resp) -> dict[str, str]:
    parts = (p.strip().split(None, 1) for p in resp.headers["Content-Security-Policy"].split(";") if p.strip())
    return {p[0]: (p[1] if len(p) > 1 else "") for p in parts}


def test_the_policy_allows_scripts_from_the_app_only(client):
    policy = _policy(client.get("/login"))
    assert policy["script-src"] == "'self'"
    assert "unsafe-inline" not in str(policy) and "unsafe-eval" not in str(policy)
    assert policy["frame-ancestors"] == "'none'" and policy["object-src"] == "'none'"


def test_no_template_holds_an_inline_script_or_handler():
    offending = []
    for path in sorted(Path(TEMPLATE_DIR).rglob("*.html")):
        text = path.read_text(encoding="utf-8")
        offending += [f"{path.name}: {m.group(0)!r}" for m in INLINE_SCRIPT.finditer(text)]
        offending += [f"{path.name}: {m.group(0)!r}" for m in HANDLER.finditer(text)]
    assert offending == []


def test_the_check_finds_inline_scripts_and_handlers():
    """The patterns above: what they must find, and what they must leave."""
    assert INLINE_SCRIPT.search("<script>alert(1)</script>")
    assert INLINE_SCRIPT.search('<script type="module">x()</script>')
    assert not INLINE_SCRIPT.search('<script src="/static/app.js" defer></script>')
    assert HANDLER.search('<form onsubmit="return confirm(1)">') and HANDLER.search('<a href="javascript:x()">')
    assert not HANDLER.search('<form data-confirm="确定？" class="inline">')


def test_rendered_pages_have_no_inline_script(app, client, login, make_user):
    """Every page without an argument, as an administrator opens it."""
    login(make_user("admin", password="pw"))
    seen = 0
    for rule in app.url_map.iter_rules():
        if rule.arguments or "GET" not in rule.methods or rule.endpoint in ("auth.logout", "static"):
            continue
        resp = client.get(rule.rule)
        if resp.mimetype != "text/html":
            continue
        text = resp.get_data(as_text=True)
        assert not INLINE_SCRIPT.search(text), rule.rule
        assert not HANDLER.search(text), rule.rule
        seen += 1
    assert seen >= 15


@pytest.mark.browser
def test_confirm_and_role_fields_work_under_the_policy(app_ctx, make_user, page, sign_in):
    """The user form shows the township choice only for a township user and the school
    choice only for a school user (app.js, not an inline script), and the 停用 button asks first: dismissing the question keeps the user."""
    admin = make_user("admin", username="boss")
    make_user("clerk", username="li")
    errors = []
    page.on("console", lambda msg: errors.append(msg.text) if "Content Security Policy" in msg.text else None)
    sign_in(page, "boss")
    page.goto("/users/new")
    page.wait_for_load_state("networkidle")
    assert page.is_visible("[data-role=school]") and not page.is_visible("[data-role=township]")  # 学校 by default
    page.select_option("#role", "township")
    assert page.is_visible("[data-role=township]") and not page.is_visible("[data-role=school]")
    page.goto("/users")
    questions = []

    def dismiss(dialog):
        questions.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", dismiss)
    page.locator("form[data-confirm] button").first.click()
    page.wait_for_timeout(300)
    assert questions and "停用" in questions[0]
    assert "/users" in page.url
    assert errors == []
    assert admin.id


def test_a_name_written_as_markup_is_shown_as_text(app_ctx, make_child, make_user, login, client):
    """A name imported as markup is escaped on the pages that show it (the CSP is the
    second wall, not the first)."""
    child = make_child(name='<img src=x onerror="alert(1)">')
    login(make_user("clerk"))
    for url in ("/children", f"/children/{child.id}"):
        text = client.get(url).get_data(as_text=True)
        assert "<img src=x" not in text
        assert "&lt;img src=x onerror=" in text
