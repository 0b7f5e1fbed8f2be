"""Candidates, placing (with and without a registry child), plans, sessions and
attachments."""

import hashlib
from datetime import date, time
from pathlib import Path

import pytest
import sqlalchemy as sa

from edu_guard.auth.models import AuditLog
from edu_guard.cases import services as case_services
from edu_guard.cases.models import DropoutCase
from edu_guard.db import db
from edu_guard.homebound import services
from edu_guard.registry.models import Child, DisabilityRecord, School

PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 64
PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\n%%EOF\n"


def _place(candidate, school=None, starts_on=date(2021, 3, 1), **kw):
    school = school or db.session.get(School, candidate.school_id)
    return services.place(candidate=candidate, school=school, assessed_on=date(2021, 2, 26),
                          assessment="重度残疾，不能到校就读", teachers="李老师、王老师", starts_on=starts_on, **kw)


def test_the_seven_candidates_of_the_sample_county(county, expected_candidates):
    found = services.candidates(date(2021, 3, 1))
    assert len(expected_candidates) == 7
    assert {c.id_number for c in found} == set(expected_candidates)
    for c in found:
        row = expected_candidates[c.id_number]
        # Category and level parsed from the 残疾人证号 agree with the list's columns.
        assert (c.category, f"{c.level}级") == (row["残疾类别"], row["残疾等级"])
        assert c.source == "disabled_list" and c.name == row["姓名"]


def test_placing_keeps_the_child_enrolled_and_never_a_dropout(county):
    candidate = services.candidates(date(2021, 3, 1))[0]
    child = db.session.get(Child, candidate.child_id)
    enrollment = child.current_enrollment
    enrollment.status = "休学"
    db.session.commit()
    placement = _place(candidate)
    db.session.commit()
    assert placement.disability_category == candidate.category and placement.disability_level == candidate.level
    db.session.refresh(enrollment)
    assert enrollment.status == "在读"
    assert services.placed_child_ids(date(2021, 3, 1)) == {child.id}
    assert services.placed_child_ids(date(2021, 2, 28)) == set()
    assert candidate.id_number not in {c.id_number for c in services.candidates(date(2021, 3, 1))}
    assert len(services.candidates(date(2021, 3, 1))) == 6
    with pytest.raises(case_services.CaseError, match="送教上门，计为在读"):
        case_services.open_case(child, reason="残疾", opened_on=date(2021, 3, 1))
    with pytest.raises(services.HomeboundError, match="日期重叠"):
        services.place(child=child, school=placement.school, assessed_on=date(2021, 3, 1), assessment="x",
                       teachers="李老师", starts_on=date(2021, 3, 1))
    assert db.session.execute(sa.select(AuditLog).where(AuditLog.entity == "homebound_placement")).scalar() is not None


def test_a_listed_child_never_enrolled_is_created_with_a_school_place(county):
    number = "532801201305060026"
    db.session.add(DisabilityRecord(id_number=number, name="玉罕", certificate_number=number + "52", category="智力",
                                    level=2, township="勐罕镇", village="曼法村委会", can_attend_school=False))
    db.session.commit()
    candidate = next(c for c in services.candidates(date(2021, 3, 1)) if c.id_number == number)
    assert candidate.child_id is None and candidate.school is None
    school = db.session.execute(sa.select(School).where(School.name.contains("勐罕"))).scalars().first()
    placement = _place(candidate, school=school)
    db.session.commit()
    child = placement.child
    assert (child.id_number, child.name, child.sex, child.birth_date) == (number, "玉罕", "女", date(2013, 5, 6))
    assert child.township.name == "勐罕镇" and child.is_disabled
    assert [(e.school_id, e.status) for e in child.enrollments] == [(school.id, "在读")]
    assert (placement.disability_category, placement.disability_level) == ("智力", 2)


def test_a_dropout_case_closed_as_placed_is_a_candidate(app_ctx, make_child, today_is):
    today_is(date(2021, 3, 1))
    child = make_child(name="岩香", id_number="532801201001010011")
    case = DropoutCase(child=child, state="closed", reason="残疾", opened_on=date(2021, 1, 4),
                       step_started_on=date(2021, 1, 4), outcome="送教上门", outcome_on=date(2021, 2, 1),
                       school=child.current_enrollment.school)
    db.session.add(case)
    db.session.commit()
    [candidate] = services.candidates(date(2021, 3, 1))
    assert (candidate.source, candidate.case_id, candidate.key) == ("dropout_case", case.id, f"case-{case.id}")
    placement = _place(candidate)
    assert placement.case_id == case.id and placement.certificate_number is None
    assert services.candidates(date(2021, 3, 1)) == []


