"""In the browser: a clerk previews a letter before issuing it (nothing numbered), and
an admin loads a year's holiday arrangement and is warned of missing penalty settings."""

from datetime import date

import sqlalchemy as sa

from edu_guard.cases import services
from edu_guard.db import db
from edu_guard.letters.models import Letter
from edu_guard.registry.models import Child, Enrollment, Guardian, School, Township


def _case_at_order(today_is):
    today_is(date(2021, 6, 1))
    town = Township(county_code="532801", name="勐罕镇")
    school = School(code="2153280177", name="勐罕中心小学", stage="小学", township=town, county_code="532801")
    child = Child(id_number="532801200901142694", name="岩温", sex="男", birth_date=date(2009, 1, 14),
                  township=town, address="景洪市勐罕镇曼听村12号")
    child.guardians.append(Guardian(name="岩温之父", relation="父亲", phone="13800000000"))
    db.session.add_all([school, child, Enrollment(child=child, school=school, grade="六年级", status="在读")])
    db.session.flush()
    case = services.open_case(child, reason="厌学", opened_on=date(2021, 3, 1))
    services.log_home_visit(child, case=case, visited_on=date(2021, 3, 1), visitors="李老师", form="入户", findings="x")
    services.fire(case, "escalate_to_order", on=date(2021, 3, 9))
    db.session.commit()
    return case


def test_a_clerk_previews_the_order_before_issuing_it(letters_ready, make_user, page, sign_in, today_is):
    case = _case_at_order(today_is)
    make_user("clerk", username="clerk")
    sign_in(page, "clerk")
    page.goto(f"/cases/{case.id}")
    form = page.locator("details[open] form:has(input[name=event][value=issue_order])")
    form.locator("input[name=on]").fill("2021-03-09")
    with page.context.expect_page() as opened:
        form.locator("button:has-text('预览文书')").click()
    preview = opened.value
    preview.wait_for_load_state()
    assert "文书预览" in preview.inner_text("main")
    assert preview.locator("iframe[src^='data:application/pdf;base64,']").count() == 1
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count(Letter.id))) == 0  # nothing issued or numbered


def test_an_admin_loads_the_holiday_arrangement(letters_ready, make_user, page, sign_in):
    letters_ready.config["EDU_GUARD_BUREAU_CONTACT"] = {}
    make_user("admin", username="boss")
    sign_in(page, "boss")
    # The missing contact is said on every page.
    assert "EDU_GUARD_BUREAU_CONTACT" in page.inner_text("#legal-settings-warning")
    page.click("nav >> text=节假日安排")
    page.fill("input[name=year]", "2027")
    page.fill("input[name=source]", "国办发明电〔2026〕1号")
    page.fill("textarea[name=holidays]", "2027-01-01~2027-01-03 2027-02-05~2027-02-11 2027-04-05 "
                                         "2027-05-01~2027-05-05 2027-06-09 2027-09-15 2027-10-01~2027-10-07")
    page.fill("textarea[name=workdays]", "2027-02-13")
    page.click("button:has-text('载入')")
    assert "已载入 2027 年的节假日安排" in page.inner_text("main")
    assert "国办发明电〔2026〕1号" in page.inner_text("#year-2027")
