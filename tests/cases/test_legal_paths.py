"""Each path of the penalty and enforcement procedure as the law runs it, walked on the
service with every letter printed and read back with pdftotext.

Expected dates are worked out here from the rules (行政处罚法 Art. 85: short periods
in working days; 民事诉讼法 Art. 85: a period starts the day after and one ending on a
rest day ends on the next working day; 公告送达: 60 days before 2022, 30 days from
2022), with the holidays named in each comment; texts from the letters' mandatory
parts (行政处罚法 Art. 59; 行政强制法 Art. 35, 55).
"""

from __future__ import annotations

import json
import re
import subprocess
from datetime import date, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from edu_guard.auth.models import AuditLog
from edu_guard.cases import services
from edu_guard.db import db
from edu_guard.letters.models import Letter
from edu_guard.registry.models import School, Township


def text_of(app, letter: Letter) -> str:
    """The letter's stored PDF as text (pdftotext), white space and page numbers removed."""
    path = Path(app.instance_path) / letter.pdf_path
    out = subprocess.run(["pdftotext", "-enc", "UTF-8", str(path), "-"], capture_output=True, check=True).stdout
    text = re.sub(r"\s+", "", out.decode("utf-8"))
    return re.sub(r"—\d+—", "", text)


def pdf_text(pdf: bytes) -> str:
    """PDF bytes as text, as :func:`text_of`."""
    out = subprocess.run(["pdftotext", "-enc", "UTF-8", "-", "-"], input=pdf, capture_output=True, check=True).stdout
    return re.sub(r"—\d+—", "", re.sub(r"\s+", "", out.decode("utf-8")))


def act(case, event, on, **data):
    ev = services.fire(case, event, on=on, data=data)
    db.session.commit()
    return ev


def refused(case, event, on, match, **data):
    with pytest.raises(services.CaseError, match=match):
        services.fire(case, event, on=on, data=data)
    db.session.rollback()


def serve(case, letter, on, manner="直接送达"):
    services.record_service(case, letter.id, served_on=on, manner=manner, served_to="监护人", served_by="刀建华、李老师")
    db.session.commit()


def to_order(case, child, opened=date(2021, 3, 1)):
    """Step 1 → 2 and the order issued on 9 March 2021 (returns the order letter)."""
    services.log_home_visit(child, case=case, visited_on=opened, visitors="李老师", form="入户", findings="不愿上学")
    db.session.commit()
    act(case, "escalate_to_order", date(2021, 3, 9))
    return act(case, "issue_order", date(2021, 3, 9)).letter


def to_notice(case, child, fine="100"):
    """Order served Wed 10 March 2021; 10 working days end Wed 24 March; penalty on
    25 March; the notice served Fri 26 March: 3 and 5 working days end Wed 31 March and
    Fri 2 April (清明 3–5 April)."""
    order = to_order(case, child)
    serve(case, order, date(2021, 3, 10))
    act(case, "escalate_to_penalty", date(2021, 3, 25))
    notice = act(case, "issue_penalty_notice", date(2021, 3, 25), fine=fine).letter
    serve(case, notice, date(2021, 3, 26))
    return order, notice


@pytest.fixture
def walk(letters_ready, make_child, today_is):
    today_is(date(2022, 6, 30))
    child = make_child()
    case = services.open_case(child, reason="外出务工", opened_on=date(2021, 3, 1))
    db.session.commit()
    return letters_ready, child, case


def test_statement_reviewed_and_a_reduced_fine(walk):
    app, child, case = walk
    order, notice = to_notice(case, child, fine="100")
    act(case, "record_statement", date(2021, 3, 29), content="家中经济困难，孩子已答应下周返校")
    # A statement not yet reviewed stops the decision (行政处罚法 Art. 45).
    refused(case, "issue_penalty_decision", date(2021, 4, 6), "尚未复核")
    act(case, "review_statement", date(2021, 3, 31), result="部分采纳", content="家庭困难属实")
    # The decided fine: never above the notice's (a new notice is needed), a lower one with a reason.
    refused(case, "issue_penalty_decision", date(2021, 4, 6), "须重新制发行政处罚告知书", fine="120")
    refused(case, "issue_penalty_decision", date(2021, 4, 6), "请写明理由", fine="60")
    refused(case, "issue_penalty_decision", date(2021, 4, 6), "不在本地法规规定的", fine="40", fine_reason="困难")
    decision = act(case, "issue_penalty_decision", date(2021, 4, 6), fine="60", fine_reason="鉴于当事人家庭经济困难").letter
    assert decision.context["fine"] == "60.00"
    text = text_of(app, decision)
    # Evidence: only what the case holds — the served order and one in-person visit
    # (行政处罚法 Art. 59 (二)); no school attendance certificate was ever recorded.
    evidence = f"上述事实有下列证据证实：《责令限期改正通知书》（{order.doc_number}）及其送达回证；入户家访劝返记录1份。"
    assert evidence in text and evidence in text_of(app, notice)
    assert "学校出具" not in text and "学校出具" not in text_of(app, notice)
    for expected in ("罚款人民币60.00元（大写：陆拾元整）",
                     "本机关在《行政处罚告知书》中拟处罚款人民币100.00元。鉴于当事人家庭经济困难，本机关决定将罚款数额调整为人民币60.00元。",
                     "当事人于2021年3月29日提出陈述、申辩，称：家中经济困难，孩子已答应下周返校",
                     "本机关于2021年3月31日进行了复核，复核意见：家庭困难属实，部分采纳",
                     # Art. 59 (一): the party's name and address; (四) the payment channel.
                     "当事人：岩温之父", "住址：景洪市勐罕镇曼听村委会曼听村12号",
                     "中国农业银行景洪市分行", "24500101040000001",
                     "六十日内向景洪市人民政府申请行政复议", "六个月内向景洪市人民法院提起行政诉讼"):
        assert expected in text, expected
    assert "未提出陈述、申辩" not in text


