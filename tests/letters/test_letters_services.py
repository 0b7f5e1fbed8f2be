"""The letters service: issuing (number, PDF, sha256, cases, audit), service records,
and building contexts from a case."""

import hashlib
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import current_app

from edu_guard.auth.models import AuditLog
from edu_guard.db import db
from edu_guard.letters.models import Letter
from edu_guard.letters.schemas import ContextError, LetterError
from edu_guard.letters.services import (
    Issuer,
    ServiceError,
    bureau_issuer,
    context_for_case,
    issue_letter,
    issuer_for,
    local_today,
    record_service,
    township_issuer,
)


def _order(case, **kw):
    return issue_letter(
        "order_to_correct",
        context_for_case("order_to_correct", case, deadline=date(2021, 3, 22)),
        issuer=issuer_for("order_to_correct", case),
        cases=[case],
        issued_on=kw.pop("issued_on", date(2021, 3, 8)),
        **kw,
    )


def test_issuers(letters_ready):
    assert bureau_issuer() == Issuer("景洪市教育体育局", "景教体")
    assert township_issuer("嘎洒镇") == Issuer("嘎洒镇人民政府", "嘎洒政")
    assert township_issuer("嘎洒镇", short="嘎") == Issuer("嘎洒镇人民政府", "嘎政")


def test_issue_letter_stores_the_pdf_links_cases_and_audits(make_case, make_user):
    clerk = make_user("township")
    case = make_case()
    letter = _order(case, user=clerk)
    path = Path(current_app.instance_path) / letter.pdf_path
    assert letter.pdf_path == "letters/2021/嘎洒政责改〔2021〕1号.pdf"
    assert path.read_bytes()[:5] == b"%PDF-"
    assert letter.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert (letter.kind, letter.issuer_name, letter.issuer_code, letter.kind_mark, letter.year, letter.seq) == (
        "order_to_correct", "嘎洒镇人民政府", "嘎洒政", "责改", 2021, 1)
    assert letter.title == "责令限期改正通知书" and letter.recipient == "岩温"
    assert letter.created_by_id == clerk.id
    assert letter.cases == [case] and case.letters == [letter]
    assert letter.context["letter"] == {
        "kind": "order_to_correct", "doc_number": "嘎洒政责改〔2021〕1号", "issuer_name": "嘎洒镇人民政府",
        "issued_on": "2021-03-08", "title": "责令限期改正通知书", "recipient": "岩温",
    }
    assert letter.context["deadline"] == "2021-03-22"
    audit = db.session.execute(sa.select(AuditLog).where(AuditLog.entity == "letter")).scalar_one()
    assert (audit.action, audit.entity_id, audit.user_id) == ("print", letter.id, clerk.id)
    assert audit.after["doc_number"] == "嘎洒政责改〔2021〕1号"


def test_issue_letter_flushes_and_never_commits(make_case):
    case = make_case()
    _order(case)
    db.session.rollback()
    assert db.session.execute(sa.select(sa.func.count()).select_from(Letter)).scalar() == 0
    assert db.session.execute(sa.select(sa.func.count()).select_from(AuditLog)).scalar() == 0
    # The number came back with the rollback.
    assert _order(case).seq == 1


def test_an_invalid_context_is_refused_before_numbering(make_case):
    case = make_case()
    context = context_for_case("order_to_correct", case, deadline=date(2021, 3, 22))
    del context["deadline"]
    context["child"] = {**context["child"], "sex": "未知"}
    with pytest.raises(ContextError) as excinfo:
        issue_letter("order_to_correct", context, issuer="bureau", issued_on=date(2021, 3, 8))
    message = str(excinfo.value)
    assert "《责令限期改正通知书》" in message and "deadline：请给出改正期限（工作日数）或返校日期" in message and "child.sex" in message
    assert _order(case).seq == 1


def test_the_fine_must_lie_in_the_county_range(make_case):
    case = make_case()
    order = _order(case)
    record_service(order, date(2021, 3, 9), "直接送达", "岩温", "张三")
    with pytest.raises(ContextError, match="罚款 1000.00 元不在本县规定的 50–500 元范围内"):
        issue_letter("penalty_notice", context_for_case("penalty_notice", case, fine=Decimal("1000")),
                     issuer="bureau", cases=[case], issued_on=date(2021, 3, 25))


def test_record_service_fills_the_slip_fields_and_audits(make_case, make_user):
    clerk = make_user("township")
    letter = _order(make_case())
    record_service(letter, date(2021, 3, 9), "留置送达", " 岩温 ", "张三、李四", user=clerk)
    assert (letter.served_on, letter.service_manner, letter.served_to, letter.served_by) == (
        date(2021, 3, 9), "留置送达", "岩温", "张三、李四")
    audit = db.session.execute(sa.select(AuditLog).where(AuditLog.action == "serve")).scalar_one()
    assert audit.user_id == clerk.id and audit.entity_id == letter.id
    assert audit.before == {"served_on": None, "service_manner": None, "served_to": None, "served_by": None}
    assert audit.after["served_on"] == "2021-03-09" and audit.after["service_manner"] == "留置送达"


