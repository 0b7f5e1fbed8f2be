"""Refusals, the reasons a next step is not allowed, timeline notes and deadline
warnings of a case read in the page's language (English with ``?lang=en``, kept in a
cookie); the letters and the case file stay Chinese, they are official documents."""

from __future__ import annotations

import io
import re
from datetime import date

import pytest
import sqlalchemy as sa
from pypdf import PdfReader

from edu_guard.auth.models import AuditLog
from edu_guard.cases import services
from edu_guard.db import db
from edu_guard.testing import act_through_page, case_with_order_through_page, serve_through_page, speak


_post, _serve, _case_with_order = act_through_page, serve_through_page, case_with_order_through_page


def _text(html: str) -> str:
    """The page's text with tags removed and entities of quotes undone (for plain asserts)."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).replace("&#34;", '"').replace("&#39;", "'")


def test_a_refusal_reads_in_the_language_of_the_page(letters_ready, make_child, make_user, login, today_is):
    today_is(date(2021, 4, 1))
    child = make_child()
    client = login(make_user("clerk"))
    case, order = _case_with_order(client, child)

    def void_too_early():
        db.session.refresh(case)
        return client.post(f"/cases/{case.id}/letters/void", data={"version": case.version, "letter_id": order.id,
                                                                  "on": "2021-03-08", "reason": "写错了"},
                           follow_redirects=True).text

    speak(client, "en")
    assert "The voiding date 2021-03-08 is before the letter's date 2021-03-09" in _text(void_too_early())
    speak(client, "zh")
    assert "作废日期 2021-03-08 早于文书日期 2021-03-09" in void_too_early()
    # A service before the letter's date, refused by the letters' service (re-raised by the case's).
    speak(client, "en")
    page = _text(_serve(client, case, order, "2021-03-08").text)
    assert f"The service date 2021-03-08 is before the letter's date 2021-03-09 ({order.doc_number})" in page


def test_why_a_step_is_not_allowed_reads_in_the_language_of_the_page(letters_ready, make_child, make_user, login,
                                                                    today_is):
    today_is(date(2021, 4, 1))
    child = make_child()
    client = login(make_user("clerk"))
    case, order = _case_with_order(client, child)
    # The order is not served: step 3 waits for its service (the action list says why).
    english = _text((speak(client, "en") or client.get(f"/cases/{case.id}")).text)
    assert "not served yet (record the proof of service)" in english
    assert "尚未送达（请登记送达回证）" not in english
    chinese = (speak(client, "zh") or client.get(f"/cases/{case.id}")).text
    assert "责令限期改正通知书尚未送达（请登记送达回证）" in chinese
    # Refused when sent anyway: the same reason, flashed in English.
    speak(client, "en")
    flashed = _text(_post(client, case, "escalate_to_penalty", "2021-03-31").text)
    assert "not served yet (record the proof of service)" in flashed


def test_timeline_notes_are_stored_and_shown_in_the_reader_s_language(letters_ready, make_child, make_user, login,
                                                                     today_is):
    today_is(date(2021, 4, 1))
    child = make_child()
    client = login(make_user("clerk"))
    case, order = _case_with_order(client, child)
    speak(client, "zh")
    _serve(client, case, order, "2021-03-10")  # recorded on a Chinese page
    db.session.refresh(case)
    client.post(f"/cases/{case.id}/service/correct", data={"version": case.version, "letter_id": order.id,
                                                          "served_on": "2021-03-11", "manner": "直接送达",
                                                          "reason": "抄录错误"})
    db.session.expire_all()  # read back from the database, as a later request does
    english = _text((speak(client, "en") or client.get(f"/cases/{case.id}")).text)
    assert f"({order.doc_number}) served on 2021-03-10, In person, to 岩温之父" in english
    assert (f"Service record of {order.doc_number} corrected from 2021-03-10 In person to 2021-03-11 In person: "
            f"抄录错误") in english
    chinese = (speak(client, "zh") or client.get(f"/cases/{case.id}")).text
    assert f"（{order.doc_number}）2021-03-10 直接送达，受送达人 岩温之父" in chinese
    assert "送达记录由 2021-03-10 直接送达 更正为 2021-03-11 直接送达：抄录错误" in chinese
    # The case file (一案一档) is an official register: Chinese on an English page.
    speak(client, "en")
    pdf = client.get(f"/cases/{case.id}/file.pdf")
    assert pdf.status_code == 200
    text = re.sub(r"\s+", "", "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.data)).pages))
    assert "送达记录由2021-03-10直接送达更正为2021-03-11直接送达：抄录错误" in text
    assert "corrected" not in text and "In person" not in text


def test_deadline_warnings_read_in_the_language_of_the_page(letters_ready, make_child, make_user, login, today_is):
    """Step 3 began 25 March 2021: the decision is due within 90 days → 23 June 2021,
    3 days after 20 June."""
    today_is(date(2021, 6, 20))
    child = make_child()
    client = login(make_user("clerk"))
    case, order = _case_with_order(client, child)
    _serve(client, case, order, "2021-03-10")
    _post(client, case, "escalate_to_penalty", "2021-03-25")
    db.session.refresh(case)
    assert case.state == "penalty"
    english = _text((speak(client, "en") or client.get(f"/cases/{case.id}")).text)
    assert "expires in 3 days" in english and "日后届满" not in english
    chinese = (speak(client, "zh") or client.get(f"/cases/{case.id}")).text
    assert "3 日后届满" in chinese


def test_a_corrected_service_is_dated_on_its_corrected_day(letters_ready, make_child, make_user, login, today_is):
    """A 2021 case entered in 2026: the correction of the order's service (10 → 12 March
    2021), made after step 3 began, is on the timeline at 12 March 2021 among the case's
    own acts, not at the day the clerk typed it; that day is kept in the event's data and
    the audit log."""
    today_is(date(2026, 11, 30))
    child = make_child()
    case = services.open_case(child, reason="厌学", opened_on=date(2021, 3, 1))
    services.log_home_visit(child, visited_on=date(2021, 3, 2), visitors="李老师", form="入户", findings="x", case=case)
    services.fire(case, "escalate_to_order", on=date(2021, 3, 9))
    order = services.fire(case, "issue_order", on=date(2021, 3, 9)).letter
    services.record_service(case, order.id, served_on=date(2021, 3, 10), manner="直接送达", served_to="岩温之父",
                            served_by="刀建华")
    services.fire(case, "escalate_to_penalty", on=date(2021, 3, 25))
    db.session.commit()
    ev = services.correct_service(case, order.id, served_on=date(2021, 3, 12), reason="回证日期抄录错误")
    db.session.commit()
    assert ev.acted_on == date(2021, 3, 12)
    # In the state the case was in on that day (the reports read each event's state at
    # its date): the case was at step 2 then, at step 3 now.
    assert (ev.from_state, ev.to_state, case.state) == ("order_to_correct", "order_to_correct", "penalty")
    assert services.state_on(case, date(2021, 3, 20)) == "order_to_correct"
    assert ev.data["corrected_on"] == "2026-11-30"
    assert services.last_act_on(case) == date(2021, 3, 25)  # the case's own time, not 2026
    entry = db.session.execute(sa.select(AuditLog).where(AuditLog.action == "correct_service")).scalar_one()
    assert entry.after["served_on"] == "2021-03-12" and entry.after["reason"] == "回证日期抄录错误"
    client = login(make_user("clerk"))
    page = (speak(client, "zh") or client.get(f"/cases/{case.id}")).text
    entry_html = re.search(r'<li><span class="date">([\d-]+)</span>\s*<strong>更正送达记录</strong>', page)
    assert entry_html.group(1) == "2021-03-12"


def test_a_holiday_arrangement_refusal_reads_in_the_language_of_the_page(app):
    """The calendar module lies below the translations' layer: its refusal carries its
    catalogue id, and the case service shows it in the reader's language."""
    def load():
        with pytest.raises(services.CaseError) as refused:
            services.load_holiday_arrangement(2027, "2027-02-30", "", "国办发明电〔2026〕1号")
        return str(refused.value)

    with app.test_request_context("/?lang=en"):
        assert load() == "Rest days: “2027-02-30” is not a date (use YYYY-MM-DD or YYYY-MM-DD~YYYY-MM-DD)"
    with app.test_request_context("/?lang=zh"):
        assert load() == "放假日期中的“2027-02-30”不是日期（应为 YYYY-MM-DD 或 YYYY-MM-DD~YYYY-MM-DD）"