def test_hearing_requested_and_held(walk):
    app, child, case = walk
    app.config["EDU_GUARD_HEARING_FINE_THRESHOLD"] = "200"
    order, notice = to_notice(case, child, fine="300")
    assert "有权要求举行听证" in text_of(app, notice)
    # 5 working days from Fri 26 March: 29, 30, 31 March, 1, 2 April → the last day is 2 April.
    act(case, "request_hearing", date(2021, 3, 30))
    refused(case, "issue_penalty_decision", date(2021, 4, 6), "听证尚未举行完毕")
    # The notice of hearing: at least 7 working days before (Art. 64 (二), 85). From
    # Wed 31 March the 7th working day is Mon 12 April (清明 3–5 April), so 12 April is too early.
    refused(case, "issue_hearing_notice", date(2021, 3, 31), "听证日期应晚于 2021-04-12",
            hearing_on="2021-04-12", place="教育体育局三楼会议室", host="张法制")
    # Art. 64 (三): whether the hearing is public is recorded, and a closed one says why.
    refused(case, "issue_hearing_notice", date(2021, 3, 31), "是否公开举行",
            hearing_on="2021-04-13", place="教育体育局三楼会议室", host="张法制")
    refused(case, "issue_hearing_notice", date(2021, 3, 31), "不公开举行听证须写明理由",
            hearing_on="2021-04-13", place="教育体育局三楼会议室", host="张法制", public="不公开")
    hn = act(case, "issue_hearing_notice", date(2021, 3, 31), hearing_on="2021-04-13", place="教育体育局三楼会议室",
             host="张法制", public="不公开", closed_reason="涉及个人隐私").letter
    text = text_of(app, hn)
    for expected in ("听证通知书", "景教体听通〔2021〕1号", "2021年4月13日", "教育体育局三楼会议室", "张法制",
                     "于2021年3月30日依法提出了听证申请",
                     "本案涉及个人隐私，依照《中华人民共和国行政处罚法》第六十四条第三项的规定，本次听证不公开举行",
                     "申请回避", "委托一至二人代理", "罚款人民币300.00元"):
        assert expected in text, expected
    assert "公开举行。" not in text.replace("不公开举行。", "")
    serve(case, hn, date(2021, 4, 1))
    refused(case, "record_hearing", date(2021, 4, 12), "尚未到期", content="x")
    act(case, "record_hearing", date(2021, 4, 13), content="孩子患病在家，已开学返校")
    refused(case, "issue_penalty_decision", date(2021, 4, 14), "听证尚未举行完毕")
    act(case, "report_hearing", date(2021, 4, 14), content="维持拟处罚款")
    decision = act(case, "issue_penalty_decision", date(2021, 4, 15)).letter
    text = text_of(app, decision)
    for expected in ("当事人于2021年3月30日要求举行听证", "本机关于2021年4月13日依法举行了听证", "主持人：张法制",
                     "孩子患病在家", "维持拟处罚款", "罚款人民币300.00元"):
        assert expected in text, expected


def test_no_hearing_below_the_county_threshold(walk):
    app, child, case = walk
    app.config["EDU_GUARD_HEARING_FINE_THRESHOLD"] = "200"
    order, notice = to_notice(case, child, fine="100")
    assert "听证" not in text_of(app, notice)
    refused(case, "request_hearing", date(2021, 3, 29), "不适用听证")
    decision = act(case, "issue_penalty_decision", date(2021, 4, 6)).letter
    text = text_of(app, decision)
    assert "当事人在规定期限内未提出陈述、申辩。" in text and "要求听证" not in text


