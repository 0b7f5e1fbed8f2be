"""The legal procedure on the case page: statements, the decided fine, service
corrections, time limits, the 估算 mark, the settings warning and the due-within filter."""

import re
from datetime import date

import sqlalchemy as sa

from edu_guard.cases import services
from edu_guard.cases.models import DropoutCase
from edu_guard.db import db
from edu_guard.testing import act_through_page, case_with_order_through_page, serve_through_page


_post = act_through_page


def _case_at_notice(client, child):
    """A case at step 3: its order served on 10 March 2021, the penalty notice issued on
    25 March and served on 26 March."""
    case, order = case_with_order_through_page(client, child)
    serve_through_page(client, case, order, "2021-03-10")
    _post(client, case, "escalate_to_penalty", "2021-03-25")
    _post(client, case, "issue_penalty_notice", "2021-03-25", fine="100")
    notice = [l for l in case.letters if l.kind == "penalty_notice"][0]
    serve_through_page(client, case, notice, "2021-03-26")
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
    client = login(make_user("clerk"))
    page = client.get(f"/cases/{case.id}").text
    assert "2027-01-08" in page and "估算" in page and "调休工作日未计入" in page
    # A letter printing that date is issued only when confirmed, and its page says 估算.
    today_is(date(2027, 1, 11))
    monkeypatch.setattr(letter_services, "local_today", lambda: date(2027, 1, 11))
    services.fire(case, "escalate_to_penalty", on=date(2027, 1, 11))
    db.session.commit()
    resp = _post(client, case, "issue_penalty_notice", "2027-01-11", fine="100")
    assert "本文书的期限按估算的节假日安排计算（责令改正期限 2027-01-08（估算））" in resp.text
    # The preview: the letter as it would print, unnumbered, its estimated date marked.
    resp = _post(client, case, "issue_penalty_notice", "2027-01-11", fine="100", preview="y")
    assert "文书预览" in resp.text and "data:application/pdf;base64," in resp.text
    assert "责令改正期限 2027-01-08（估算）" in resp.text and "确认按估算日期制发" in resp.text
    assert not [l for l in case.letters if l.kind == "penalty_notice"]
    resp = _post(client, case, "issue_penalty_notice", "2027-01-11", fine="100", confirm_estimate="y")
    assert "已办理" in resp.text, re.findall(r"flash[^>]*>([^<]*)", resp.text)
    notice = next(l for l in case.letters if l.kind == "penalty_notice")
    letter_page = client.get(f"/letters/{notice.id}").text
    assert "估算" in letter_page and "责令改正期限 2027-01-08（估算）" in letter_page


def test_missing_settings_warn_the_admin_on_every_page(letters_ready, make_user, login):
    """Basis, fine range, payment channel and contact: the admin is warned on every
    page (the layout), other roles are not."""
    letters_ready.config["EDU_GUARD_FINE_PAYMENT_ACCOUNT"] = {"bank": "中国农业银行景洪市分行"}
    letters_ready.config["EDU_GUARD_BUREAU_CONTACT"] = {}
    admin = login(make_user("admin"))
    for url in ("/", "/children", "/cases", "/letters"):
        page = admin.get(url, follow_redirects=True).text
        assert 'id="legal-settings-warning"' in page, url
        assert "EDU_GUARD_FINE_PAYMENT_ACCOUNT" in page and "EDU_GUARD_BUREAU_CONTACT" in page
        assert "EDU_GUARD_PENALTY_BASIS" not in page
    clerk = login(make_user("clerk", username="clerk2"))
    assert 'id="legal-settings-warning"' not in clerk.get("/cases").text


def test_no_warning_when_everything_is_set(letters_ready, make_user, login):
    assert 'id="legal-settings-warning"' not in login(make_user("admin")).get("/cases").text


