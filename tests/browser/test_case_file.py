"""A clerk completes a case file in the browser: a visit logged from the child's page
belongs to the open case, the responsible people are edited on the case page, what is
allowed is judged on the act's date (a 2021 case entered in a later year)."""

from datetime import date, timedelta

import sqlalchemy as sa

from edu_guard.cases import services
from edu_guard.cases.models import DropoutCase, HomeVisit
from edu_guard.db import db
from edu_guard.registry.models import Child, Enrollment, Guardian, School, Township


def _child_with_case(opened_on=date(2021, 3, 1)):
    town = Township(county_code="532801", name="勐罕镇")
    school = School(code="2153280177", name="勐罕中心小学", stage="小学", township=town, county_code="532801")
    child = Child(id_number="532801200901142694", name="岩温", sex="男", birth_date=date(2009, 1, 14),
                  ethnicity="傣族", township=town)
    child.guardians.append(Guardian(name="岩温之父", relation="父亲", phone="13800000000"))
    db.session.add_all([school, child, Enrollment(child=child, school=school, grade="六年级", class_name="1班",
                                                  status="在读")])
    db.session.flush()
    case = services.open_case(child, reason="厌学", opened_on=opened_on)  # as a comparison opens it: nobody assigned
    db.session.commit()
    return child, case


def test_visit_from_the_child_page_counts_on_the_open_case(app_ctx, make_user, page, sign_in):
    child, case = _child_with_case()
    make_user("clerk", username="clerk")
    sign_in(page, "clerk")

    page.goto(f"/cases/{case.id}")
    # Entered after the fact: the page proposes dates of the case's own time, not today.
    assert page.input_value("form.act-day input[name=on]") == "2021-03-01"
    assert "尚无家访（劝返）记录" in page.inner_text("main")

    # 包保责任人 added on the case page, then offered on the visit form.
    page.click("text=添加包保责任人")
    page.select_option("select[name=role]", "class_teacher")
    page.fill("details:has-text('添加包保责任人') input[name=name]", "李老师")
    page.fill("details:has-text('添加包保责任人') input[name=phone]", "13900000000")
    page.click("details:has-text('添加包保责任人') button")
    assert "已添加包保责任人" in page.inner_text("main")
    assert "班主任：李老师 13900000000" in page.inner_text("#people + ul")

    page.goto(f"/children/{child.id}")
    page.click("a:has-text('登记家访')")
    assert "记入该个案" in page.inner_text("main")
    options = page.eval_on_selector_all("#visit-names option, #visitor-names option", "els => els.map(e => e.value)")
    assert options == ["李老师"]
    page.fill("input[name=visited_on]", "2021-03-02")
    page.fill("input[name=visitors]", "李老师")
    page.fill("textarea[name=findings]", "家长同意送孩子返校")
    page.click("button:has-text('登记家访')")
    assert "已登记家访" in page.inner_text("main")

    db.session.expire_all()
    visit = db.session.execute(sa.select(HomeVisit)).scalar_one()
    assert visit.case_id == case.id
    page.goto(f"/cases/{case.id}")
    text = page.inner_text("main")
    assert "家访记录（1 人次）" in text
    assert "尚无家访（劝返）记录" not in text
    # The last act is the visit of 2 March 2021: the proposed date follows it.
    assert page.input_value("form.act-day input[name=on]") == "2021-03-02"


def test_actions_are_judged_on_the_act_date(app_ctx, make_user, page, sign_in):
    """Step 1 (宣传教育) runs to its deadline: on a day before it escalation waits and no
    "已到期" badge shows; on a day after it (still in 2021) escalation is allowed, the
    badge shows and the act is recorded on that day, although today is years later."""
    child, case = _child_with_case()
    services.log_home_visit(child, visited_on=date(2021, 3, 2), visitors="李老师", form="入户", findings="拒绝返校")
    db.session.commit()
    deadline = db.session.get(DropoutCase, case.id).deadline
    make_user("clerk", username="clerk")
    sign_in(page, "clerk")

    before, after = deadline - timedelta(days=1), deadline + timedelta(days=1)
    page.goto(f"/cases/{case.id}?on={before}")
    main = page.inner_text("main")
    assert f"期限至 {deadline} 届满" in main
    assert "已到期，可办理下一步" not in main

    page.goto(f"/cases/{case.id}?on={after}")
    main = page.inner_text("main")
    assert "已到期，可办理下一步" in main
    escalate = page.locator("details.action[open] form")
    assert escalate.locator("input[name=on]").input_value() == after.isoformat()
    escalate.locator("button").click()
    assert "已办理：" in page.inner_text("main")
    db.session.expire_all()
    case = db.session.get(DropoutCase, case.id)
    assert case.state == "order_to_correct"
    assert case.events[-1].acted_on == after


def test_one_click_prints_the_whole_case_file(app_ctx, make_user, page, sign_in):
    import io

    from pypdf import PdfReader

    child, case = _child_with_case()
    services.log_home_visit(child, visited_on=date(2021, 3, 2), visitors="李老师", form="入户", findings="拒绝返校")
    services.fire(case, "escalate_to_order", on=date(2021, 3, 9))
    order = services.fire(case, "issue_order", on=date(2021, 3, 9)).letter
    db.session.commit()
    make_user("clerk", username="clerk")
    sign_in(page, "clerk")
    page.goto(f"/cases/{case.id}")
    link = page.locator("a:has-text('打印一案一档')")
    response = page.request.get(link.get_attribute("href"))
    assert response.status == 200 and response.headers["content-type"] == "application/pdf"
    pages = [p.extract_text().replace("\n", "").replace(" ", "") for p in PdfReader(io.BytesIO(response.body())).pages]
    text = "".join(pages)
    assert "控辍保学个案立案登记表" in pages[0] and "拒绝返校" in text
    assert text.index("立案登记表") < text.index(order.doc_number, text.index("家访记录")) < text.index("送达回证") \
        < text.index("销号登记表")
    assert "尚未销号" in pages[-1]