def test_relapse_after_an_obeyed_order_needs_a_second_order(walk):
    app, child, case = walk
    order = to_order(case, child)
    serve(case, order, date(2021, 3, 10))  # the return period ends Wed 24 March
    act(case, "return_to_school", date(2021, 3, 22))  # within the period: the order was obeyed
    act(case, "drop_out_again", date(2021, 4, 12))
    assert case.state == "order_to_correct"
    # The obeyed order cannot ground a penalty: a new order is needed first.
    refused(case, "escalate_to_penalty", date(2021, 4, 12), "尚未制发责令限期改正通知书")
    second = act(case, "issue_order", date(2021, 4, 12)).letter
    assert second.doc_number == "勐罕政责改〔2021〕2号"
    serve(case, second, date(2021, 4, 13))
    # 10 working days from Tue 13 April: 14–16, 19–23, 25 (make-up Sunday), 26 April → 26 April
    # (劳动节 1–5 May; 25 April 2021 was a working Sunday).
    assert case.deadline == date(2021, 4, 26)
    refused(case, "escalate_to_penalty", date(2021, 4, 26), "2021-04-26")
    act(case, "escalate_to_penalty", date(2021, 4, 27))
    notice = act(case, "issue_penalty_notice", date(2021, 4, 27), fine="100").letter
    text = text_of(app, notice)
    assert "勐罕政责改〔2021〕2号" in text and "于2021年4月13日向你送达" in text and "于2021年4月26日前" in text
    assert "勐罕政责改〔2021〕1号" not in text
    timeline = [e.event for e in case.events]
    assert "new_order_cycle" in timeline


def test_a_returned_child_after_the_period_resumes_the_penalty_step(walk):
    """Late compliance is not obedience: the case resumes where it was."""
    app, child, case = walk
    order, notice = to_notice(case, child)
    act(case, "return_to_school", date(2021, 3, 29))
    act(case, "drop_out_again", date(2021, 4, 20))
    assert case.state == "penalty"
    assert "new_order_cycle" not in [e.event for e in case.events]


def _subdistrict_child(make_child, township_name, school_code):
    town = Township(county_code="532801", name=township_name)
    school = School(code=school_code, name=f"{township_name}第一小学", stage="小学", township=town, county_code="532801")
    db.session.add(school)
    db.session.flush()
    return make_child("玉罕", "532801201205233040", school=school)


def test_a_subdistrict_child_is_ordered_by_the_bureau(letters_ready, make_child, today_is):
    app = letters_ready
    today_is(date(2021, 6, 1))
    child = _subdistrict_child(make_child, "允景洪街道", "2153280188")
    case = services.open_case(child, reason="厌学", opened_on=date(2021, 3, 1))
    db.session.commit()
    contact = services.issue_return_contact([case], on=date(2021, 3, 2))[0].letter
    db.session.commit()
    # Working letters go to the 街道办事处; there is no 街道人民政府.
    assert contact.recipient == "允景洪街道办事处"
    text = text_of(app, contact)
    assert "允景洪街道人民政府" not in text and "允景洪街道办事处：" in text
    # A 街道办事处 cannot order a guardian (Art. 58): the letter asks it to tell the bureau.
    assert "请及时书面告知我局，由我局依照《中华人民共和国义务教育法》第五十八条的规定责令其限期改正" in text
    assert "组织街道干部" in text and "乡镇干部" not in text
    # The case was registered by hand: the letter does not claim a data comparison.
    assert "经核查，你街道有下列1名" in text and "数据比对" not in text
    order = to_order(case, child)
    # 义务教育法 Art. 58: the county education department orders a 街道 child's guardian.
    assert order.issuer_name == "景洪市教育体育局" and order.doc_number == "景教体责改〔2021〕1号"
    assert "景洪市教育体育局" in text_of(app, order)


def test_an_ethnic_township_code_is_configured_not_derived(letters_ready, make_child, today_is):
    app = letters_ready
    today_is(date(2021, 6, 1))
    child = _subdistrict_child(make_child, "景哈哈尼族乡", "2153280189")
    case = services.open_case(child, reason="厌学", opened_on=date(2021, 3, 1))
    db.session.commit()
    services.log_home_visit(child, case=case, visited_on=date(2021, 3, 1), visitors="李老师", form="入户", findings="x")
    act(case, "escalate_to_order", date(2021, 3, 9))
    refused(case, "issue_order", date(2021, 3, 9), r'EDU_GUARD_TOWNSHIPS\["景哈哈尼族乡"\]')
    app.config["EDU_GUARD_TOWNSHIPS"] = {"景哈哈尼族乡": {"name": "景哈哈尼族乡人民政府", "code": "景哈政"}}
    order = act(case, "issue_order", date(2021, 3, 9)).letter
    assert order.doc_number == "景哈政责改〔2021〕1号" and order.issuer_name == "景哈哈尼族乡人民政府"


def test_publication_in_2021_counts_sixty_days(walk):
    app, child, case = walk
    order = to_order(case, child)
    serve(case, order, date(2021, 3, 10), manner="公告送达")
    # Published 10 March 2021: deemed served 60 days later, Sun 9 May 2021 (民事诉讼法 2017
    # Art. 92); 10 working days from then: 10–14, 17–21 May → Fri 21 May.
    assert case.deadline == date(2021, 5, 21)
    act(case, "escalate_to_penalty", date(2021, 5, 24))
    notice = act(case, "issue_penalty_notice", date(2021, 5, 24), fine="100").letter
    text = text_of(app, notice)
    assert "于2021年3月10日以公告方式（于2021年5月9日视为送达）向你送达" in text
    assert "于2021年5月21日前" in text


