"""The case pages as a clerk, a school user and an auditor use them."""

import re
from datetime import date

import pytest
import sqlalchemy as sa

from edu_guard.cases.models import DropoutCase, HomeVisit
from edu_guard.db import db
from edu_guard.registry.models import School, Township


def test_clerk_opens_a_case_logs_a_visit_and_sees_why_escalation_waits(make_child, make_user, login, today_is):
    today_is(date(2021, 3, 5))
    child = make_child()
    client = login(make_user("clerk"))
    page = client.get(f"/children/{child.id}/cases/new")
    assert page.status_code == 200 and "开立控辍保学个案" in page.text
    form = {"reason": "外出务工", "opened_on": "2021-03-01", "reason_note": "随父母在昆明",
            "name_county_leader": "张副县长", "name_class_teacher": "李老师", "phone_class_teacher": "13900000000"}
    resp = client.post(f"/children/{child.id}/cases/new", data=form)
    case = db.session.execute(sa.select(DropoutCase)).scalar_one()
    assert resp.status_code == 302 and resp.location.endswith(f"/cases/{case.id}")
    assert sorted((a.role, a.name) for a in case.assignments) == [("class_teacher", "李老师"), ("county_leader", "张副县长")]

    detail = client.get(f"/cases/{case.id}").text
    assert "第一步 宣传教育（劝返）" in detail
    assert "尚无家访（劝返）记录，请先登记家访" in detail

    client.post(f"/cases/{case.id}/visits", data={"visited_on": "2021-03-02", "visitors": "李老师", "form": "入户",
                                                 "findings": "家长同意"})
    assert db.session.execute(sa.select(sa.func.count(HomeVisit.id))).scalar() == 1
    detail = client.get(f"/cases/{case.id}").text
    assert "宣传教育（劝返）期限至 2021-03-08 届满" in detail

    # Too early: refused with the reason, the state unchanged.
    resp = client.post(f"/cases/{case.id}/act", data={"event": "escalate_to_order", "version": case.version,
                                                     "on": "2021-03-05"}, follow_redirects=True)
    assert "期限至 2021-03-08 届满" in resp.text
    db.session.refresh(case)
    assert case.state == "persuasion"


def test_stale_form_is_refused(make_child, make_user, login, today_is):
    today_is(date(2021, 5, 1))
    child = make_child()
    client = login(make_user("clerk"))
    client.post(f"/children/{child.id}/cases/new", data={"reason": "厌学", "opened_on": "2021-03-01"})
    case = db.session.execute(sa.select(DropoutCase)).scalar_one()
    old = case.version
    client.post(f"/cases/{case.id}/act", data={"event": "return_to_school", "version": old, "on": "2021-03-03"})
    resp = client.post(f"/cases/{case.id}/act", data={"event": "record_death", "version": old, "on": "2021-03-04"},
                       follow_redirects=True)
    assert "本案已被他人修改" in resp.text
    db.session.refresh(case)
    assert case.state == "following_up"


def test_school_user_sees_only_own_school_and_auditor_cannot_write(make_child, make_user, login, today_is):
    today_is(date(2021, 5, 1))
    child = make_child()
    other_town = Township(county_code="532801", name="嘎洒镇")
    other = School(code="2153280174", name="嘎洒中心小学", stage="小学", township=other_town, county_code="532801")
    db.session.add(other)
    db.session.commit()
    login(make_user("clerk")).post(f"/children/{child.id}/cases/new", data={"reason": "厌学", "opened_on": "2021-03-01"})
    case = db.session.execute(sa.select(DropoutCase)).scalar_one()

    client = login(make_user("school", school=other))
    assert client.get(f"/cases/{case.id}").status_code == 404
    assert child.name not in client.get("/cases").text

    own = login(make_user("school", school=child.enrollments[0].school))
    assert own.get(f"/cases/{case.id}").status_code == 200

    auditor = login(make_user("auditor"))
    assert auditor.get(f"/cases/{case.id}").status_code == 200
    assert auditor.post(f"/cases/{case.id}/act", data={"event": "return_to_school", "version": case.version,
                                                       "on": "2021-03-03"}).status_code == 403
    db.session.refresh(case)
    assert case.state == "persuasion"


def test_case_list_filters(make_child, make_user, login, today_is):
    today_is(date(2021, 3, 20))
    a = make_child("岩温", "532801200901142690")
    b = make_child("玉罕", "532801201205233040")
    client = login(make_user("clerk"))
    for child in (a, b):
        client.post(f"/children/{child.id}/cases/new", data={"reason": "厌学", "opened_on": "2021-03-01"})
    case_b = db.session.execute(sa.select(DropoutCase).where(DropoutCase.child_id == b.id)).scalar_one()
    client.post(f"/cases/{case_b.id}/act", data={"event": "return_to_school", "version": case_b.version,
                                                "on": "2021-03-19"})

    def listed(url):
        return re.findall(r'<td><a href="/cases/\d+">(\D[^<]*)</a></td>', client.get(url).text)

    assert listed("/cases?state=persuasion") == ["岩温"]
    assert listed("/cases?q=玉罕") == ["玉罕"]
    assert listed("/cases") == ["岩温", "玉罕"]
    # On 20 March step 1 of 岩温 (ended 8 March) is overdue; 玉罕's follow-up runs to 18 April.
    assert listed("/cases?overdue=1") == ["岩温"]
    text = client.get("/cases").text
    assert "532801********2690" in text and "532801200901142690" not in text


