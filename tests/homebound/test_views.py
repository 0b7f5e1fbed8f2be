"""The 送教上门 pages as the bureau, a school and an auditor use them."""

import io
from datetime import date, time

import openpyxl
import sqlalchemy as sa

from edu_guard.db import db
from edu_guard.homebound import services
from edu_guard.homebound.models import HomeboundAttachment, HomeboundPlacement, HomeboundSession
from edu_guard.registry.models import Child, Enrollment

PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 64


def _place_all(client, keys):
    for key in keys:
        form = client.get(f"/homebound/place/{key}")
        assert form.status_code == 200 and "确认安置" in form.text
        school = db.session.execute(sa.select(Enrollment.school_id).join(Child).where(
            Child.id_number == services.candidate_by_key(key).id_number)).scalar()
        resp = client.post(f"/homebound/place/{key}", data={
            "school": str(school), "assessed_on": "2021-02-26", "assessment": "经专家委员会评估，不能到校就读",
            "teachers": "李老师、王老师", "starts_on": "2021-03-01", "guardian_name": "监护人", "guardian_phone": "13800000000"},
            follow_redirects=True)
        assert resp.request.path.startswith("/homebound/") and "已安置" in resp.text, resp.text


def test_the_seven_candidates_are_placed_from_the_web(county, expected_candidates, make_user, login):
    client = login(make_user("clerk"))
    page = client.get("/homebound/candidates").text
    for row in expected_candidates.values():
        assert row["姓名"] in page
    keys = [c.key for c in services.candidates(date(2021, 3, 1))]
    assert len(keys) == 7
    _place_all(client, keys)

    placed = db.session.execute(sa.select(HomeboundPlacement)).scalars().all()
    assert {p.child.id_number for p in placed} == set(expected_candidates)
    for p in placed:
        row = expected_candidates[p.child.id_number]
        assert p.certificate_number == row["残疾人证号"] and p.disability_category == row["残疾类别"]
        assert [e.status for e in p.child.enrollments if e.school_id == p.school_id] == ["在读"]
    assert "没有待安置对象" in client.get("/homebound/candidates").text
    listing = client.get("/homebound").text
    assert all(row["姓名"] in listing for row in expected_candidates.values())
    assert listing.count("送教上门</span>") >= 7

    # Placing again is refused: no longer a candidate.
    resp = client.get(f"/homebound/place/{keys[0]}", follow_redirects=True)
    assert "不是（或已不是）送教上门的待安置对象" in resp.text


def test_a_school_user_sees_only_its_own_children(county, make_user, login):
    clerk = make_user("clerk")
    client = login(clerk)
    _place_all(client, [c.key for c in services.candidates(date(2021, 3, 1))])
    placed = db.session.execute(sa.select(HomeboundPlacement).order_by(HomeboundPlacement.id)).scalars().all()
    mine = placed[0]
    theirs = [p for p in placed if p.school_id != mine.school_id]
    assert theirs
    teacher = make_user("school", school=mine.school)
    client = login(teacher)
    listing = client.get("/homebound").text
    assert mine.child.name in listing
    for p in theirs:
        assert p.child.name not in listing
        assert client.get(f"/homebound/{p.id}").status_code == 404
        assert client.get(f"/homebound/{p.id}/agreement.pdf").status_code == 404
        assert client.post(f"/homebound/{p.id}/sessions", data={}).status_code == 404
    assert client.get(f"/homebound/{mine.id}").status_code == 200
    report = client.get("/homebound/compliance?from=2021-03-01&to=2021-03-01").text
    assert mine.child.name in report and all(p.child.name not in report for p in theirs)
    assert [p.id for p in services.placements(teacher)] == [p.id for p in placed if p.school_id == mine.school_id]
    # The school cannot place; the candidates page shows none of other schools'.
    assert client.get("/homebound/place/record-1").status_code == 403

    # The school logs a session with a photo; another school cannot fetch the photo.
    resp = client.post(f"/homebound/{mine.id}/sessions", content_type="multipart/form-data", data={
        "held_on": "2021-03-01", "starts_at": "09:00", "ends_at": "11:00", "teachers": "李老师",
        "content_areas": ["认知", "运动"], "progress": "能扶站5分钟", "guardian_confirmed": "y", "guardian_name": "监护人",
        "attachments": (io.BytesIO(PNG), "photo.png")}, follow_redirects=True)
    assert "已登记 2021-03-01 的送教记录" in resp.text
    session = db.session.execute(sa.select(HomeboundSession)).scalar_one()
    assert session.content_areas == ["认知", "运动"] and session.guardian_confirmed
    att = db.session.execute(sa.select(HomeboundAttachment)).scalar_one()
    assert client.get(f"/homebound/attachments/{att.id}").data == PNG
    other = make_user("school", school=theirs[0].school)
    assert login(other).get(f"/homebound/attachments/{att.id}").status_code == 404