def test_publication_in_2022_counts_thirty_days(letters_ready, make_child, today_is):
    today_is(date(2022, 6, 1))
    child = make_child()
    case = services.open_case(child, reason="厌学", opened_on=date(2022, 3, 1))
    db.session.commit()
    services.log_home_visit(child, case=case, visited_on=date(2022, 3, 1), visitors="李老师", form="入户", findings="x")
    act(case, "escalate_to_order", date(2022, 3, 9))
    order = act(case, "issue_order", date(2022, 3, 9)).letter
    serve(case, order, date(2022, 3, 10), manner="公告送达")
    # From 1 January 2022 (民事诉讼法 2021 Art. 95): 30 days → Sat 9 April 2022; 10 working
    # days: 11–15, 18–22 April → Fri 22 April.
    published, deemed = date(2022, 3, 10), date(2022, 3, 10) + timedelta(days=30)
    assert deemed == date(2022, 4, 9)
    assert case.deadline == date(2022, 4, 22)
    act(case, "escalate_to_penalty", date(2022, 4, 25))
    notice = act(case, "issue_penalty_notice", date(2022, 4, 25), fine="100").letter
    text = text_of(letters_ready, notice)
    assert (f"于{published.year}年{published.month}月{published.day}日以公告方式"
            f"（于{deemed.year}年{deemed.month}月{deemed.day}日视为送达）向你送达") in text
    assert "于2022年4月22日前" in text


def test_a_corrected_service_date_moves_later_deadlines(walk):
    app, child, case = walk
    order = to_order(case, child)
    serve(case, order, date(2021, 3, 10))
    assert case.deadline == date(2021, 3, 24)
    with pytest.raises(services.CaseError, match="更正理由"):
        services.correct_service(case, order.id, served_on=date(2021, 3, 12), reason=" ")
    db.session.rollback()
    services.correct_service(case, order.id, served_on=date(2021, 3, 12), reason="回证日期抄录错误，原件为3月12日")
    db.session.commit()
    # From Fri 12 March: 15–19, 22–26 March → Fri 26 March.
    assert case.deadline == date(2021, 3, 26)
    ev = case.events[-1]
    assert ev.event == "correct_service" and ev.data["before"]["served_on"] == "2021-03-10"
    assert ev.data["after"]["served_on"] == "2021-03-12"
    audit = db.session.execute(sa.select(AuditLog).where(AuditLog.action == "correct_service")).scalar_one()
    assert audit.before["served_on"] == "2021-03-10" and audit.after["served_on"] == "2021-03-12"
    refused(case, "escalate_to_penalty", date(2021, 3, 26), "2021-03-26")
    act(case, "escalate_to_penalty", date(2021, 3, 29))
    # The notice states the corrected service date and the period it gives.
    text = text_of(app, act(case, "issue_penalty_notice", date(2021, 3, 29), fine="100").letter)
    assert "于2021年3月12日向你送达" in text and "于2021年3月26日前" in text
    assert "2021年3月10日" not in text and "2021年3月24日" not in text


def _decision(case, child, fine="100"):
    order, notice = to_notice(case, child, fine)
    decision = act(case, "issue_penalty_decision", date(2021, 4, 6)).letter
    serve(case, decision, date(2021, 4, 7))
    return decision


def test_a_paid_fine_ends_the_penalty(walk):
    app, child, case = walk
    decision = _decision(case, child)
    # The decision says where to pay (Art. 59 (四), 67) within 15 days of its service.
    text = text_of(app, decision)
    assert "当事人应当自收到本决定书之日起十五日内，到中国农业银行景洪市分行" in text and "罚款人民币100.00元" in text
    act(case, "record_payment", date(2021, 4, 12), amount="40", receipt="NO.0001")
    refused(case, "close_penalty", date(2021, 4, 12), "未缴清")
    act(case, "record_payment", date(2021, 4, 15), amount="60", receipt="NO.0002")
    refused(case, "escalate_to_enforcement", date(2021, 10, 11), "罚款已缴清")
    act(case, "close_penalty", date(2021, 4, 16))
    assert case.state == "closed" and case.closed_reason == "2021-04-16 罚款已缴清，销号"


def test_a_pending_review_blocks_enforcement_and_a_revoked_decision_allows_a_new_one(walk):
    app, child, case = walk
    decision = _decision(case, child)
    act(case, "file_review", date(2021, 5, 10), body="景洪市人民政府")
    # Review (60 days) and suit (6 months) periods from 7 April end Fri 8 October (国庆 1–7 October).
    refused(case, "escalate_to_enforcement", date(2021, 10, 11), "已提起行政复议")
    act(case, "record_remedy_outcome", date(2021, 7, 1), result="维持")
    act(case, "escalate_to_enforcement", date(2021, 10, 11))
    act(case, "file_suit", date(2021, 10, 11), body="景洪市人民法院")
    refused(case, "issue_demand", date(2021, 10, 12), "已提起行政诉讼")
    act(case, "record_remedy_outcome", date(2021, 11, 1), result="驳回诉讼请求")
    demand = act(case, "issue_demand", date(2021, 11, 2)).letter
    text = text_of(app, demand)
    for expected in ("你于2021年5月10日向景洪市人民政府申请行政复议，景洪市人民政府于2021年7月1日作出维持的复议决定",
                     "你于2021年10月11日向景洪市人民法院提起行政诉讼", "驳回诉讼请求", "你至今仍未缴纳罚款",
                     "中国农业银行景洪市分行", "24500101040000001"):
        assert expected in text, expected
    assert "未申请行政复议" not in text
    # 加处罚款 from the last day to pay: 15 days from 7 April = Thu 22 April; to 2 Nov the
    # surcharge (3 % a day) exceeds the fine, so it is capped at the fine (行政强制法 Art. 45).
    assert demand.context["surcharge"] == "100.00"