def test_the_admin_loads_a_years_arrangement(letters_ready, make_child, make_user, login, today_is, monkeypatch):
    """Until 2027's arrangement is loaded, a deadline in it is an estimate; the admin
    types the State Council's notice and it no longer is."""
    from edu_guard.cases.machine import order_deadline
    from edu_guard.letters import services as letter_services

    today_is(date(2027, 1, 4))
    monkeypatch.setattr(letter_services, "local_today", lambda: date(2027, 1, 4))
    child = make_child()
    case = services.open_case(child, reason="厌学", opened_on=date(2026, 12, 1))
    db.session.commit()
    services.log_home_visit(child, case=case, visited_on=date(2026, 12, 1), visitors="李老师", form="入户", findings="x")
    services.fire(case, "escalate_to_order", on=date(2026, 12, 21))
    order = services.fire(case, "issue_order", on=date(2026, 12, 21)).letter
    services.record_service(case, order.id, served_on=date(2026, 12, 24), manner="直接送达", served_to="x", served_by="y")
    db.session.commit()
    assert order_deadline(services.facts_for(case)).estimated
    assert login(make_user("clerk")).get("/admin/holidays").status_code == 403
    admin = login(make_user("admin", username="admin2"))
    page = admin.get("/admin/holidays").text
    assert 'id="year-2027"' in page and "尚未载入" in page
    # 元旦 is a statutory holiday: it can never be a make-up working day.
    resp = admin.post("/admin/holidays", data={"year": 2027, "source": "国办发明电〔2026〕1号",
                                               "holidays": "2027-01-02", "workdays": "2027-01-01"},
                      follow_redirects=True)
    assert "法定节假日不能调为上班日：2027-01-01" in resp.text
    # Every statutory holiday of 2027 must be among the rest days (春节 from 除夕 5 Feb).
    resp = admin.post("/admin/holidays", data={"year": 2027, "source": "国办发明电〔2026〕1号",
                                               "holidays": "2027-01-01", "workdays": ""}, follow_redirects=True)
    assert "放假日期缺少这些法定节假日：2027-02-05" in resp.text
    # A made-up arrangement for the test: 元旦 1–3 January, make-up working Saturday 9 January.
    rest = ("2027-01-01~2027-01-03 2027-02-05~2027-02-11 2027-04-05 2027-05-01~2027-05-05 2027-06-09 "
            "2027-09-15 2027-10-01~2027-10-07")
    resp = admin.post("/admin/holidays", data={"year": 2027, "source": "国办发明电〔2026〕1号", "holidays": rest,
                                               "workdays": "2027-01-09"}, follow_redirects=True)
    assert "已载入 2027 年的节假日安排" in resp.text and "国办发明电〔2026〕1号" in resp.text
    # Stored in the database (shared by every process), not the instance folder; audited.
    from edu_guard import deadlines
    from edu_guard.auth.models import AuditLog, User

    assert db.session.get(deadlines.HolidayArrangement, 2027).workdays == ["2027-01-09"]
    entry = db.session.scalars(sa.select(AuditLog).where(AuditLog.action == "load_holidays")).one()
    assert entry.user_id == db.session.scalars(sa.select(User.id).where(User.username == "admin2")).one()
    assert entry.after["year"] == 2027 and entry.after["source"] == "国办发明电〔2026〕1号"
    # From Thu 24 Dec 2026: 25, 28–31 Dec (5); 4–8 Jan (10) → Fri 8 Jan 2027, now official.
    deadline = order_deadline(services.facts_for(case))
    assert (deadline.day, deadline.estimated) == (date(2027, 1, 8), False)
    # Served on Thu 31 Dec instead: 4–8 (5), Sat 9 (make-up, 6), 11–14 Jan (10) → 14 Jan.
    services.correct_service(case, order.id, served_on=date(2026, 12, 31), reason="回证日期抄录错误")
    db.session.commit()
    assert order_deadline(services.facts_for(case)).day == date(2027, 1, 14)


def test_addresses_are_set_on_the_case_page(letters_ready, make_child, make_user, login, today_is):
    from edu_guard.auth.models import AuditLog, User

    today_is(date(2021, 4, 6))
    child = make_child()
    case = services.open_case(child, reason="厌学", opened_on=date(2021, 3, 1))
    db.session.commit()
    client = login(make_user("clerk"))
    assert "住址和身份证号" in client.get(f"/cases/{case.id}").text
    resp = client.post(f"/cases/{case.id}/addresses", data={"guardian_address": "景洪市勐罕镇曼远村3号",
                                                            "child_address": child.address}, follow_redirects=True)
    assert "已登记住址和身份信息" in resp.text
    db.session.expire_all()
    assert child.guardians[0].address == "景洪市勐罕镇曼远村3号"
    changed = db.session.scalars(sa.select(AuditLog).where(AuditLog.action == "update")).all()
    assert [a.entity for a in changed] == ["guardian"]  # the child's unchanged address is not rewritten


