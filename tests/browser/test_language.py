"""The language switch in the header: it persists across pages (a cookie), and a
browser asking for English gets English from the first page."""

import re

from edu_guard.db import db
from edu_guard.letters.schemas import LETTER_KINDS
from edu_guard.registry.models import School, Township

HAN = re.compile(r"[\u4e00-\u9fff]")


def test_switch_persists_and_accept_language_is_honoured(app_ctx, make_user, browser, live_server, page, sign_in):
    make_user("clerk", username="clerk")
    sign_in(page, "clerk")
    assert page.inner_text("header nav a >> nth=1") == "学生名册"
    page.click("header .lang a:has-text('English')")
    assert page.inner_text("header nav a >> nth=1") == "Children"
    page.goto("/cases")  # no ?lang: the choice is kept
    assert "Children" in page.inner_text("header nav")
    page.click("header .lang a:has-text('中文')")
    page.goto("/cases")
    assert "学生名册" in page.inner_text("header nav")

    english = browser.new_context(locale="en-US", base_url=live_server, extra_http_headers={"Accept-Language": "en-US,en;q=0.9"})
    try:
        pg = english.new_page()
        pg.goto("/login")
        assert pg.inner_text("h1") == "Sign in"
    finally:
        english.close()


#: What English pages may show in Chinese: data (the county, township, school, pupils'
#: names, guardians, places, notes typed by users) and the language switch's "中文".
DATA = ("中文", "勐罕镇", "勐罕中心小学", "岩温", "玉香", "李老师", "王老师", "岩罕", "曼听", "傣族", "六年级", "1班", "随父母在昆明务工",
        "监护人称孩子随其在昆明务工", "肢体残疾", "之母", "母亲")
#: The chrome of a page: navigation, headings, table headers, labels, buttons, options,
#: badges, flash messages, the step bar.
CHROME = ("header nav a, header .who, h1, h2, h3, th, label, button, summary, .btn, option, .badge, .flash, "
          ".steps .step, dl.kv dt")


def _untranslated(page, data) -> list[str]:
    texts = page.eval_on_selector_all(CHROME, "els => els.filter(e => e.offsetParent !== null || e.tagName === 'OPTION')"
                                              ".map(e => e.innerText || e.textContent)")
    out = []
    for text in texts:
        bare = text
        for d in data:
            bare = bare.replace(d, "")
        # A Chinese term kept in brackets after its English translation is intended.
        bare = re.sub(r"\([^)]*\)", "", bare.replace("（", "(").replace("）", ")"))
        if HAN.search(bare):
            out.append(text.strip())
    return out


def test_english_pages_have_no_untranslated_chinese_in_the_chrome(app_ctx, small_county, make_user, page, sign_in):
    """The navigation, headings, table headers, labels, options and buttons of the main
    pages — lists, the child's page, the case page, the visit form, the 送教上门 page, the
    reports — are English; data (names of children, schools, townships) stays Chinese."""
    school, kids, case, placement = small_county
    make_user("admin", username="boss")
    sign_in(page, "boss")
    page.goto("/?lang=en")
    # Legal documents keep their Chinese titles (劝返联系函, 行政处罚决定书 …): intended.
    data = DATA + (app_ctx.config["EDU_GUARD_COUNTY_NAME"],) + tuple(k.name for k in LETTER_KINDS.values())
    for path in ("/", "/children", "/cases", "/aid/", "/homebound", "/comparisons", "/reports", "/reports/dashboard",
                 "/letters", "/imports", "/users", f"/children/{kids[0].id}", f"/children/{kids[0].id}/visits",
                 f"/cases/{case.id}", f"/homebound/{placement.id}", f"/children/{kids[1].id}/cases/new"):
        response = page.goto(path)
        assert response.status == 200, path
        page.eval_on_selector_all("details", "els => els.forEach(e => e.open = true)")  # the forms inside too
        chinese = _untranslated(page, data)
        assert not chinese, f"{path}: untranslated in English: {chinese[:12]}"


def test_flash_messages_are_english_on_english_pages(app_ctx, small_county, make_user, page, sign_in):
    """A message after an action (a flash) speaks the page's language, values filled in."""
    school, kids, case, placement = small_county
    make_user("admin", username="boss")
    sign_in(page, "boss")
    page.goto(f"/children/{kids[0].id}/visits?lang=en")
    page.fill("input[name=visited_on]", "2021-03-05")
    page.fill("input[name=visitors]", "李老师")
    page.fill("textarea[name=findings]", "孩子已回到家中")
    page.click("main button:has-text('Log a home visit')")
    assert page.inner_text(".flash") == "Home visit logged"
    page.goto(f"/homebound/{placement.id}")
    page.click("summary:has-text('End home-delivered education')")
    page.fill("form[action$='/end'] input[name=ends_on]", "2021-06-30")
    page.click("form[action$='/end'] button[type=submit]")
    assert page.inner_text(".flash") == "Home-delivered education ended on 2021-06-30"
