"""Importing the other sample files: schools, status changes, the monitoring-household
list and the disabled children's list."""

import pytest
import sqlalchemy as sa

from edu_guard.auth.models import AuditLog
from edu_guard.db import db
from edu_guard.registry.models import Child, DisabilityRecord, Enrollment, FamilyStatus, School, StatusChange, Township
from edu_guard.registry.services import import_file

from .conftest import read_csv_rows, valid_id


def test_schools(import_sample, demo_dir):
    rows = read_csv_rows(demo_dir / "schools.csv", "utf-8-sig")
    result = import_sample("schools", "schools.csv")
    assert (result.rows, result.created, result.updated, result.unchanged, result.rejects) == (len(rows), 16, 0, 0, [])
    towns = {r["乡镇（街道）"] for r in rows}
    assert set(db.session.execute(sa.select(Township.name)).scalars()) == towns
    school = db.session.execute(sa.select(School).where(School.code == "2153280269")).scalar_one()
    assert (school.name, school.stage, school.township.name, school.county_code) == (
        "景洪市第一中学",
        "初中",
        "允景洪街道",
        "532801",
    )
    again = import_sample("schools", "schools.csv")
    assert (again.created, again.updated, again.unchanged) == (0, 0, 16)


def test_school_renamed_is_updated(import_sample):
    import_sample("schools", "schools.csv")
    text = "学校标识码,学校名称,学段,乡镇（街道）\n2153280269,景洪市第一中学（初中部）,初中,允景洪街道\n"
    result = import_file("schools", text.encode("utf-8-sig"), "rename.csv")
    assert (result.created, result.updated) == (0, 1)
    assert (
        db.session.execute(sa.select(School.name).where(School.code == "2153280269")).scalar_one()
        == "景洪市第一中学（初中部）"
    )


@pytest.fixture
def changes(sample_county, import_sample):
    return import_sample("status-changes", "status_changes_2021.csv")


def test_status_changes(changes, demo_dir):
    rows = read_csv_rows(demo_dir / "status_changes_2021.csv", "utf-8-sig")
    assert (changes.rows, changes.created, changes.rejects) == (len(rows), 17, [])
    no_destination = (
        db.session.execute(sa.select(StatusChange).where(StatusChange.kind == "转出", StatusChange.to_school.is_(None)))
        .scalars()
        .all()
    )
    expected = {r["身份证件号"] for r in rows if r["变动类型"] == "转出" and not r["去向学校"]}
    assert {c.id_number for c in no_destination} == expected
    assert len(no_destination) == 6
    deaths = db.session.execute(sa.select(StatusChange).where(StatusChange.kind == "死亡注销")).scalars().all()
    assert len(deaths) == 1
    assert deaths[0].reason == "溺水"
    assert all(c.import_run_id == changes.import_run_id for c in no_destination + deaths)


def test_status_changes_set_the_enrollment_status(changes, demo_dir):
    rows = read_csv_rows(demo_dir / "status_changes_2021.csv", "utf-8-sig")
    known = {c for c in db.session.execute(sa.select(Child.id_number)).scalars()}
    for r in rows:
        change = db.session.execute(
            sa.select(StatusChange).where(StatusChange.id_number == r["身份证件号"])
        ).scalar_one()
        if r["身份证件号"] in known:
            assert change.child is not None
            enrollment = change.child.enrollments[-1]
            assert enrollment.school.name == r["原学校"]
            assert enrollment.status == r["变动类型"]
        else:
            assert change.child_id is None  # moved to Kunming: not in this county's roster
    linked = [r for r in rows if r["身份证件号"] in known]
    assert len(linked) == 10
    statuses = dict(db.session.execute(sa.select(Enrollment.status, sa.func.count()).group_by(Enrollment.status)).all())
    assert statuses == {"在读": 1195 - 10, "转出": 6, "休学": 3, "死亡注销": 1}
    audits = db.session.execute(sa.select(sa.func.count()).where(AuditLog.entity == "enrollment")).scalar_one()
    assert audits == 10


def test_status_changes_reimport_and_append_only(changes, import_sample, demo_dir):
    again = import_sample("status-changes", "status_changes_2021.csv")
    assert (again.created, again.updated, again.unchanged, again.rejects) == (0, 0, 17, [])
    text = "身份证件号,姓名,变动类型,变动日期,原学校,去向学校,变动原因\n532801201004061879,魏涵涵,死亡注销,2021-04-02,嘎洒中心小学,,车祸\n"
    result = import_file("status-changes", text.encode(), "fix.csv")
    assert result.created == 0
    assert result.rejects[0]["row"] == 2
    assert "只追加不修改" in result.rejects[0]["reason"]
    assert (
        db.session.execute(
            sa.select(StatusChange.reason).where(StatusChange.id_number == "532801201004061879")
        ).scalar_one()
        == "溺水"
    )