@pytest.mark.parametrize(
    "served_on, manner, to, by, message",
    [
        (date(2021, 3, 7), "直接送达", "岩温", "张三", "早于文书日期"),
        (None, "直接送达", "岩温", "张三", "晚于今天"),
        (date(2021, 3, 9), "当面交给", "岩温", "张三", "送达方式"),
        (date(2021, 3, 9), "直接送达", "", "张三", "请填写"),
    ],
)
def test_record_service_refuses(make_case, served_on, manner, to, by, message):
    letter = _order(make_case())
    served_on = served_on or local_today() + timedelta(days=1)
    with pytest.raises(ServiceError, match=message):
        record_service(letter, served_on, manner, to, by)
    assert letter.served_on is None


def test_a_second_service_record_is_refused(make_case):
    letter = _order(make_case())
    record_service(letter, date(2021, 3, 9), "直接送达", "岩温", "张三")
    db.session.commit()
    with pytest.raises(ServiceError, match="已于 2021-03-09 登记送达"):
        record_service(letter, date(2021, 3, 10), "直接送达", "岩温", "李四")


def test_a_concurrent_service_record_is_refused(make_case):
    """Another clerk recorded the service after this page was loaded."""
    from sqlalchemy.orm.attributes import set_committed_value

    letter = _order(make_case())
    letter_id = letter.id
    db.session.commit()
    with db.engine.begin() as conn:
        conn.execute(sa.update(Letter).where(Letter.id == letter_id).values(
            served_on=date(2021, 3, 9), service_manner="直接送达", served_to="岩温", served_by="张三"))
    assert letter.served_on == date(2021, 3, 9)
    set_committed_value(letter, "served_on", None)  # this clerk's stale copy
    with pytest.raises(ServiceError, match="已由他人登记送达"):
        record_service(letter, date(2021, 3, 10), "直接送达", "岩温", "李四")


def test_contexts_need_a_served_earlier_letter(make_case):
    case = make_case()
    with pytest.raises(LetterError, match="还没有《责令限期改正通知书》"):
        context_for_case("penalty_notice", case, fine=Decimal("200"))
    _order(case)
    with pytest.raises(LetterError, match="尚未登记送达"):
        context_for_case("penalty_notice", case, fine=Decimal("200"))


def test_context_for_case_builds_from_the_registry_and_config(make_case):
    case = make_case(name="玉香", guardian="岩温", relation="母亲")
    ctx = context_for_case("order_to_correct", case, deadline=date(2021, 3, 22), contact_person="李明")
    assert ctx["guardian"] == {"name": "岩温", "relation": "母亲", "phone": "13888880000", "address": case.child.address,
                               "id_number": case.child.guardians[0].id_number}
    assert ctx["child"]["name"] == "玉香" and ctx["child"]["grade"] == "七年级" and ctx["child"]["out_since"] == date(2021, 3, 1)
    assert ctx["child"]["id_number"] == case.child.id_number[:6] + "********" + case.child.id_number[-4:]
    assert ctx["school"] == "景洪市第三中学" and ctx["authority"] == "景洪市教育体育局"
    assert ctx["penalty_basis"] == "《云南省义务教育条例》第四十二条" and ctx["contact_person"] == "李明"
    # Extra keys of the schema override what was built; others are refused.
    assert context_for_case("order_to_correct", case, deadline=date(2021, 3, 22), school="景洪市第一中学")["school"] == "景洪市第一中学"
    with pytest.raises(LetterError, match="没有这些字段：nonsense"):
        context_for_case("order_to_correct", case, deadline=date(2021, 3, 22), nonsense=1)


def test_a_case_without_a_guardian_cannot_get_an_order(make_case):
    case = make_case(guardian=None)
    with pytest.raises(LetterError, match="没有登记监护人"):
        context_for_case("order_to_correct", case, deadline=date(2021, 3, 22))


def test_a_return_contact_letter_goes_to_one_township(make_case):
    a, b = make_case(township="嘎洒镇"), make_case(name="岩罕", township="勐龙镇")
    with pytest.raises(LetterError, match="只能发给一个乡镇"):
        context_for_case("return_contact", [a, b], reply_by=date(2021, 3, 20))
    ctx = context_for_case("return_contact", [a], reply_by=date(2021, 3, 20), full_ids=True)
    assert ctx["recipient"] == "嘎洒镇人民政府" and ctx["children"][0]["id_number"] == a.child.id_number


def test_the_demand_counts_the_surcharge_from_the_decision(make_case):
    case = make_case()
    order = _order(case)
    record_service(order, date(2021, 3, 9), "直接送达", "岩温", "张三")
    notice = issue_letter("penalty_notice", context_for_case("penalty_notice", case, fine=Decimal("100")),
                          issuer="bureau", cases=[case], issued_on=date(2021, 3, 25), render=False)
    record_service(notice, date(2021, 3, 26), "直接送达", "岩温", "张三")
    decision = issue_letter("penalty_decision", context_for_case("penalty_decision", case, statement="当事人在规定期限内未提出陈述、申辩，也未要求听证。"),
                            issuer="bureau", cases=[case], issued_on=date(2021, 4, 6), render=False)
    assert decision.context["fine"] == "100.00"
    record_service(decision, date(2021, 4, 7), "直接送达", "岩温", "张三")
    ctx = context_for_case("demand", case, as_of=date(2021, 4, 25))
    # Last day to pay: 2021-04-22; three days late: 3 × 3 % × 100.
    assert (ctx["fine"], ctx["surcharge"], ctx["total"]) == (Decimal("100"), Decimal("9.00"), Decimal("109.00"))
    assert ctx["decision"]["doc_number"] == "景教体罚决〔2021〕1号" and ctx["comply_days"] == 10