def test_a_revoked_decision_is_voided_and_a_new_one_numbered(walk):
    app, child, case = walk
    decision = _decision(case, child)
    act(case, "file_review", date(2021, 5, 10), body="景洪市人民政府")
    act(case, "record_remedy_outcome", date(2021, 6, 30), result="撤销")
    db.session.refresh(decision)
    assert decision.voided_on == date(2021, 6, 30) and case.state == "penalty"
    second = act(case, "issue_penalty_decision", date(2021, 7, 1)).letter
    assert (decision.doc_number, second.doc_number) == ("景教体罚决〔2021〕1号", "景教体罚决〔2021〕2号")


def test_voiding_and_reissuing_keeps_the_number_void(walk):
    app, child, case = walk
    order = to_order(case, child)
    with pytest.raises(services.CaseError, match="作废理由"):
        services.void_letter(case, order.id, on=date(2021, 3, 9), reason="")
    db.session.rollback()
    services.void_letter(case, order.id, on=date(2021, 3, 9), reason="监护人姓名错误")
    db.session.commit()
    again = act(case, "issue_order", date(2021, 3, 9)).letter
    assert again.doc_number == "勐罕政责改〔2021〕2号"
    assert db.session.get(Letter, order.id).void_reason == "监护人姓名错误"


def test_a_school_may_neither_void_an_order_nor_correct_its_service(walk, make_user):
    """Only who may issue a letter (义务教育法 Art. 58: the township government or the
    county bureau) may void it or correct its proof of service; a school user could do
    both from the case page (found by QA), undoing the bureau's order of correction."""
    app, child, case = walk
    order = to_order(case, child)
    serve(case, order, date(2021, 3, 10))
    school_user = make_user("school", school=case.school)
    with pytest.raises(services.CaseError, match="您的角色无权作废"):
        services.void_letter(case, order.id, on=date(2021, 3, 11), reason="写错了", user=school_user)
    db.session.rollback()
    with pytest.raises(services.CaseError, match="您的角色无权更正送达"):
        services.correct_service(case, order.id, served_on=date(2021, 3, 11), reason="日期错", user=school_user)
    db.session.rollback()
    assert db.session.get(Letter, order.id).voided_on is None
    assert db.session.get(Letter, order.id).served_on == date(2021, 3, 10)
    township_user = make_user("township", township=case.township)
    services.correct_service(case, order.id, served_on=date(2021, 3, 11), reason="日期错", user=township_user)
    services.void_letter(case, order.id, on=date(2021, 3, 12), reason="监护人姓名错误", user=township_user)
    db.session.commit()
    # A void letter's service is history: no more corrections.
    with pytest.raises(services.CaseError, match="作废，不能更正送达记录"):
        services.correct_service(case, order.id, served_on=date(2021, 3, 12), reason="日期错")
    db.session.rollback()


def test_the_three_month_window(walk, today_is):
    app, child, case = walk
    today_is(date(2022, 3, 1))
    _decision(case, child)
    # Periods end Fri 8 Oct 2021; three months later is Sat 8 Jan 2022 → Mon 10 Jan 2022.
    act(case, "escalate_to_enforcement", date(2021, 10, 11))
    from edu_guard.cases.machine import application_last_day

    assert application_last_day(services.facts_for(case)).day == date(2022, 1, 10)
    report = services.deadline_report(case, date(2021, 12, 28))
    court = next(l for l in report["time_limits"] if l["key"] == "court_application")
    assert court["day"] == "2022-01-10" and court["days_left"] == 13 and court["warning"] is None
    assert next(l for l in services.deadline_report(case, date(2022, 1, 3))["time_limits"]
                if l["key"] == "court_application")["warning"] == "7 日后届满"
    # A 催告书 on Tue 28 Dec 2021: 10 working days end Wed 12 Jan 2022 (元旦 1–3 Jan), after the window.
    refused(case, "issue_demand", date(2021, 12, 28), "来不及催告后申请")
    refused(case, "close_penalty", date(2022, 1, 10), "期限也未届满")
    act(case, "close_penalty", date(2022, 1, 11))
    assert case.closed_reason == "2022-01-11 申请强制执行的期限已于2022年1月10日届满（行政强制法第五十三条），未申请，销号"