def test_status_change_before_its_child_is_linked_when_the_roster_comes(school):
    number = valid_id("53280120100503123")
    sex = "男" if int(number[16]) % 2 else "女"
    import_file(
        "status-changes", f"身份证件号,姓名,变动类型,变动日期\n{number},岩罕,休学,2021-03-01\n".encode(), "c.csv"
    )
    import_file("roster", f"姓名,性别,身份证号,学校名称\n岩罕,{sex},{number},勐罕中心小学\n".encode(), "r.csv")
    change = db.session.execute(sa.select(StatusChange)).scalar_one()
    assert change.child.id_number == number


def test_families(sample_county, import_sample, demo_dir):
    import openpyxl

    sheet = openpyxl.load_workbook(demo_dir / "monitoring_households_2021.xlsx").active
    rows = [[c.value for c in r] for r in sheet.iter_rows(min_row=2)]
    members = [r for r in rows if r[4]]
    heads = [i + 2 for i, r in enumerate(rows) if not r[4]]
    result = import_sample("families", "monitoring_households_2021.xlsx")
    assert result.rows == len(rows) == 476
    assert result.created == len(members) == 238
    # Household heads (no ID number by design) are skipped with a remark, not errors.
    assert result.rejects == []
    skipped = [w for w in result.warnings if w.get("skipped")]
    assert [w["row"] for w in skipped] == heads
    assert {w["column"] for w in skipped} == {"证件号码"}
    assert all(w["message"].startswith("户主行，已跳过") for w in skipped)
    # every row is counted once in the summary the clerk reads
    assert result.skipped_rows == len(heads) == 238
    assert result.counts_text() == f"共 476 行；新增 {len(members)}，更新 0，未变 0，未导入 0，跳过 {len(heads)}"
    listed = dict(
        db.session.execute(
            sa.select(FamilyStatus.kind, sa.func.count())
            .where(FamilyStatus.source == "monitoring_households")
            .group_by(FamilyStatus.kind)
        ).all()
    )
    assert listed == {
        "脱贫户": sum(1 for r in members if r[5] == "脱贫户"),
        "监测户": sum(1 for r in members if r[5] != "脱贫户"),
    }
    monitored = db.session.execute(
        sa.select(FamilyStatus).where(
            FamilyStatus.id_number == "532822201002236569", FamilyStatus.source == "monitoring_households"
        )
    ).scalar_one()
    assert (
        monitored.kind,
        monitored.category,
        monitored.risk_type,
        monitored.risk_removed,
        monitored.household_code,
    ) == ("监测户", "突发严重困难户", "因残", False, "532801882557455")
    # every 脱贫户 is marked 风险消除=是 in the list; it stays a 脱贫户 all the same
    assert not db.session.execute(
        sa.select(sa.func.count()).where(FamilyStatus.kind == "脱贫户", FamilyStatus.risk_removed.is_(True))
    ).scalar_one()
    again = import_sample("families", "monitoring_households_2021.xlsx")
    assert (again.created, again.updated, again.unchanged) == (0, 0, 238)


def test_disabled(sample_county, import_sample, demo_dir):
    rows = read_csv_rows(demo_dir / "disabled_children_2021.csv", "utf-8-sig")
    result = import_sample("disabled", "disabled_children_2021.csv")
    assert (result.rows, result.created, result.rejects) == (len(rows), 15, [])
    homebound = (
        db.session.execute(sa.select(DisabilityRecord).where(DisabilityRecord.can_attend_school.is_(False)))
        .scalars()
        .all()
    )
    assert {d.id_number for d in homebound} == {r["身份证号"] for r in rows if r["能否到校就读"] == "否"}
    assert len(homebound) == 7
    record = db.session.execute(
        sa.select(DisabilityRecord).where(DisabilityRecord.id_number == "532801201005246883")
    ).scalar_one()
    assert (record.certificate_number, record.category, record.level, record.village) == (
        "53280120100524688371",
        "多重",
        1,
        "曼景兰社区",
    )
    for r in rows:
        d = db.session.execute(
            sa.select(DisabilityRecord).where(DisabilityRecord.id_number == r["身份证号"])
        ).scalar_one()
        assert (d.category, f"{d.level}级") == (r["残疾类别"], r["残疾等级"])
    again = import_sample("disabled", "disabled_children_2021.csv")
    assert (again.created, again.updated, again.unchanged) == (0, 0, 15)


def test_disabled_marks_the_child(school):
    number = valid_id("53280120100503123")
    sex = "男" if int(number[16]) % 2 else "女"
    import_file(
        "roster", f"姓名,性别,身份证号,学校名称,是否残疾\n岩罕,{sex},{number},勐罕中心小学,否\n".encode(), "r.csv"
    )
    result = import_file(
        "disabled", f"姓名,身份证号,残疾人证号,能否到校就读\n岩罕,{number},{number}52,否\n".encode(), "d.csv"
    )
    assert result.created == 1
    child = db.session.execute(sa.select(Child)).scalar_one()
    assert child.is_disabled is True
    assert child.version == 2
    audit = db.session.execute(sa.select(AuditLog).where(AuditLog.action == "update")).scalar_one()
    assert (audit.entity_id, audit.before, audit.after) == (child.id, {"is_disabled": False}, {"is_disabled": True})
