"""Case services against a real database: opening, visits, outcomes, locking, audit."""

from datetime import date

import pytest
import sqlalchemy as sa

from edu_guard.auth.models import AuditLog
from edu_guard.cases import services
from edu_guard.cases.models import CaseEvent, DropoutCase
from edu_guard.db import db


def open_case(child, on=date(2021, 3, 1), **kw):
    case = services.open_case(child, reason="厌学", opened_on=on,
                              assignments=[{"role": "class_teacher", "name": "李老师", "phone": "139"}], **kw)
    db.session.commit()
    return case


def test_open_case_starts_at_step_one_with_deadline(make_child, today_is):
    today_is(date(2021, 3, 5))
    child = make_child()
    case = open_case(child)
    assert case.state == "persuasion"
    assert case.deadline == date(2021, 3, 8)  # 7 calendar days after Mon 1 March
    assert case.school.name == "勐罕中心小学" and case.township.name == "勐罕镇"
    assert [(a.role, a.name) for a in case.assignments] == [("class_teacher", "李老师")]
    events = db.session.execute(sa.select(CaseEvent.event)).scalars().all()
    assert events == ["open"]
    audit = db.session.execute(sa.select(AuditLog).where(AuditLog.entity == "dropout_case")).scalar_one()
    assert audit.action == "create" and audit.after["state"] == "persuasion"


def test_one_open_case_per_child(make_child, today_is):
    today_is(date(2021, 3, 5))
    child = make_child()
    open_case(child)
    with pytest.raises(services.CaseError, match="已有未销号的个案"):
        services.open_case(child, reason="厌学", opened_on=date(2021, 3, 2))


def test_open_refuses_bad_reason_future_date_and_adult(make_child, today_is):
    today_is(date(2021, 3, 5))
    child = make_child()
    with pytest.raises(services.CaseError, match="辍学原因"):
        services.open_case(child, reason="不想上", opened_on=date(2021, 3, 1))
    with pytest.raises(services.CaseError, match="晚于今天"):
        services.open_case(child, reason="厌学", opened_on=date(2021, 3, 6))
    # enrolled at a primary school, so the age rule alone would not stop a date typed a
    # decade off: a case cannot start before the child was born
    with pytest.raises(services.CaseError, match="早于岩温的出生日期 2009-01-14"):
        services.open_case(child, reason="厌学", opened_on=date(1990, 1, 1))
    adult = make_child("成年人", "532801200001011234", birth=date(2000, 1, 1))
    adult.enrollments[0].school.stage = "高中"
    with pytest.raises(services.CaseError, match="不在义务教育年龄段"):
        services.open_case(adult, reason="厌学", opened_on=date(2021, 3, 1))


def test_escalation_refused_until_visit_and_deadline(make_child, today_is):
    today_is(date(2021, 3, 20))
    case = open_case(make_child())
    with pytest.raises(services.CaseError, match="家访"):
        services.fire(case, "escalate_to_order", on=date(2021, 3, 9))
    services.log_home_visit(case.child, case=case, visited_on=date(2021, 3, 2), visitors="李老师、村主任",
                            form="入户", findings="家长同意劝说孩子返校")
    db.session.commit()
    with pytest.raises(services.CaseError, match="2021-03-08"):
        services.fire(case, "escalate_to_order", on=date(2021, 3, 8))
    services.fire(case, "escalate_to_order", on=date(2021, 3, 9))
    db.session.commit()
    assert case.state == "order_to_correct" and case.step_started_on == date(2021, 3, 9)
    assert case.deadline is None  # the order is not served yet


def test_return_follow_up_and_close(make_child, today_is):
    today_is(date(2021, 5, 1))
    case = open_case(make_child())
    services.fire(case, "return_to_school", on=date(2021, 3, 10), note="已返校上课")
    db.session.commit()
    assert (case.state, case.outcome, case.deadline) == ("following_up", "复学", date(2021, 4, 9))
    with pytest.raises(services.CaseError, match="2021-04-09"):
        services.fire(case, "close_follow_up", on=date(2021, 4, 9))
    services.fire(case, "close_follow_up", on=date(2021, 4, 12))
    db.session.commit()
    assert case.state == "closed" and case.closed_on == date(2021, 4, 12)
    assert case.closed_reason == "2021-03-10 复学，跟踪期满销号"
    # A closed case frees the child for a new case.
    assert open_case(case.child, on=date(2021, 4, 20)).id != case.id


def test_relapse_resumes_the_step(make_child, today_is):
    today_is(date(2021, 5, 1))
    case = open_case(make_child())
    services.log_home_visit(case.child, case=case, visited_on=date(2021, 3, 2), visitors="李老师", form="电话",
                            findings="未返校")
    services.fire(case, "escalate_to_order", on=date(2021, 3, 9))
    services.fire(case, "return_to_school", on=date(2021, 3, 12))
    services.fire(case, "drop_out_again", on=date(2021, 3, 20))
    db.session.commit()
    assert case.state == "order_to_correct" and case.outcome is None