def test_the_court_application_identifies_the_respondent_and_the_ruling_closes(walk, today_is):
    app, child, case = walk
    _decision(case, child)
    act(case, "escalate_to_enforcement", date(2021, 10, 11))
    demand = act(case, "issue_demand", date(2021, 10, 11)).letter
    serve(case, demand, date(2021, 10, 12))
    application = act(case, "apply_to_court", date(2021, 10, 27), representative="王建国").letter
    father = child.guardians[0]
    text = text_of(app, application)
    assert f"被申请人：岩温之父，男" not in text  # the guardian's sex is not recorded: not printed
    for expected in ("被申请人：岩温之父", f"公民身份号码{father.id_number}", "住景洪市勐罕镇曼听村委会曼听村12号"):
        assert expected in text, expected
    act(case, "record_court_ruling", date(2021, 11, 20), result="准予执行")
    act(case, "record_execution", date(2021, 12, 20), amount="200")
    act(case, "close_penalty", date(2021, 12, 21))
    assert case.closed_reason == "2021-12-21 罚款经人民法院强制执行到位，销号"


def test_penalty_letters_are_refused_until_the_county_sets_its_basis(walk):
    app, child, case = walk
    order = to_order(case, child)
    serve(case, order, date(2021, 3, 10))
    act(case, "escalate_to_penalty", date(2021, 3, 25))
    app.config["EDU_GUARD_PENALTY_BASIS"] = None
    refused(case, "issue_penalty_notice", date(2021, 3, 25), "EDU_GUARD_PENALTY_BASIS", fine="100")


def test_a_2027_deadline_is_an_estimate_until_the_arrangement_is_loaded(letters_ready, make_child, today_is,
                                                                        monkeypatch):
    from edu_guard.cases.cli import cases_group
    from edu_guard.letters import services as letter_services

    app = letters_ready
    today_is(date(2027, 1, 12))
    monkeypatch.setattr(letter_services, "local_today", lambda: date(2027, 1, 12))
    child = make_child()
    case = services.open_case(child, reason="厌学", opened_on=date(2026, 12, 1))
    db.session.commit()
    services.log_home_visit(child, case=case, visited_on=date(2026, 12, 1), visitors="李老师", form="入户", findings="x")
    act(case, "escalate_to_order", date(2026, 12, 21))
    order = act(case, "issue_order", date(2026, 12, 21)).letter
    serve(case, order, date(2026, 12, 24))
    # From Thu 24 Dec 2026: 25, 28–31 Dec (5); 1 Jan 2027 is 元旦, a statutory holiday, never a
    # working day; 4–8 Jan (10) → Fri 8 Jan 2027, an estimate (the 2027 调休 are not known).
    facts = services.facts_for(case)
    from edu_guard.cases.machine import order_deadline

    deadline = order_deadline(facts)
    assert (deadline.day, deadline.estimated) == (date(2027, 1, 8), True)
    out = app.test_cli_runner().invoke(cases_group, ["show", str(case.id), "--json"])
    data = json.loads(out.output)
    assert data["deadline"] == "2027-01-08" and data["deadline_estimated"] is True and "估算" in data["estimated_note"]
    act(case, "escalate_to_penalty", date(2027, 1, 11))
    # The notice prints the order's deadline: an estimate needs an explicit confirmation.
    refused(case, "issue_penalty_notice", date(2027, 1, 11), "估算", fine="100")
    # The preview shows the letter before it is issued, its estimated date marked 估算,
    # and takes no number.
    letters_before = db.session.scalar(sa.select(sa.func.count(Letter.id)))
    pdf, estimates = services.preview(case, "issue_penalty_notice", on=date(2027, 1, 11), data={"fine": "100"})
    assert estimates == ["责令改正期限 2027-01-08（估算）"]
    preview_text = pdf_text(pdf)
    assert "预览：本文书尚未编号、未印发，不得送达。" in preview_text
    assert "估算：责令改正期限2027-01-08（估算）" in preview_text and "于2027年1月8日前" in preview_text
    assert "（预览，未编号）" in preview_text
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count(Letter.id))) == letters_before
    out = app.test_cli_runner().invoke(cases_group, ["act", str(case.id), "issue_penalty_notice", "--on", "2027-01-11",
                                                     "--fine", "100", "--preview", str(Path(app.instance_path) / "p.pdf")])
    assert out.exit_code == 0 and "估算：责令改正期限 2027-01-08（估算）" in out.output, out.output
    assert db.session.scalar(sa.select(sa.func.count(Letter.id))) == letters_before
    out = app.test_cli_runner().invoke(cases_group, ["act", str(case.id), "issue_penalty_notice", "--on", "2027-01-11",
                                                     "--fine", "100"])
    assert out.exit_code == 1 and "--confirm-estimate" in out.output
    notice = act(case, "issue_penalty_notice", date(2027, 1, 11), fine="100", confirm_estimate=True).letter
    assert "于2027年1月8日前" in text_of(app, notice)
    # The county loads the official 2027 arrangement: no longer an estimate.
    app.config["EDU_GUARD_HOLIDAY_ARRANGEMENTS"] = {"2027": {"holidays": ["2027-01-01"], "workdays": []}}
    deadline = order_deadline(services.facts_for(case))
    assert (deadline.day, deadline.estimated) == (date(2027, 1, 8), False)