def test_a_bad_attachment_is_refused_and_nothing_is_stored(two_schools, make_placement, make_user, login):
    placement = make_placement(two_schools[0], date(2021, 3, 1))
    client = login(make_user("school", school=two_schools[0]))
    resp = client.post(f"/homebound/{placement.id}/sessions", content_type="multipart/form-data", data={
        "held_on": "2021-03-02", "starts_at": "09:00", "ends_at": "11:00", "teachers": "李老师",
        "content_areas": ["认知"], "progress": "好", "attachments": (io.BytesIO(b"GIF89a..."), "photo.png")},
        follow_redirects=True)
    assert "不是 JPG、PNG 或 PDF" in resp.text
    assert db.session.execute(sa.select(sa.func.count(HomeboundSession.id))).scalar() == 0


def test_plan_and_compliance_export(two_schools, make_placement, make_user, login):
    placement = make_placement(two_schools[0], date(2021, 3, 1))
    for day in (date(2021, 3, 2), date(2021, 3, 4)):
        services.log_session(placement, held_on=day, starts_at=time(9), ends_at=time(11), teachers="李老师",
                             content_areas=["认知"], progress="好", guardian_confirmed=True, guardian_name="父")
    db.session.commit()
    client = login(make_user("clerk"))
    resp = client.post(f"/homebound/{placement.id}/plan", data={
        "school_year": "2020-2021", "made_on": "2021-03-01", "goals": "生活自理：会自己洗手\n运动：扶站10分钟"},
        follow_redirects=True)
    assert "个别化教育计划已保存" in resp.text and "扶站10分钟" in resp.text
    # 03-01 … 03-07: 7 days → 2 visits, 6 periods; 2 sessions of 3 periods → compliant.
    page = client.get("/homebound/compliance?from=2021-03-01&to=2021-03-07").text
    assert "达标" in page and "100.0%" in page
    xlsx = client.get("/homebound/compliance?from=2021-03-01&to=2021-03-14&format=xlsx")
    assert xlsx.headers["Content-Disposition"].startswith("attachment;")  # a download, like every export
    wb = openpyxl.load_workbook(io.BytesIO(xlsx.data))
    assert wb.sheetnames == ["按学生", "按学校", "按乡镇", "说明"]
    # 03-01 … 03-14: 14 days → 4 visits, 12 periods; 2 given → behind by 2 visits, 6 periods.
    row = [c.value for c in wb["按学生"][3]]  # below the title and the header
    assert row[:3] == [placement.child.name, "勐罕中心小学", "勐罕镇"]
    assert row[3:] == [14, 2, 6, 4, 12, 2, 6, 0, "未达标"]
    school_rows = [[c.value for c in r] for r in wb["按学校"].iter_rows(min_row=3)]
    assert school_rows == [["勐罕中心小学", 1, 0, "0.0%", 2, 6, 4], ["合计", 1, 0, "0.0%", 2, 6, 4]]


def test_an_auditor_reads_but_cannot_write(two_schools, make_placement, make_user, login):
    placement = make_placement(two_schools[0], date(2021, 3, 1))
    client = login(make_user("auditor"))
    assert client.get(f"/homebound/{placement.id}").status_code == 200
    assert client.post(f"/homebound/{placement.id}/plan", data={}).status_code == 403
    assert client.get("/homebound/place/record-1").status_code == 403


def test_registry_pages_show_the_child_as_homebound(two_schools, make_placement, make_user, login):
    placement = make_placement(two_schools[0], date(2021, 3, 1))
    client = login(make_user("clerk"))
    page = client.get(f"/children/{placement.child_id}").text
    assert f'href="/homebound/{placement.id}">送教上门</a>' in page
    assert "送教上门</span>" in client.get("/children").text


