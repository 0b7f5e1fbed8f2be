"""The case file kept where people work: responsible people added, changed and ended,
the 辍学原因 corrected (each audited), visits from the child's page on the open case."""

from datetime import date

import pytest
import sqlalchemy as sa

from edu_guard.auth.models import AuditLog
from edu_guard.cases import services
from edu_guard.cases.models import DropoutCase
from edu_guard.db import db


def _audits(entity):
    return db.session.execute(sa.select(AuditLog).where(AuditLog.entity == entity).order_by(AuditLog.id)).scalars().all()


def test_responsible_people_are_added_changed_and_ended_with_audit(make_child, make_user, today_is):
    today_is(date(2021, 6, 1))
    user = make_user("clerk")
    case = services.open_case(make_child(), reason="厌学", opened_on=date(2021, 3, 1))
    db.session.commit()
    row = services.add_assignment(case, role="class_teacher", name=" 李老师 ", phone="13900000000", user=user)
    services.change_assignment(case, row.id, name="王老师", phone="13700000000", user=user)
    services.end_assignment(case, row.id, on=date(2021, 5, 20), user=user)
    db.session.commit()
    assert (row.name, row.phone, row.ended_on) == ("王老师", "13700000000", date(2021, 5, 20))
    trail = _audits("case_assignment")
    assert [a.action for a in trail] == ["create", "update", "update"]
    assert trail[0].after["name"] == "李老师"
    assert (trail[1].before["name"], trail[1].after["name"]) == ("李老师", "王老师")
    assert (trail[2].before["ended_on"], trail[2].after["ended_on"]) == (None, "2021-05-20")
    assert all(a.user_id == user.id for a in trail)

    with pytest.raises(services.CaseError, match="已于 2021-05-20 终止包保"):
        services.change_assignment(case, row.id, name="赵老师")
    with pytest.raises(services.CaseError, match="未知的责任人角色"):
        services.add_assignment(case, role="mayor", name="某某")
    other = services.add_assignment(case, role="village_cadre", name="岩罕")
    with pytest.raises(services.CaseError, match="早于立案日期 2021-03-01"):
        services.end_assignment(case, other.id, on=date(2021, 2, 28))
    with pytest.raises(services.CaseError, match="不能晚于今天"):
        services.end_assignment(case, other.id, on=date(2021, 6, 2))


def test_reason_corrected_with_before_and_after(make_child, today_is):
    today_is(date(2021, 6, 1))
    case = services.open_case(make_child(), reason="其他", opened_on=date(2021, 3, 1), source="comparison")
    db.session.commit()
    services.correct_reason(case, reason="外出务工", reason_note="随父母在昆明")
    db.session.commit()
    assert (case.reason, case.reason_note) == ("外出务工", "随父母在昆明")
    trail = [a for a in _audits("dropout_case") if a.action == "update"]
    assert trail[-1].before == {"reason": "其他", "reason_note": None}
    assert trail[-1].after == {"reason": "外出务工", "reason_note": "随父母在昆明"}
    with pytest.raises(services.CaseError, match="辍学原因须为"):
        services.correct_reason(case, reason="不想上")


def test_visit_without_case_joins_the_open_case_from_its_opening_day(make_child, today_is):
    today_is(date(2021, 6, 1))
    child = make_child()
    early = services.log_home_visit(child, visited_on=date(2021, 2, 20), visitors="李老师", form="电话", findings="未到校")
    case = services.open_case(child, reason="厌学", opened_on=date(2021, 3, 1))
    late = services.log_home_visit(child, visited_on=date(2021, 3, 2), visitors="李老师", form="入户", findings="劝返")
    db.session.commit()
    assert early.case_id is None  # before the case: a visit to a child at risk
    assert late.case_id == case.id
    assert [v.id for v in db.session.get(DropoutCase, case.id).visits] == [late.id]


