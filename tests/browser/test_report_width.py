"""The report pages fit a 1280×800 screen in English (issue 10): English column headers
are longer than Chinese ones, and the wide report tables wrap their headers instead of
making the page scroll sideways."""

from __future__ import annotations

import pytest

from edu_guard.db import db
from edu_guard.registry.models import Division

#: The report pages a county clerk opens, and those of a province user.
CLERK_PAGES = ("/reports?lang=en", "/reports?by=school&lang=en", "/reports?print=1&lang=en",
               "/reports/ledgers/school_age?lang=en", "/reports/ledgers/suspected?lang=en",
               "/reports/ledgers/dropouts?lang=en", "/reports/dashboard?lang=en")
SUPERIOR_PAGES = ("/province/aid?year=2021&lang=en", "/province/monthly?month=2021-03&lang=en")

#: How far the page and each table reach beyond the viewport (0: they fit).
OVERFLOW = """() => {
  const doc = document.scrollingElement;
  const out = {page: doc.scrollWidth - doc.clientWidth, tables: []};
  for (const t of document.querySelectorAll('main table')) {
    const box = t.parentElement;
    out.tables.push(Math.max(t.scrollWidth - box.clientWidth, t.getBoundingClientRect().right - doc.clientWidth));
  }
  return out;
}"""


def _overflowing(page, urls) -> dict:
    """The pages of ``urls`` that do not fit, with how far they reach beyond it."""
    out = {}
    for url in urls:
        page.goto(url)
        page.wait_for_load_state()
        found = page.evaluate(OVERFLOW)
        if found["page"] > 0 or any(t > 1 for t in found["tables"]):
            out[url] = found
    return out


@pytest.fixture
def english_screen(browser, live_server):
    """A browser page 1280×800 asking for English."""
    context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="en-US", base_url=live_server,
                                  extra_http_headers={"Accept-Language": "en-US,en;q=0.9"})
    context.set_default_timeout(15_000)
    pg = context.new_page()
    yield pg
    context.close()


def test_report_pages_fit_1280_wide_in_english(small_county, make_user, english_screen, sign_in):
    make_user("clerk", username="clerk")
    sign_in(english_screen, "clerk")
    assert _overflowing(english_screen, CLERK_PAGES) == {}
    english_screen.goto("/reports?lang=en")
    assert "Township" in english_screen.inner_text("main table thead")


def test_superior_report_pages_fit_1280_wide_in_english(small_county, make_user, english_screen, sign_in):
    db.session.add_all([Division(code="530000", name="云南省", level="province"),
                        Division(code="532800", name="西双版纳州", level="prefecture", parent_code="530000")])
    db.session.flush()
    db.session.add(Division(code="532801", name="景洪市", level="county", parent_code="532800"))
    user = make_user("province", username="prov")
    user.division_code = "530000"
    db.session.commit()
    sign_in(english_screen, "prov")
    assert _overflowing(english_screen, SUPERIOR_PAGES) == {}


def test_the_aid_statistics_table_fits_1280_wide_in_english(small_county, make_user, english_screen, sign_in):
    """Its 其中 columns (households out of poverty, minimum living allowance …) are long
    in English: the headers wrap like the reports' ones."""
    from datetime import date

    from edu_guard.aid.models import Term

    db.session.add(Term(code="2021-spring", name="2021年春季学期", start=date(2021, 3, 1), end=date(2021, 7, 9),
                        school_days=90))
    db.session.commit()
    make_user("clerk", username="clerk")
    sign_in(english_screen, "clerk")
    assert _overflowing(english_screen, ["/aid/report?term=2021-spring&lang=en"]) == {}
    assert "Households out of poverty" in english_screen.inner_text("main table thead")
