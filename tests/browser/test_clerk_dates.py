"""A clerk entering the 2021 spring term years later, in the browser: the pages and the
prints take their dates from the term records (2021-spring: 1 March – 9 July 2021) and
from the records, not from today; a bad date is a form error in Chinese; no request of a
page answers 404 (the favicon included)."""

import io
from datetime import date, time, timedelta

from pypdf import PdfReader

from edu_guard import clock
from edu_guard.aid.services import add_term
from edu_guard.cases import services as case_services
from edu_guard.db import db
from edu_guard.homebound import services as hb
from edu_guard.registry.models import Child, Enrollment, Guardian, School, Township

SPRING = (date(2021, 3, 1), date(2021, 7, 9))


def _school():
    town = Township(county_code="532801", name="勐罕镇")
    school = School(code="2153280177", name="勐罕中心小学", stage="小学", township=town, county_code="532801")
    db.session.add(school)
    return town, school


def _child(school, town, name, id_number, birth, grade="三年级", class_name="1班"):
    child = Child(id_number=id_number, name=name, sex="男", birth_date=birth, ethnicity="傣族", township=town)
    child.guardians.append(Guardian(name=f"{name}之父", relation="父亲", phone="13800000000"))
    db.session.add_all([child, Enrollment(child=child, school=school, grade=grade, class_name=class_name, status="在读")])
    db.session.flush()
    return child


def _no_404(page):
    """Record every response of 404 the page's loads cause (stylesheets, icons …)."""
    missing = []
    page.on("response", lambda r: missing.append(r.url) if r.status == 404 else None)
    return missing


def test_term_dates_on_the_dashboard_the_session_log_and_the_compliance_page(
        app_ctx, make_user, page, sign_in):
    assert clock.today() > date(2026, 1, 1)  # the real clock: the term is years behind
    add_term("2021-spring", *SPRING, 90)
    town, school = _school()
    child = _child(school, town, "邹天", "532801201301121487", date(2013, 1, 12))
    placement = hb.place(child=child, school=school, assessed_on=date(2021, 3, 8), assessment="不能到校就读，建议送教上门",
                         teachers="李老师", starts_on=date(2021, 3, 8))
    for day in (date(2021, 3, 10), date(2021, 3, 24)):
        hb.log_session(placement, held_on=day, starts_at=time(9), ends_at=time(11), teachers="李老师",
                       content_areas=["生活自理"], progress="能自己穿衣")
    db.session.commit()
    make_user("clerk", username="clerk")
    missing = _no_404(page)
    sign_in(page, "clerk")

    # 概况: 本学期 is the term of the records, from its first day to its last.
    page.goto("/reports/dashboard")
    assert page.inner_text("#trend-period") == "2021年春季学期：2021-03-01 — 2021-07-09"

    # The child's page and its session log: the period is the term's, not 1 Feb – 31 Jul.
    page.goto(f"/homebound/{placement.id}")
    assert "2021年春季学期" in page.inner_text("main")
    href = page.locator("a[href*='log.pdf']").first.get_attribute("href")
    response = page.request.get(href)
    assert response.status == 200 and response.headers["content-type"] == "application/pdf"
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(response.body())).pages).replace(" ", "").replace("\n", "")
    assert "统计期：2021年3月1日至2021年7月9日" in text
    assert "2021年2月1日" not in text and "2021年7月31日" not in text
    today = clock.today()
    assert f"{today.year}年{today.month}月{today.day}日" not in text  # dated in the term, not today

    # The compliance page with an impossible date: a Chinese form error, the default period.
    page.goto("/homebound/compliance?from=2021-02-30&to=2021-07-09")
    main = page.inner_text("body")
    assert "统计期的日期应写作 年-月-日（如 2021-03-01），已按默认期间（2021年春季学期）统计" in main
    assert page.input_value("input[name=from]") == "2021-03-01"
    assert page.input_value("input[name=to]") == "2021-07-09"
    # …and a period ending before it starts.
    page.goto("/homebound/compliance?from=2021-07-01&to=2021-03-01")
    assert "统计期止日 2021-03-01 早于起日 2021-07-01" in page.inner_text("body")
    # The figures are right-aligned, with a 合计 row: 2 sessions of 2×40-minute periods… by the norm.
    total = page.locator("table.data tfoot tr.total")
    assert total.first.locator("th").inner_text() == "合计"
    assert page.eval_on_selector("table.data td.num", "td => getComputedStyle(td).textAlign") == "right"
    assert missing == []


def test_favicon_answers(client):
    response = client.get("/favicon.ico")  # anonymous: no sign-in page, no 404
    assert response.status_code == 200 and response.mimetype == "image/svg+xml"
    assert response.data.startswith(b"<svg")


def test_case_file_is_dated_in_the_case_time(app_ctx, make_user, page, sign_in):
    """A 2021 case entered years later prints its registers dated in 2021 (its last
    act, a visit of 2 March 2021), never with today's date."""
    add_term("2021-spring", *SPRING, 90)
    town, school = _school()
    child = _child(school, town, "岩温", "532801200901142694", date(2009, 1, 14), grade="六年级")
    case = case_services.open_case(child, reason="厌学", opened_on=date(2021, 3, 1))
    case_services.log_home_visit(child, visited_on=date(2021, 3, 2), visitors="李老师", form="入户", findings="拒绝返校")
    db.session.commit()
    make_user("clerk", username="clerk")
    sign_in(page, "clerk")
    page.goto(f"/cases/{case.id}")
    response = page.request.get(page.locator("a:has-text('打印一案一档')").get_attribute("href"))
    assert response.status == 200
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(response.body())).pages).replace(" ", "").replace("\n", "")
    today = clock.today()
    assert f"{today.year}年{today.month}月{today.day}日" not in text
    assert "2021年3月2日" in text


def test_deadline_badge_only_when_the_next_step_is_allowed(app_ctx, make_user, page, sign_in):
    """Step 1's deadline has passed on the act's date, but no home visit is recorded:
    escalation is refused ("尚无家访"), so no "已到期，可办理下一步" badge (closing as
    已复学 stays open and does not count); after a visit the badge shows."""
    town, school = _school()
    child = _child(school, town, "岩温", "532801200901142694", date(2009, 1, 14), grade="六年级")
    case = case_services.open_case(child, reason="厌学", opened_on=date(2021, 3, 1))
    db.session.commit()
    after = case.deadline + timedelta(days=1)
    make_user("clerk", username="clerk")
    sign_in(page, "clerk")
    page.goto(f"/cases/{case.id}?on={after}")
    main = page.inner_text("main")
    assert "尚无家访" in main and "已到期，可办理下一步" not in main

    case_services.log_home_visit(child, visited_on=date(2021, 3, 2), visitors="李老师", form="入户", findings="拒绝返校")
    db.session.commit()
    page.goto(f"/cases/{case.id}?on={after}")
    assert "已到期，可办理下一步" in page.inner_text("main")