def test_placement_requires_a_known_placement(make_child, today_is):
    today_is(date(2021, 5, 1))
    case = open_case(make_child())
    with pytest.raises(services.CaseError, match="安置方式"):
        services.fire(case, "place", on=date(2021, 3, 3), data={"placement": "在家"})
    db.session.rollback()
    services.fire(case, "place", on=date(2021, 3, 3), data={"placement": "送教上门"})
    db.session.commit()
    assert case.state == "closed" and case.closed_reason == "2021-03-03 安置（送教上门），销号"


def test_stale_version_refused_and_nothing_lost(make_child, today_is):
    today_is(date(2021, 5, 1))
    case = open_case(make_child())
    services.log_home_visit(case.child, case=case, visited_on=date(2021, 3, 2), visitors="李老师", form="入户",
                            findings="家长外出")
    db.session.commit()
    seen = case.version
    services.fire(case, "return_to_school", on=date(2021, 3, 3), expected_version=seen)
    db.session.commit()
    with pytest.raises(services.StaleCase, match="已被他人修改"):
        services.fire(case, "record_death", on=date(2021, 3, 4), expected_version=seen)
    assert case.state == "following_up"
    # A visit form sent twice: the second carries the version the first one changed.
    now = case.version
    services.log_home_visit(case.child, case=case, visited_on=date(2021, 3, 5), visitors="李老师", form="电话",
                            findings="已返校", expected_version=now)
    db.session.commit()
    with pytest.raises(services.StaleCase):
        services.log_home_visit(case.child, case=case, visited_on=date(2021, 3, 5), visitors="李老师", form="电话",
                                findings="已返校", expected_version=now)
    db.session.rollback()
    assert len(case.visits) == 2


def test_letter_form_sent_twice_takes_one_number(letters_ready, make_child, today_is):
    today_is(date(2021, 3, 10))
    case = open_case(make_child())
    seen = case.version
    services.fire(case, "issue_return_contact", on=date(2021, 3, 5), expected_version=seen)
    db.session.commit()
    with pytest.raises(services.StaleCase):
        services.fire(case, "issue_return_contact", on=date(2021, 3, 5), expected_version=seen)
    db.session.rollback()
    assert [l.doc_number for l in case.letters] == ["景教体函〔2021〕1号"]


def test_visit_before_the_case_opened_is_refused(make_child, today_is):
    today_is(date(2021, 5, 1))
    case = open_case(make_child(), on=date(2021, 3, 10))
    with pytest.raises(services.CaseError, match="早于立案日期"):
        services.log_home_visit(case.child, case=case, visited_on=date(2021, 3, 2), visitors="李老师", form="入户",
                                findings="x")


def test_fine_with_more_than_two_decimals_is_refused(make_child, today_is):
    from edu_guard.cases.services import _fine

    with pytest.raises(services.CaseError, match="精确到分"):
        _fine("200.555")
    with pytest.raises(services.CaseError, match="请填写罚款金额"):
        _fine("abc")
    assert str(_fine("200.5")) == "200.5"


def test_concurrent_writers_second_is_told(app, make_child, today_is):
    """Two sessions load the same case; the second flush hits the version check."""
    today_is(date(2021, 5, 1))
    case_id = open_case(make_child()).id
    db.session.remove()
    from sqlalchemy.orm import Session

    with Session(db.engine) as s1, Session(db.engine) as s2:
        c1, c2 = s1.get(DropoutCase, case_id), s2.get(DropoutCase, case_id)
        c1.reason_note = "第一位"
        s1.commit()
        c2.reason_note = "第二位"
        with pytest.raises(sa.orm.exc.StaleDataError):
            s2.commit()
    assert db.session.get(DropoutCase, case_id).reason_note == "第一位"


def test_visit_without_case_and_validation(make_child, today_is):
    today_is(date(2021, 5, 1))
    child = make_child()
    visit = services.log_home_visit(child, visited_on=date(2021, 4, 1), visitors="王老师", form="微信",
                                    findings="孩子在家，情绪稳定")
    db.session.commit()
    assert visit.case_id is None and child.id == visit.child_id
    with pytest.raises(services.CaseError, match="家访形式"):
        services.log_home_visit(child, visited_on=date(2021, 4, 1), visitors="王", form="上门", findings="x")
    with pytest.raises(services.CaseError, match="晚于今天"):
        services.log_home_visit(child, visited_on=date(2021, 5, 2), visitors="王", form="入户", findings="x")