def test_a_township_user_sees_its_townships_placements(two_schools, make_placement, make_user, login):
    mine = make_placement(two_schools[0], date(2021, 3, 1))
    theirs = make_placement(two_schools[1], date(2021, 3, 1), name="岩坎", id_number="532801201407271133")
    client = login(make_user("township", township=two_schools[0].township))
    listing = client.get("/homebound").text
    assert mine.child.name in listing and theirs.child.name not in listing
    assert client.get(f"/homebound/{theirs.id}").status_code == 404
    # A township reads the file but does not log sessions (the school does).
    assert client.get(f"/homebound/{mine.id}").status_code == 200
    assert client.post(f"/homebound/{mine.id}/plan", data={}).status_code == 403


def test_a_case_closed_as_placed_is_placed_from_its_page(app_ctx, make_child, make_user, login, today_is):
    from edu_guard.cases.models import DropoutCase

    today_is(date(2021, 3, 1))
    child = make_child(name="岩香", id_number="532801201001010011")
    case = DropoutCase(child=child, state="closed", reason="残疾", opened_on=date(2021, 1, 4),
                       step_started_on=date(2021, 1, 4), outcome="送教上门", outcome_on=date(2021, 2, 1),
                       school=child.current_enrollment.school)
    db.session.add(case)
    db.session.commit()
    client = login(make_user("clerk"))
    assert f'href="/homebound/place/case-{case.id}"' in client.get(f"/cases/{case.id}").text
    resp = client.post(f"/homebound/place/case-{case.id}", data={
        "school": str(child.current_enrollment.school_id), "assessed_on": "2021-02-20", "assessment": "不能到校就读",
        "teachers": "李老师", "starts_on": "2021-03-01"}, follow_redirects=True)
    assert "已安置：岩香" in resp.text
    placement = db.session.execute(sa.select(HomeboundPlacement)).scalar_one()
    assert placement.case_id == case.id and placement.guardian_name == "岩香之父"


def test_candidates_as_of_a_date(county, expected_candidates, make_user, login, today_is, age_on_id):
    """Years after the sample's term, some listed children are past 15; the page can
    count ages on the sample's own date and place them from it."""
    today_is(date(2026, 3, 1))
    still = {n for n in expected_candidates if age_on_id(n, date(2026, 3, 1)) <= 15}
    assert 0 < len(still) < 7
    client = login(make_user("clerk"))
    assert {c.id_number for c in services.candidates()} == still
    page = client.get("/homebound/candidates?on=2021-03-01").text
    assert all(r["姓名"] in page for r in expected_candidates.values())
    aged_out = next(n for n in expected_candidates if n not in still)
    key = next(c.key for c in services.candidates(date(2021, 3, 1)) if c.id_number == aged_out)
    assert f"/homebound/place/{key}?on=2021-03-01" in page
    form = client.get(f"/homebound/place/{key}?on=2021-03-01").text
    assert 'value="2021-03-01"' in form
    school = db.session.execute(sa.select(Enrollment.school_id).join(Child).where(Child.id_number == aged_out)).scalar()
    resp = client.post(f"/homebound/place/{key}?on=2021-03-01", data={
        "school": str(school), "assessed_on": "2021-02-26", "assessment": "不能到校就读", "teachers": "李老师",
        "starts_on": "2021-03-01", "ends_on": "2021-07-10"}, follow_redirects=True)
    assert "已安置" in resp.text


def test_candidates_are_scoped_for_townships_and_schools(county, expected_candidates, make_user, login):
    from edu_guard.registry.models import School, Township

    town = db.session.execute(sa.select(Township).where(Township.name == "勐罕镇")).scalar_one()
    listed_here = {n for n, r in expected_candidates.items() if r["乡镇"] == "勐罕镇"}
    assert listed_here  # 邵杰 and 邹天 live in 勐罕镇 by the federation's list
    seen = {c.id_number for c in services.candidates(date(2021, 3, 1), make_user("township", township=town))}
    assert listed_here <= seen
    for number in set(expected_candidates) - seen:
        school_town = db.session.execute(sa.select(School.township_id).join(Enrollment).join(Child)
                                         .where(Child.id_number == number)).scalar()
        assert school_town != town.id
    # A school user sees only the candidates enrolled at the school, and cannot place them.
    one = services.candidates(date(2021, 3, 1))[0]
    teacher = make_user("school", school=db.session.get(School, one.school_id))
    assert [c.id_number for c in services.candidates(date(2021, 3, 1), teacher)] == [
        c.id_number for c in services.candidates(date(2021, 3, 1)) if c.school_id == one.school_id]
    page = login(teacher).get("/homebound/candidates?on=2021-03-01").text
    assert one.name in page and "/homebound/place/" not in page