def test_estimated_periods_read_in_the_language_of_the_page(letters_ready, make_child, make_user, login, today_is,
                                                            monkeypatch):
    """A letter whose dates rest on an estimated holiday calendar: the refusal to issue it
    unconfirmed, and the estimated dates kept with the act and shown on the letter's page,
    read in the page's language."""
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
    today_is(date(2027, 1, 11))
    monkeypatch.setattr(letter_services, "local_today", lambda: date(2027, 1, 11))
    services.fire(case, "escalate_to_penalty", on=date(2027, 1, 11))
    db.session.commit()
    client = login(make_user("clerk"))
    speak(client, "en")
    refused = _text(_post(client, case, "issue_penalty_notice", "2027-01-11", fine="100").text)
    assert "This letter's periods are counted on an estimated holiday calendar " \
           "(correction deadline 2027-01-08 (estimated))" in refused
    speak(client, "zh")
    _post(client, case, "issue_penalty_notice", "2027-01-11", fine="100", confirm_estimate="y")
    notice = next(l for l in case.letters if l.kind == "penalty_notice")
    db.session.expire_all()
    assert "责令改正期限 2027-01-08（估算）" in client.get(f"/letters/{notice.id}").text
    speak(client, "en")
    assert "correction deadline 2027-01-08 (estimated)" in client.get(f"/letters/{notice.id}").text


def test_the_letters_table_names_the_manner_of_service_in_the_page_language(letters_ready, make_child, make_user,
                                                                            login, today_is):
    today_is(date(2021, 4, 1))
    child = make_child()
    client = login(make_user("clerk"))
    case, order = _case_with_order(client, child)
    _serve(client, case, order, "2021-03-10")
    english = _text((speak(client, "en") or client.get(f"/cases/{case.id}")).text)
    assert "2021-03-10 In person 岩温之父" in english and "直接送达 岩温之父" not in english
    chinese = _text((speak(client, "zh") or client.get(f"/cases/{case.id}")).text)
    assert "2021-03-10 直接送达 岩温之父" in chinese


def test_a_home_visit_from_the_childs_page_says_what_is_missing(make_child, make_user, login, today_is):
    """A visit posted from the child's page with a field missing is refused with the
    field and the reason (it used to come back silently), in the page's language and
    punctuation."""
    today_is(date(2021, 4, 1))
    child = make_child()
    client = login(make_user("clerk"))
    speak(client, "en")
    page = client.post(f"/children/{child.id}/visits", data={"visited_on": "2021-03-05", "form": "入户",
                                                             "visitors": "", "findings": ""})
    flashed = _text(page.text)
    assert "Visitors: " in flashed and "What was found: " in flashed and "；" not in flashed and "：" not in flashed
    speak(client, "zh")
    page = client.post(f"/children/{child.id}/visits", data={"visited_on": "2021-03-05", "form": "入户",
                                                             "visitors": "", "findings": ""})
    assert "家访人员：" in page.text
