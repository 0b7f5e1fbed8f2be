"""A case walked from opening through all four steps, every letter printed and read
back from its PDF, and every illegal shortcut on the way refused."""

from __future__ import annotations

import hashlib
import io
import re
from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa
from pypdf import PdfReader

from edu_guard.cases import services
from edu_guard.cases.models import CaseEvent
from edu_guard.db import db
from edu_guard.letters.models import Letter


def pdf_text(app, letter: Letter) -> str:
    """The text of the stored PDF, checked against its sha256, without line breaks."""
    data = (Path(app.instance_path) / letter.pdf_path).read_bytes()
    assert hashlib.sha256(data).hexdigest() == letter.sha256
    reader = PdfReader(io.BytesIO(data))
    text = "".join(page.extract_text() for page in reader.pages).replace("\n", "").replace(" ", "")
    return re.sub(r"—\d+—", "", text)  # page numbers (— 2 —) fall inside a sentence running over a page


def refused(case, event, on, match, **kw):
    with pytest.raises(services.CaseError, match=match):
        services.fire(case, event, on=on, **kw)
    db.session.rollback()


def act(case, event, on, **kw):
    ev = services.fire(case, event, on=on, **kw)
    db.session.commit()
    return ev


def serve(case, letter, on):
    services.record_service(case, letter.id, served_on=on, manner="直接送达", served_to="岩温之父",
                            served_by="勐罕镇人民政府 刀建华、李老师")
    db.session.commit()