def test_cli_publication_2021_gives_21_may(walk):
    """The issue's check: ``cases serve … --manner 公告送达 --on 2021-03-10`` on an order."""
    from edu_guard.cases.cli import cases_group

    app, child, case = walk
    order = to_order(case, child)
    runner = app.test_cli_runner()
    out = runner.invoke(cases_group, ["serve", str(case.id), str(order.id), "--manner", "公告送达", "--on", "2021-03-10",
                                      "--to", "岩温之父", "--by", "刀建华"])
    assert out.exit_code == 0, out.output
    data = json.loads(runner.invoke(cases_group, ["show", str(case.id), "--json"]).output)
    assert data["deadline"] == "2021-05-21"
    assert data["letters"][0]["deemed_served_on"] == "2021-05-09"


def test_the_test_guardians_ids_are_valid(walk):
    from edu_guard.registry.schemas import validate_id_number

    app, child, case = walk
    assert validate_id_number(child.guardians[0].id_number) == child.guardians[0].id_number


def test_cli_records_addresses_corrects_service_and_voids(walk):
    from edu_guard.cases.cli import cases_group

    app, child, case = walk
    order = to_order(case, child)
    serve(case, order, date(2021, 3, 10))
    runner = app.test_cli_runner()
    out = runner.invoke(cases_group, ["guardian", str(case.id), "--address", "景洪市勐罕镇曼远村3号",
                                      "--id-number", "532822198001011216"])
    assert out.exit_code == 0, out.output
    bad = runner.invoke(cases_group, ["guardian", str(case.id), "--id-number", "532822198001011217"])
    assert bad.exit_code == 1 and "校验位" in bad.output
    out = runner.invoke(cases_group, ["correct-service", str(case.id), str(order.id), "--on", "2021-03-12",
                                      "--reason", "抄录错误"])
    assert out.exit_code == 0 and "2021-03-26" in out.output, out.output
    out = runner.invoke(cases_group, ["void-letter", str(case.id), str(order.id), "--on", "2021-03-15",
                                      "--reason", "监护人姓名错误"])
    assert out.exit_code == 0, out.output
    db.session.expire_all()
    father = db.session.get(type(child), child.id).guardians[0]
    assert (father.address, father.id_number) == ("景洪市勐罕镇曼远村3号", "532822198001011216")
    assert db.session.get(Letter, order.id).voided_on == date(2021, 3, 15)


def test_the_order_counts_only_visits_in_person_as_上门(walk):
    app, child, case = walk
    services.log_home_visit(child, case=case, visited_on=date(2021, 3, 3), visitors="李老师", form="电话", findings="未接")
    db.session.commit()
    order = to_order(case, child)  # one visit 入户 (1 March), one by phone (3 March)
    text = text_of(app, order)
    # Who visited is not said (the records name the visitors, not their bodies).
    assert "经1次上门劝返，并1次通过电话、微信等方式劝返，至今仍未返校" in text
    assert "村（居）民委员会" not in text


def _to_demand(case, child):
    """Decision served Wed 7 April 2021; review (60 days) and suit (6 months) end Fri
    8 October (国庆 1–7 October); the 催告书 of 11 October served Tue 12 October: its 10
    working days are 13–15 (3), 18–22 (8), 25–26 October (10) → Tue 26 October."""
    decision = _decision(case, child)
    act(case, "escalate_to_enforcement", date(2021, 10, 11))
    demand = act(case, "issue_demand", date(2021, 10, 11)).letter
    serve(case, demand, date(2021, 10, 12))
    return decision, demand


def _attachments(text: str) -> str:
    return text[text.index("附件："):]


def test_the_court_application_without_a_statement_after_the_demand(walk):
    """No statement after the 催告书: the application says so, and lists no 当事人的意见
    (行政强制法 Art. 36, 55); every listed material is a record the case holds."""
    app, child, case = walk
    decision, demand = _to_demand(case, child)
    order = next(l for l in case.letters if l.kind == "order_to_correct")
    notice = next(l for l in case.letters if l.kind == "penalty_notice")
    application = act(case, "apply_to_court", date(2021, 10, 27), representative="王建国").letter
    text = text_of(app, application)
    assert "被申请人收到催告书后，未进行陈述、申辩。" in text
    assert "当事人的意见" not in text and "申请强制执行标的情况" not in text
    # One in-person home visit (to_order), the notice, the decision, the order and the demand.
    expected = [f"《行政处罚决定书》（{decision.doc_number}）及其送达回证",
                f"《行政处罚告知书》（{notice.doc_number}）及其送达回证",
                f"《责令限期改正通知书》（{order.doc_number}）及其送达回证", "入户家访劝返记录1份",
                f"《催告书》（{demand.doc_number}）及其送达回证"]
    assert application.context["attachments"] == expected
    assert _attachments(text) .startswith("附件：1." + expected[0] + "2." + expected[1])
    assert "5." + expected[4] in text and "6." not in _attachments(text).split("此致")[0]


