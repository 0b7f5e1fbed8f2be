"""The legal procedure on the case page: statements, the decided fine, service
corrections, time limits, the 估算 mark, the settings warning and the due-within filter."""

from datetime import date

import sqlalchemy as sa

from edu_guard.cases import services
from edu_guard.cases.models import DropoutCase
from edu_guard.db import db


def _post(client, case, event, on, **fields):
    db.session.refresh(case)
    return client.post(f"/cases/{case.id}/act", data={"event": event, "version": case.version, "on": on, **fields},
                       follow_redirects=True)


def _case_at_notice(client, child):
    client.post(f"/children/{child.id}/cases/new", data={"reason": "厌学", "opened_on": "2021-03-01"})
    case = db.session.execute(sa.select(DropoutCase)).scalar_one()
    client.post(f"/cases/{case.id}/visits", data={"visited_on": "2021-03-02", "visitors": "李老师", "form": "入户",
                                                 "findings": "x", "version": case.version})
    _post(client, case, "escalate_to_order", "2021-03-09")
    _post(client, case, "issue_order", "2021-03-09")
    order = case.letters[0]
    db.session.refresh(case)
    client.post(f"/cases/{case.id}/service", data={"version": case.version, "letter_id": order.id, "served_on": "2021-03-10",
                                                  "manner": "直接送达", "served_to": "岩温之父", "served_by": "刀建华"})
    _post(client, case, "escalate_to_penalty", "2021-03-25")
    _post(client, case, "issue_penalty_notice", "2021-03-25", fine="100")
    notice = [l for l in case.letters if l.kind == "penalty_notice"][0]
    db.session.refresh(case)
    client.post(f"/cases/{case.id}/service", data={"version": case.version, "letter_id": notice.id, "served_on": "2021-03-26",
                                                  "manner": "直接送达", "served_to": "岩温之父", "served_by": "刀建华"})
    return case, order


def test_statement_and_reduced_fine_through_the_page(letters_ready, make_child, make_user, login, today_is):
    today_is(date(2021, 4, 6))
    child = make_child()
    client = login(make_user("clerk"))
    case, order = _case_at_notice(client, child)
    page = client.get(f"/cases/{case.id}").text
    assert "登记陈述、申辩" in page and "行政处罚法第四十五条" in page
    resp = _post(client, case, "record_statement", "2021-03-29", content="家庭困难")
    assert "已办理：登记陈述、申辩" in resp.text
    resp = _post(client, case, "issue_penalty_decision", "2021-04-06", fine="60", fine_reason="家庭困难")
    assert "尚未复核" in resp.text
    _post(client, case, "review_statement", "2021-03-31", result="部分采纳", content="属实")
    resp = _post(client, case, "issue_penalty_decision", "2021-04-06", fine="60", fine_reason="鉴于家庭困难")
    decision = [l for l in case.letters if l.kind == "penalty_decision"][0]
    assert decision.context["fine"] == "60.00" and decision.context["notice_fine"] == "100.00"
    # The service record of the order is corrected; the timeline keeps both dates.
    db.session.refresh(case)
    resp = client.post(f"/cases/{case.id}/service/correct", data={"version": case.version, "letter_id": order.id,
                                                                 "served_on": "2021-03-11", "manner": "直接送达",
                                                                 "reason": "抄录错误"}, follow_redirects=True)
    assert "已更正送达记录" in resp.text and "由 2021-03-10 直接送达 更正为 2021-03-11 直接送达：抄录错误" in resp.text


def test_time_limits_warnings_and_filter(letters_ready, make_child, make_user, login, today_is):
    today_is(date(2021, 6, 20))
    child = make_child()
    client = login(make_user("clerk"))
    case, _ = _case_at_notice(client, child)
    # Step 3 began 25 March 2021: the decision is due within 90 days → 23 June 2021 (Wed).
    page = client.get(f"/cases/{case.id}").text
    assert "立案后九十日内作出行政处罚决定（行政处罚法第六十条）：2021-06-23" in page and "3 日后届满" in page
    listing = client.get("/cases?due_within=5").text
    assert child.name in listing
    assert child.name not in client.get("/cases?due_within=2").text


def test_missing_penalty_settings_warn_the_admin(letters_ready, make_child, make_user, login, today_is):
    today_is(date(2021, 4, 6))
    letters_ready.config["EDU_GUARD_FINE_MAX"] = None
    child = make_child()
    case = services.open_case(child, reason="厌学", opened_on=date(2021, 3, 1))
    db.session.commit()
    page = login(make_user("admin")).get(f"/cases/{case.id}").text
    assert "本县尚未设置行政处罚的依据和罚款幅度" in page and "EDU_GUARD_FINE_MAX" in page


def test_estimated_deadline_is_marked_on_the_page(letters_ready, make_child, make_user, login, today_is, monkeypatch):
    from edu_guard.letters import services as letter_services

    today_is(date(2026, 12, 28))
    monkeypatch.setattr(letter_services, "local_today", lambda: date(2026, 12, 28))
    child = make_child()
    case = services.open_case(child, reason="厌学", opened_on=date(2026, 12, 1))
    db.session.commit()
    services.log_home_visit(child, case=case, visited_on=date(2026, 12, 1), visitors="李老师", form="入户", findings="x")
    services.fire(case, "escalate_to_order", on=date(2026, 12, 21))
    order = services.fire(case, "issue_order", on=date(2026, 12, 21)).letter
    services.record_service(case, order.id, served_on=date(2026, 12, 24), manner="直接送达", served_to="x", served_by="y")
    db.session.commit()
    page = login(make_user("clerk")).get(f"/cases/{case.id}").text
    assert "2027-01-08" in page and "估算" in page and "调休工作日未计入" in page