def test_four_steps_with_letters(letters_ready, make_child, today_is):
    app = letters_ready
    today_is(date(2022, 3, 1))
    child = make_child("岩温", "532801200901142690")
    case = services.open_case(child, reason="外出务工", opened_on=date(2021, 3, 1),
                              assignments=[{"role": "class_teacher", "name": "李老师", "phone": "13900000000"}])
    db.session.commit()

    # Step 1 → 2: a visit and seven days first; the order cannot be issued in step 1.
    refused(case, "issue_order", date(2021, 3, 9), "不能“制发责令限期改正通知书")
    refused(case, "escalate_to_order", date(2021, 3, 9), "家访")
    services.log_home_visit(child, case=case, visited_on=date(2021, 3, 2), visitors="李老师、村主任岩罕",
                            form="入户", findings="监护人称孩子随其在昆明务工")
    db.session.commit()
    refused(case, "escalate_to_order", date(2021, 3, 8), "2021-03-08")
    refused(case, "escalate_to_penalty", date(2021, 3, 9), "不能“转入第三步")
    act(case, "escalate_to_order", date(2021, 3, 9))

    # Step 2: the township's order, served on Wed 10 March; return within 10 working days.
    order = act(case, "issue_order", date(2021, 3, 9)).letter
    assert order.doc_number == "勐罕政责改〔2021〕1号"
    assert order.issuer_name == "勐罕镇人民政府"
    text = pdf_text(app, order)
    for expected in ("责令限期改正通知书", "勐罕政责改〔2021〕1号", "岩温", "勐罕中心小学", "2021年3月9日",
                     "送达回证", "义务教育法"):
        assert expected in text, expected
    # The period runs from service; the penalty letters give the date it produced.
    assert "自收到本通知书之日起10个工作日内" in text
    refused(case, "escalate_to_penalty", date(2021, 3, 30), "尚未送达")
    refused(case, "issue_order", date(2021, 3, 10), "已制发")
    serve(case, order, date(2021, 3, 10))
    assert case.deadline == date(2021, 3, 24)
    refused(case, "escalate_to_penalty", date(2021, 3, 24), "2021-03-24")
    act(case, "escalate_to_penalty", date(2021, 3, 25))

    # Step 3: notice with a fine in range, then the decision after the hearing window.
    refused(case, "issue_penalty_notice", date(2021, 3, 25), "不在本地法规规定的", data={"fine": "5000"})
    refused(case, "issue_penalty_decision", date(2021, 3, 25), "尚未制发行政处罚告知书")
    notice = act(case, "issue_penalty_notice", date(2021, 3, 25), data={"fine": "200"}).letter
    assert notice.doc_number == "景教体罚告〔2021〕1号"
    text = pdf_text(app, notice)
    for expected in ("行政处罚告知书", "景教体罚告〔2021〕1号", "岩温", "200", "陈述", "听证", "2021年3月25日",
                     "勐罕政责改〔2021〕1号", "于2021年3月10日", "于2021年3月24日前"):
        assert expected in text, expected
    serve(case, notice, date(2021, 3, 26))  # Fri; 5 working days end Fri 2 April (清明 3–5 April)
    refused(case, "issue_penalty_decision", date(2021, 4, 2), "2021-04-02")
    decision = act(case, "issue_penalty_decision", date(2021, 4, 6)).letter
    text = pdf_text(app, decision)
    for expected in ("行政处罚决定书", "景教体罚决〔2021〕1号", "岩温", "200", "行政复议", "行政诉讼",
                     "景洪市人民政府", "十五日", "2021年4月6日"):
        assert expected in text, expected
    serve(case, decision, date(2021, 4, 7))
    # Review (60 days) and lawsuit (6 months) periods: six months from 7 April → Thu 7 Oct
    # is in the National Day holiday, so the period ends Fri 8 October 2021.
    assert case.deadline == date(2021, 10, 8)
    refused(case, "escalate_to_enforcement", date(2021, 10, 8), "2021-10-08")
    act(case, "escalate_to_enforcement", date(2021, 10, 11))

    # Step 4: the demand, ten working days after its service, then the application.
    demand = act(case, "issue_demand", date(2021, 10, 11)).letter
    text = pdf_text(app, demand)
    for expected in ("催告书", "景教体催告〔2021〕1号", "岩温", "景教体罚决〔2021〕1号", "2021年10月11日"):
        assert expected in text, expected
    refused(case, "apply_to_court", date(2021, 10, 25), "催告书尚未送达", data={"representative": "王局长"})
    serve(case, demand, date(2021, 10, 12))
    refused(case, "apply_to_court", date(2021, 10, 26), "2021-10-26", data={"representative": "王局长"})
    refused(case, "apply_to_court", date(2021, 10, 27), "法定代表人")
    application = act(case, "apply_to_court", date(2021, 10, 27), data={"representative": "王建国"}).letter
    text = pdf_text(app, application)
    for expected in ("强制执行申请书", "景洪市人民法院", "王建国", "岩温", "景教体罚决〔2021〕1号",
                     "景教体催告〔2021〕1号", "2021年10月27日"):
        assert expected in text, expected

    # The child returns; after the follow-up the case is closed (销号).
    act(case, "return_to_school", date(2021, 11, 1))
    refused(case, "close_follow_up", date(2021, 12, 1), "2021-12-01")
    act(case, "close_follow_up", date(2021, 12, 2))
    assert case.state == "closed" and case.closed_reason == "2021-11-01 复学，跟踪期满销号"

    events = db.session.execute(sa.select(CaseEvent.event).where(CaseEvent.case_id == case.id)
                                .order_by(CaseEvent.id)).scalars().all()
    assert events == ["open", "escalate_to_order", "issue_order", "record_service", "escalate_to_penalty",
                      "issue_penalty_notice", "record_service", "issue_penalty_decision", "record_service",
                      "escalate_to_enforcement", "issue_demand", "record_service", "apply_to_court",
                      "return_to_school", "close_follow_up"]
    assert [l.kind for l in sorted(case.letters, key=lambda l: l.id)] == [
        "order_to_correct", "penalty_notice", "penalty_decision", "demand", "enforcement_application"]


def test_return_contact_lists_several_children_of_one_township(letters_ready, make_child, today_is):
    app = letters_ready
    today_is(date(2021, 3, 10))
    cases = []
    for name, idn in (("岩温", "532801200901142690"), ("玉罕", "532801201205233040")):
        cases.append(services.open_case(make_child(name, idn), reason="厌学", opened_on=date(2021, 3, 1)))
    db.session.commit()
    events = services.issue_return_contact(cases, on=date(2021, 3, 5))
    db.session.commit()
    letter = events[0].letter
    assert letter.doc_number == "景教体函〔2021〕1号"
    assert {c.id for c in letter.cases} == {c.id for c in cases}
    text = pdf_text(app, letter)
    for expected in ("劝返复学工作的函", "勐罕镇人民政府", "岩温", "玉罕", "2021年3月5日", "景洪市教育体育局"):
        assert expected in text, expected
    assert "532801200901142690" not in text  # masked by default
