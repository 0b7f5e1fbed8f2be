"""A teacher on a phone (390 px wide): the navigation, the child page, the visit form,
the 送教上门 session form and the case page fit the screen without sideways scrolling.
Both languages. Screenshots of the menu, the case page and the session form on a phone
are kept in docs/phone-*.png (written by this test with EDU_GUARD_SCREENSHOTS=1)."""

from pathlib import Path

import pytest


DOCS = Path(__file__).resolve().parents[2] / "docs"


def _fits(pg, path: str) -> None:
    """The page at ``path`` is no wider than the phone: nothing scrolls sideways."""
    pg.goto(path)
    pg.wait_for_load_state("networkidle")
    width = pg.evaluate("document.scrollingElement.scrollWidth")
    if width > 390:
        wide = pg.evaluate("""() => [...document.querySelectorAll('body *')]
            .filter(e => e.getBoundingClientRect().right > 391)
            .slice(0, 8).map(e => e.tagName + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right))""")
        raise AssertionError(f"{path}: page is {width}px wide on a 390px phone; too wide: {wide}")


#: The words the test clicks and reads, per language (the English from the catalogue).
WORDS = {
    "zh": {"children": "学生名册", "log_visit": "登记家访", "visit_logged": "已登记家访", "visits": "家访记录（2 人次）",
           "save": "保存", "session_logged": "已登记 2021-03-09 的送教记录"},
    "en": {"children": "Children", "log_visit": "Log a home visit", "visit_logged": "Home visit logged",
           "visits": "Home visits (2)", "save": "Save", "session_logged": "Home-delivered education session of 2021-03-09 logged"},
}


def _shot(pg, name: str, tmp_path) -> None:
    """A screenshot for docs/ (refreshed on request only, EDU_GUARD_SCREENSHOTS=1, so a
    test run leaves the work tree clean)."""
    import os

    folder = DOCS if os.environ.get("EDU_GUARD_SCREENSHOTS") else tmp_path
    pg.screenshot(path=str(folder / name), full_page=False)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_teacher_pages_fit_a_phone(app_ctx, small_county, make_user, phone, sign_in, tmp_path, lang):
    words = WORDS[lang]
    school, kids, case, placement = small_county
    make_user("school", username="teacher", school=school)
    sign_in(phone, "teacher")
    phone.goto(f"/?lang={lang}")
    for path in ("/", f"/children/{kids[0].id}", f"/children/{kids[0].id}/visits", f"/cases/{case.id}",
                 f"/homebound/{placement.id}", "/homebound", "/cases", "/children"):
        _fits(phone, path)

    # The navigation is reachable on the phone: behind the menu button, one entry a row.
    phone.goto(f"/cases/{case.id}")
    nav_links = phone.locator("header nav a")
    assert not nav_links.first.is_visible()
    phone.click("header .menu-toggle")
    assert nav_links.first.is_visible()
    assert phone.evaluate("document.scrollingElement.scrollWidth") <= 390
    _shot(phone, f"phone-menu-{lang}.png", tmp_path)
    phone.click(f"header nav a:text-is('{words['children']}')")
    assert phone.url.endswith("/children")

    # A visit logged on the phone, from the child's page, lands on the case.
    phone.goto(f"/children/{kids[0].id}/visits")
    phone.fill("input[name=visited_on]", "2021-03-05")
    phone.fill("input[name=visitors]", "李老师")
    phone.fill("textarea[name=findings]", "孩子已回到家中，答应下周一返校")
    phone.click(f"main button:has-text('{words['log_visit']}')")
    assert words["visit_logged"] in phone.inner_text("main")
    _fits(phone, f"/cases/{case.id}")
    assert words["visits"] in phone.inner_text("main")
    _shot(phone, f"phone-case-{lang}.png", tmp_path)

    # A 送教上门 session logged on the phone, on the placement page.
    _fits(phone, f"/homebound/{placement.id}")
    form = phone.locator("form[action$='/sessions']")
    form.locator("input[name=held_on]").fill("2021-03-09")
    form.locator("input[name=starts_at]").fill("09:00")
    form.locator("input[name=ends_at]").fill("10:30")
    form.locator("input[name=teachers]").fill("李老师、王老师")
    form.locator("select[name=content_areas]").select_option(index=0)
    form.locator("textarea[name=progress]").fill("能独立握笔写出自己的名字")
    form.locator("input[name=guardian_confirmed]").check()
    form.locator("input[name=guardian_name]").fill("玉香之母")
    form.locator("input[name=held_on]").scroll_into_view_if_needed()
    _shot(phone, f"phone-session-{lang}.png", tmp_path)
    form.locator("button[type=submit]").click()
    assert words["session_logged"] in phone.inner_text("main"), phone.inner_text("main")[:500]
    assert phone.evaluate("document.scrollingElement.scrollWidth") <= 390


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_menu_never_wraps_on_a_desktop(app_ctx, make_user, page, sign_in, lang):
    """An administrator has every menu entry; in English the labels are longer. At any
    desktop width the menu keeps one row — beside the name, on a row of its own, or
    behind the menu button — and the bar never scrolls sideways."""
    make_user("admin", username="boss")
    sign_in(page, "boss")
    page.goto(f"/?lang={lang}")
    for width in (1440, 1280, 1024, 800):
        page.set_viewport_size({"width": width, "height": 900})
        page.goto("/cases")
        page.wait_for_load_state("networkidle")
        rows = page.eval_on_selector_all(
            "header nav a", "els => new Set(els.filter(e => e.offsetParent !== null).map(e => e.offsetTop)).size")
        assert rows <= 1, f"{lang} at {width}px: the menu wraps onto {rows} rows"
        assert page.evaluate("document.scrollingElement.scrollWidth") <= width
        assert page.evaluate("document.querySelector('header').scrollWidth") <= width
        if not page.locator("header nav a").first.is_visible():  # behind the button: it opens
            page.click("header .menu-toggle")
            assert page.locator("header nav a").first.is_visible()
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto("/cases")
    assert page.locator("header nav a").first.is_visible(), f"{lang}: at 1280px the menu should be shown, not hidden"