def test_case_page_forms_edit_people_and_reason(make_child, make_user, login, today_is):
    today_is(date(2021, 6, 1))
    case = services.open_case(make_child(), reason="其他", opened_on=date(2021, 3, 1))
    db.session.commit()
    client = login(make_user("clerk"))
    resp = client.post(f"/cases/{case.id}/assignments", data={"role": "principal", "name": "玉罕校长",
                                                             "version": case.version}, follow_redirects=True)
    assert "已添加包保责任人" in resp.text and "校长：玉罕校长" in resp.text
    db.session.refresh(case)
    row = case.assignments[0]
    resp = client.post(f"/cases/{case.id}/assignments/{row.id}", data={"end": "1", "ended_on": "2021-04-01",
                                                                       "version": case.version}, follow_redirects=True)
    assert "已于 2021-04-01 终止包保" in resp.text
    db.session.refresh(case)
    resp = client.post(f"/cases/{case.id}/reason", data={"reason": "家庭困难", "version": case.version},
                       follow_redirects=True)
    assert "已更正辍学原因" in resp.text and "家庭困难" in resp.text


def _pages(pdf: bytes) -> list[str]:
    import io

    from pypdf import PdfReader

    return [p.extract_text().replace("\n", "").replace(" ", "") for p in PdfReader(io.BytesIO(pdf)).pages]


def test_case_file_prints_register_letters_with_slips_and_closure_in_order(letters_ready, make_child, today_is):
    from edu_guard.cases.casefile import case_file_pdf

    today_is(date(2022, 3, 1))
    child = make_child("岩温", "532801200901142694")
    case = services.open_case(child, reason="外出务工", opened_on=date(2021, 3, 1),
                              assignments=[{"role": "class_teacher", "name": "李老师", "phone": "13900000000"}])
    services.log_home_visit(child, visited_on=date(2021, 3, 2), visitors="李老师", form="入户",
                            findings="监护人称孩子随其在昆明务工")
    services.fire(case, "escalate_to_order", on=date(2021, 3, 9))
    order = services.fire(case, "issue_order", on=date(2021, 3, 9)).letter
    services.record_service(case, order.id, served_on=date(2021, 3, 10), manner="直接送达", served_to="岩温之父",
                            served_by="刀建华")
    services.fire(case, "return_to_school", on=date(2021, 3, 15))
    db.session.commit()
    # Followed up for EDU_GUARD_FOLLOW_UP_DAYS (30) days after the return, then closed.
    services.fire(case, "close_follow_up", on=date(2021, 4, 15))
    db.session.commit()

    pages = _pages(case_file_pdf(case, printed_on=date(2022, 3, 1)))
    joined = "".join(pages)
    # In order: the register (with the visit and the service in the timeline), the order
    # with its 送达回证, the closure.
    assert "控辍保学个案立案登记表" in pages[0]
    register = joined[:joined.index("责令限期改正通知书", joined.index("家访记录"))]
    for expected in ("2021-00001", "岩温", "外出务工", "班主任李老师13900000000", "2021年3月2日",
                     "监护人称孩子随其在昆明务工", "登记送达", "2021年3月10日", "复学"):
        assert expected in register, expected
    slip = joined.index("送达回证")
    closure = joined.index("控辍保学个案销号登记表")
    assert joined.index("勐罕政责改〔2021〕1号", joined.index("家访记录")) < slip < closure
    assert "控辍保学个案销号登记表" in pages[-1]
    for expected in ("处理结果复学（2021年3月15日）", "销号日期2021年4月15日", "2021-03-15复学"):
        assert expected in pages[-1], expected


def test_case_file_prints_when_the_case_was_opened_with_an_empty_note(letters_ready, make_child, make_user, login,
                                                                       today_is):
    """A browser sends the empty 情况说明 textarea as ``""``: the case file (一案一档)
    still prints (an empty optional field of a register is missing, not an error)."""
    today_is(date(2021, 4, 1))
    child = make_child()
    client = login(make_user("clerk"))
    client.post(f"/children/{child.id}/cases/new", data={"reason": "厌学", "opened_on": "2021-03-01",
                                                        "reason_note": ""})
    case = db.session.execute(sa.select(DropoutCase)).scalar_one()
    pdf = client.get(f"/cases/{case.id}/file.pdf")
    assert pdf.status_code == 200
    assert pdf.data.startswith(b"%PDF")