def test_letter_listing_children_of_two_schools_is_hidden_from_each_school(letters_ready, make_child, make_user,
                                                                          login, today_is):
    from edu_guard.cases import services

    today_is(date(2021, 3, 10))
    a = make_child("岩温", "532801200901142690")
    town = a.enrollments[0].school.township
    other = School(code="2153280178", name="勐罕中学", stage="初中", township=town, county_code="532801")
    db.session.add(other)
    db.session.commit()
    b = make_child("玉罕", "532801201205233040", school=other)
    cases = [services.open_case(c, reason="厌学", opened_on=date(2021, 3, 1)) for c in (a, b)]
    letter = services.issue_return_contact(cases, on=date(2021, 3, 5))[0].letter
    db.session.commit()

    school_user = login(make_user("school", school=other))
    assert school_user.get(f"/letters/{letter.id}").status_code == 404
    assert school_user.get(f"/letters/{letter.id}.pdf").status_code == 404
    township_user = login(make_user("township", township=town))
    resp = township_user.get(f"/letters/{letter.id}.pdf")
    assert resp.status_code == 200 and resp.data[:5] == b"%PDF-"
    resp.close()


def test_order_issued_and_served_through_the_pages(letters_ready, make_child, make_user, login, today_is):
    from edu_guard.cases import services

    today_is(date(2021, 3, 20))
    child = make_child()
    case = services.open_case(child, reason="厌学", opened_on=date(2021, 3, 1))
    services.log_home_visit(child, case=case, visited_on=date(2021, 3, 2), visitors="李老师", form="入户", findings="未返校")
    services.fire(case, "escalate_to_order", on=date(2021, 3, 9))
    db.session.commit()
    client = login(make_user("township", township=child.township))
    resp = client.post(f"/cases/{case.id}/act", data={"event": "issue_order", "version": case.version, "on": "2021-03-10"},
                       follow_redirects=True)
    assert "文书 勐罕政责改〔2021〕1号 已生成" in resp.text
    db.session.refresh(case)
    letter = case.letters[0]
    resp = client.post(f"/cases/{case.id}/service", data={"version": case.version, "letter_id": letter.id,
                                                         "served_on": "2021-03-11", "manner": "留置送达",
                                                         "served_to": "岩温之父", "served_by": "刀建华"},
                       follow_redirects=True)
    assert "已登记送达；本步期限 2021-03-25" in resp.text
    db.session.refresh(letter)
    assert (letter.served_on, letter.service_manner) == (date(2021, 3, 11), "留置送达")
    # The same slip sent again is refused and changes nothing.
    resp = client.post(f"/cases/{case.id}/service", data={"version": case.version - 1, "letter_id": letter.id,
                                                         "served_on": "2021-03-12", "manner": "直接送达",
                                                         "served_to": "x", "served_by": "y"}, follow_redirects=True)
    assert "本案已被他人修改" in resp.text
    db.session.refresh(letter)
    assert letter.served_on == date(2021, 3, 11)


def test_visit_to_a_child_without_a_case(make_child, make_user, login, today_is):
    today_is(date(2021, 3, 20))
    child = make_child()
    client = login(make_user("school", school=child.enrollments[0].school))
    assert "登记家访" in client.get(f"/children/{child.id}/visits").text
    resp = client.post(f"/children/{child.id}/visits", data={"visited_on": "2021-03-19", "visitors": "王老师",
                                                            "form": "电话", "findings": "连续缺课三天，家长称生病"})
    assert resp.status_code == 302 and resp.location.endswith(f"/children/{child.id}")
    visit = db.session.execute(sa.select(HomeVisit)).scalar_one()
    assert (visit.case_id, visit.visitors, visit.form) == (None, "王老师", "电话")


@pytest.mark.parametrize("typed", ["2021-02-30", "abc"])
def test_an_impossible_date_is_called_invalid_not_missing(make_child, make_user, login, today_is, typed):
    """A date the calendar does not have is reported as a bad date, never as an empty
    field (the clerk did type something), and no case is opened."""
    today_is(date(2021, 3, 5))
    child = make_child()
    client = login(make_user("clerk"))
    page = client.post(f"/children/{child.id}/cases/new", data={"reason": "厌学", "opened_on": typed}).text
    assert "必填" not in page
    assert "发现日期：不是有效的日期值" in page
    assert db.session.execute(sa.select(sa.func.count()).select_from(DropoutCase)).scalar() == 0