def test_a_statement_after_the_demand_is_recorded_reviewed_and_stated(walk):
    """The party states a case after the 催告书 (行政强制法 Art. 36): the bureau records it
    and must review it before applying to the court; the application states both, and
    lists the party's opinion among its materials (Art. 55 (三))."""
    app, child, case = walk
    refused(case, "record_demand_statement", date(2021, 4, 8), "不能")  # no 催告书 yet (step 3)
    decision, demand = _to_demand(case, child)
    act(case, "record_demand_statement", date(2021, 10, 14), content="家庭经济困难，无力一次缴清罚款")
    refused(case, "apply_to_court", date(2021, 10, 27), "尚未复核（行政强制法第三十六条）", representative="王建国")
    refused(case, "review_demand_statement", date(2021, 10, 15), "复核结果", content="x", result="同意")
    act(case, "review_demand_statement", date(2021, 10, 15), content="当事人未提出延期或分期缴纳申请，所述理由不能免除缴纳义务",
        result="不采纳")
    refused(case, "review_demand_statement", date(2021, 10, 16), "没有待复核", content="x", result="采纳")
    application = act(case, "apply_to_court", date(2021, 10, 27), representative="王建国").letter
    text = text_of(app, application)
    assert ("被申请人于2021年10月14日进行陈述、申辩，称：家庭经济困难，无力一次缴清罚款。申请人于2021年10月15日进行了复核，"
            "复核意见：当事人未提出延期或分期缴纳申请，所述理由不能免除缴纳义务，不采纳。") in text
    assert "未进行陈述、申辩" not in text
    assert "当事人的意见：收到催告书后的陈述、申辩记录1份及复核意见1份" in _attachments(text)
    assert application.context["attachments"][-2:] == ["当事人的意见：收到催告书后的陈述、申辩记录1份及复核意见1份",
                                                       f"《催告书》（{demand.doc_number}）及其送达回证"]
    # After the application no more statement is recorded on this 催告书.
    refused(case, "record_demand_statement", date(2021, 10, 28), "已制发强制执行申请书", content="x")


def test_an_application_issued_before_reprints_as_it_was(walk):
    """A 强制执行申请书 stored before its materials came from the records (no
    ``attachments``, no ``party_statement``) reprints with the list it was printed with."""
    from edu_guard.letters import services as letters

    app, child, case = walk
    _to_demand(case, child)
    application = act(case, "apply_to_court", date(2021, 10, 27), representative="王建国").letter
    old = dict(application.context, attachments=None)
    old.pop("party_statement")
    application.context = old
    text = pdf_text(letters.print_run([application]))
    assert ("附件：1.行政处罚决定书及其送达回证2.作出决定的事实、理由和依据3.当事人的意见及催告书、送达回证"
            "4.申请强制执行标的情况") in text
    assert "陈述、申辩" not in text.split("此致")[0].split("仍未履行。")[1]


def test_cli_records_and_reviews_a_statement_after_the_demand(walk):
    """``cases act … record_demand_statement`` / ``review_demand_statement`` (行政强制法
    Art. 36) from the command line; ``cases show --json`` lists both events."""
    from edu_guard.cases.cli import cases_group

    app, child, case = walk
    _to_demand(case, child)
    runner = app.test_cli_runner()
    out = runner.invoke(cases_group, ["act", str(case.id), "record_demand_statement", "--on", "2021-10-14",
                                      "--content", "已外出务工，收入微薄"])
    assert out.exit_code == 0, out.output
    out = runner.invoke(cases_group, ["act", str(case.id), "apply_to_court", "--on", "2021-10-27",
                                      "--representative", "王建国"])
    assert out.exit_code != 0 and "尚未复核" in out.output
    out = runner.invoke(cases_group, ["act", str(case.id), "review_demand_statement", "--on", "2021-10-15",
                                      "--content", "理由不能免除缴纳义务", "--result", "不采纳"])
    assert out.exit_code == 0, out.output
    data = json.loads(runner.invoke(cases_group, ["show", str(case.id), "--json"]).output)
    assert [e["event"] for e in data["events"]][-2:] == ["record_demand_statement", "review_demand_statement"]


def test_a_revoked_decision_s_void_reason_reads_in_the_reader_s_language(walk):
    """The system's reason for voiding a decision revoked on review is stored as a
    message and read back in the language of the page that shows it."""
    from flask import g

    app, child, case = walk
    decision = _decision(case, child)
    act(case, "file_review", date(2021, 5, 10), body="景洪市人民政府")
    act(case, "record_remedy_outcome", date(2021, 6, 30), result="撤销")
    db.session.expire_all()
    decision = db.session.get(Letter, decision.id)
    assert decision.void_reason == "行政处罚决定被撤销（景洪市人民政府）"
    audit = db.session.execute(sa.select(AuditLog).where(AuditLog.action == "void")).scalars().all()
    assert audit[-1].after["void_reason"] == "行政处罚决定被撤销（景洪市人民政府）"  # the log keeps the text
    with app.test_request_context("/?lang=en"):
        g.pop("_flask_babel", None)  # the walk's app context is shared with this request
        assert str(decision.void_reason) == "The penalty decision was revoked (景洪市人民政府)"
    g.pop("_flask_babel", None)