def test_a_statement_after_the_demand_through_the_page(letters_ready, make_child, make_user, login, today_is):
    """The party's statement after the 催告书 and its review are events of the case page
    (行政强制法 Art. 36); the timeline shows what was said."""
    today_is(date(2021, 10, 27))
    child = make_child()
    client = login(make_user("clerk"))
    case, order = _case_at_notice(client, child)
    _post(client, case, "issue_penalty_decision", "2021-04-06")
    decision = [l for l in case.letters if l.kind == "penalty_decision"][0]
    db.session.refresh(case)
    client.post(f"/cases/{case.id}/service", data={"version": case.version, "letter_id": decision.id,
                                                  "served_on": "2021-04-07", "manner": "直接送达",
                                                  "served_to": "岩温之父", "served_by": "刀建华"})
    _post(client, case, "escalate_to_enforcement", "2021-10-11")
    _post(client, case, "issue_demand", "2021-10-11")
    demand = [l for l in case.letters if l.kind == "demand"][0]
    db.session.refresh(case)
    client.post(f"/cases/{case.id}/service", data={"version": case.version, "letter_id": demand.id,
                                                  "served_on": "2021-10-12", "manner": "直接送达",
                                                  "served_to": "岩温之父", "served_by": "刀建华"})
    page = client.get(f"/cases/{case.id}").text
    assert "登记催告后的陈述、申辩" in page and "行政强制法第三十六条" in page
    resp = _post(client, case, "record_demand_statement", "2021-10-14", content="无力一次缴清")
    assert "已办理：登记催告后的陈述、申辩" in resp.text and "无力一次缴清" in resp.text
    resp = _post(client, case, "apply_to_court", "2021-10-27", representative="王建国")
    assert "尚未复核（行政强制法第三十六条）" in resp.text
    resp = _post(client, case, "review_demand_statement", "2021-10-15", result="不采纳", content="理由不成立")
    assert "已办理：复核催告后的陈述、申辩" in resp.text and "理由不成立（不采纳）" in resp.text
    _post(client, case, "apply_to_court", "2021-10-27", representative="王建国")
    application = [l for l in case.letters if l.kind == "enforcement_application"][0]
    assert "被申请人于2021年10月14日进行陈述、申辩，称：无力一次缴清。" in application.context["party_statement"]


def test_voiding_a_past_case_s_letter_is_dated_on_the_case_s_time(letters_ready, make_child, make_user, login, today_is):
    """QA: voiding a 2021 letter in 2026 put "作废 2026-…" between 2021 events. The form
    proposes the case's last act's date (the case is in a closed term) and the date
    entered is the one stored; a date before the letter's own is refused."""
    today_is(date(2026, 12, 1))
    child = make_child()
    client = login(make_user("clerk"))
    case, order = _case_at_notice(client, child)
    notice = [l for l in case.letters if l.kind == "penalty_notice"][0]
    page = client.get(f"/cases/{case.id}").text
    # The last act: the notice served on 26 March 2021.
    assert re.search(r'<input id="on" min="2021-03-25" name="on" type="date" value="2021-03-26">', page)
    db.session.refresh(case)
    resp = client.post(f"/cases/{case.id}/letters/void", data={"version": case.version, "letter_id": notice.id,
                                                              "on": "2021-03-24", "reason": "罚款写错"},
                       follow_redirects=True)
    assert "作废日期 2021-03-24 早于文书日期 2021-03-25" in resp.text
    db.session.refresh(notice)
    assert notice.voided_on is None
    db.session.refresh(case)
    resp = client.post(f"/cases/{case.id}/letters/void", data={"version": case.version, "letter_id": notice.id,
                                                              "on": "2021-03-27", "reason": "罚款写错"},
                       follow_redirects=True)
    assert "文书已作废" in resp.text
    db.session.refresh(notice)
    assert notice.voided_on == date(2021, 3, 27)
    ev = [e for e in case.events if e.event == "void_letter"][0]
    assert ev.acted_on == date(2021, 3, 27)
    # No date sent (an old page): the case's own default, not today.
    db.session.refresh(case)
    client.post(f"/cases/{case.id}/letters/void", data={"version": case.version, "letter_id": order.id,
                                                       "reason": "监护人姓名错误"})
    db.session.refresh(order)
    assert order.voided_on == date(2021, 3, 27)


def test_a_corrected_service_flashes_the_period_that_letter_sets(letters_ready, make_child, make_user, login, today_is):
    """QA: after the child had returned to school, correcting the order's service
    flashed "本步期限" of the follow-up (30 days after return), not the order's
    period. The order (served, corrected, on Thu 11 March 2021) sets 10 working days
    counted from the next day: 12, 15–19, 22–25 March → 2021-03-25; the follow-up
    would end 2021-03-15 + 30 days = 2021-04-14."""
    today_is(date(2021, 4, 1))
    child = make_child()
    client = login(make_user("clerk"))
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
    _post(client, case, "return_to_school", "2021-03-15")
    db.session.refresh(case)
    assert case.state == "following_up" and case.deadline == date(2021, 4, 14)
    resp = client.post(f"/cases/{case.id}/service/correct", data={"version": case.version, "letter_id": order.id,
                                                                 "served_on": "2021-03-11", "manner": "直接送达",
                                                                 "reason": "抄录错误"}, follow_redirects=True)
    flash = re.search(r"已更正送达记录[^<]*", resp.text).group(0)
    assert "期限至 2021-03-25" in flash and order.doc_number in flash and "2021-04-14" not in flash
    assert services.service_deadline(case, order) == date(2021, 3, 25)