def test_age_and_certificate_are_checked(app_ctx, make_child, today_is):
    today_is(date(2021, 3, 1))
    school_child = make_child(name="老大", id_number="532801200401010011")
    with pytest.raises(services.HomeboundError, match="17 周岁，不在送教上门的 6–15 周岁范围内"):
        services.place(child=school_child, school=school_child.current_enrollment.school, assessed_on=date(2021, 3, 1),
                       assessment="x", teachers="李老师", starts_on=date(2021, 3, 1))
    assert services.parse_certificate("53280120100524688X71") == ("多重", 1)
    with pytest.raises(services.HomeboundError, match="共20位"):
        services.parse_certificate("53280120100524688X81")
    young = make_child(name="小妹", id_number="532801201001010022")
    with pytest.raises(services.HomeboundError, match="前18位与身份证号"):
        services.place(child=young, school=young.current_enrollment.school, assessed_on=date(2021, 3, 1),
                       assessment="x", teachers="李老师", starts_on=date(2021, 3, 1),
                       certificate_number="53280120100524688X71")


def test_plans_and_sessions(two_schools, make_placement, app):
    placement = make_placement(two_schools[0], date(2021, 3, 1))
    goals = services.parse_goals("生活自理：会自己洗手\n认知: 认读10以内数字\n")
    assert goals == [{"area": "生活自理", "goal": "会自己洗手"}, {"area": "认知", "goal": "认读10以内数字"}]
    with pytest.raises(services.HomeboundError, match="第1行的领域“数学”"):
        services.parse_goals("数学：加法")
    services.save_plan(placement, school_year="2020-2021", made_on=date(2021, 3, 1), goals=goals)
    services.save_plan(placement, school_year="2020-2021", made_on=date(2021, 3, 2), goals=goals[:1])
    db.session.commit()
    assert [(p.school_year, len(p.goals)) for p in placement.plans] == [("2020-2021", 1)]
    assert services.school_year_of(date(2021, 3, 1)) == "2020-2021" and services.school_year_of(date(2021, 9, 1)) == "2021-2022"

    with pytest.raises(services.HomeboundError, match="不在安置期"):
        services.log_session(placement, held_on=date(2021, 2, 26), starts_at=time(9), ends_at=time(11),
                             teachers="李老师", content_areas=["认知"], progress="好")
    with pytest.raises(services.HomeboundError, match="应晚于开始时间"):
        services.log_session(placement, held_on=date(2021, 3, 2), starts_at=time(11), ends_at=time(9),
                             teachers="李老师", content_areas=["认知"], progress="好")
    session = services.log_session(placement, held_on=date(2021, 3, 2), starts_at=time(9), ends_at=time(11),
                                   teachers="李老师，王老师", content_areas=["认知"], progress="好",
                                   guardian_confirmed=True, attachments=[("photo.png", PNG), ("签字.pdf", PDF)])
    db.session.commit()
    assert session.teachers == "李老师、王老师" and session.guardian_name == placement.guardian_name
    assert [(a.filename, a.content_type, a.size) for a in session.attachments] == [
        ("photo.png", "image/png", len(PNG)), ("签字.pdf", "application/pdf", len(PDF))]
    stored = Path(app.instance_path) / "attachments" / hashlib.sha256(PNG).hexdigest()
    assert stored.read_bytes() == PNG
    assert services.read_attachment(session.attachments[0]) == PNG


def test_attachments_are_checked_by_content_and_size(two_schools, make_placement, app):
    placement = make_placement(two_schools[0], date(2021, 3, 1))
    kw = dict(held_on=date(2021, 3, 2), starts_at=time(9), ends_at=time(11), teachers="李老师",
              content_areas=["认知"], progress="好")
    with pytest.raises(services.HomeboundError, match="不是 JPG、PNG 或 PDF"):
        services.log_session(placement, attachments=[("photo.jpg", b"MZ\x90\0 not a picture")], **kw)
    with pytest.raises(services.HomeboundError, match="与文件扩展名不符"):
        services.log_session(placement, attachments=[("photo.jpg", PNG)], **kw)
    app.config["EDU_GUARD_ATTACHMENT_MAX_BYTES"] = 32
    with pytest.raises(services.HomeboundError, match="超过"):
        services.log_session(placement, attachments=[("photo.png", PNG)], **kw)
    db.session.rollback()
    assert placement.sessions == [] and not (Path(app.instance_path) / "attachments").exists()

