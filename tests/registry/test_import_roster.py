"""Importing the sample roster: the figures of docs/domain.md §8, re-import, the
勐罕镇 GB18030 CSV, files that cannot be imported, and the rejects workbook."""

import io
from datetime import date

import openpyxl
import pytest
import sqlalchemy as sa

from edu_guard.auth.models import AuditLog
from edu_guard.db import db
from edu_guard.registry.models import Child, Enrollment, FamilyStatus, Guardian, ImportRun, Village
from edu_guard.registry.schemas import NUMERIC_ID_REASON
from edu_guard.registry.services import ImportFileError, import_file, rejects_workbook

from .conftest import ROSTER_HEADER, read_csv_rows, valid_id, xlsx_bytes


def count(model):
    return db.session.execute(sa.select(sa.func.count()).select_from(model)).scalar_one()


def max_of(column):
    return db.session.execute(sa.select(sa.func.max(column))).scalar_one()


@pytest.fixture
def roster(import_sample):
    import_sample("schools", "schools.csv")
    return import_sample("roster", "roster_2021_spring.xlsx")


def test_roster_figures(roster, roster_facts):
    """1202 rows, 1194 imported, 8 rejected: 6 numeric ID cells, 1 bad check digit,
    1 row without name and ID and with an impossible date (docs/domain.md §8)."""
    assert roster.rows == len(roster_facts.data_rows) == 1202
    assert roster.created == 1194
    assert (roster.updated, roster.unchanged) == (0, 0)
    rejected = {r["row"]: r for r in roster.rejects}
    expected_rows = roster_facts.numeric_id_rows + roster_facts.bad_check_rows + roster_facts.blank_id_rows
    assert len(roster_facts.numeric_id_rows) == 6
    assert len(roster_facts.bad_check_rows) == 1
    assert len(roster_facts.blank_id_rows) == 1
    assert sorted(rejected) == sorted(expected_rows)
    for row in roster_facts.numeric_id_rows:
        assert rejected[row]["column"] == "身份证件号"
        assert rejected[row]["reason"] == "身份证件号" + NUMERIC_ID_REASON
    (bad,) = roster_facts.bad_check_rows
    assert rejected[bad] == {
        **rejected[bad],
        "column": "身份证件号",
        "reason": "身份证件号校验位错误（GB 11643），号码有误，请核对后重新录入",
    }
    (blank,) = roster_facts.blank_id_rows
    assert rejected[blank]["column"] == "姓名、出生日期、身份证件号"
    assert (
        rejected[blank]["reason"] == "姓名不能为空；出生日期“2011-02-30”不是有效日期（该日不存在）；身份证件号不能为空"
    )
    assert count(Child) == 1194
    assert count(Enrollment) == 1194


def test_roster_values_are_normalised(roster, roster_facts):
    children = {c.id_number: c for c in db.session.execute(sa.select(Child)).scalars()}
    # full-width digits and lower-case x were typed in the file
    assert "532801201102226809" in children
    assert "532801201407034832" in children
    assert all(" " not in c.name for c in children.values())
    child = children["532801200908097810"]  # typed "姚 琪 ", birth date a real Excel date
    assert child.name == "姚琪"
    assert (child.sex, child.birth_date) == ("男", date(2009, 8, 9))
    assert child.township.name == "景哈哈尼族乡"
    assert child.village.name == "戈牛村委会"
    assert child.guardians[0].name == "姚轩俊"
    assert child.guardians[0].phone == "19684268465"
    enrollment = child.enrollments[0]
    assert (
        enrollment.school.code,
        enrollment.grade,
        enrollment.class_name,
        enrollment.boarding,
        enrollment.status,
    ) == ("2153280189", "六年级", "2班", False, "在读")
    assert enrollment.student_number == "G532801200908097810"
    assert children["532801200806197490"].birth_date == date(2008, 6, 19)  # typed 2008.06.19
    assert children["532822201002236569"].birth_date == date(2010, 2, 23)  # typed 20100223


def test_roster_family_types_and_disability(roster, roster_facts):
    from collections import Counter

    imported = set(roster_facts.data_rows) - {r["row"] for r in roster.rejects}
    expected = Counter(roster_facts.family[row][0] for row in imported if roster_facts.family[row][0])
    statuses = db.session.execute(
        sa.select(FamilyStatus.kind, sa.func.count()).where(FamilyStatus.source == "roster").group_by(FamilyStatus.kind)
    ).all()
    assert dict(statuses) == dict(expected) == {"脱贫户": 179, "监测户": 57}
    disabled = sum(1 for row in imported if roster_facts.family[row][1] == "是")
    assert (
        db.session.execute(sa.select(sa.func.count()).where(Child.is_disabled.is_(True))).scalar_one() == disabled == 15
    )
    assert count(Village) == 25


def test_roster_import_is_recorded_and_audited(roster, demo_dir):
    import hashlib

    run = db.session.get(ImportRun, roster.import_run_id)
    assert run.kind == "roster"
    assert run.filename == "roster_2021_spring.xlsx"
    assert run.sha256 == hashlib.sha256((demo_dir / "roster_2021_spring.xlsx").read_bytes()).hexdigest()
    assert (run.rows, run.created, run.updated, run.unchanged) == (1202, 1194, 0, 0)
    assert len(run.rejects) == 8
    assert run.header[:3] == ["序号", "姓名", "性别"]
    numeric = next(r for r in run.rejects if r["row"] == 14)
    assert numeric["values"]["姓名"] == "郭宇轩"
    assert isinstance(numeric["values"]["身份证件号"], float)
    creates = db.session.execute(
        sa.select(sa.func.count()).where(AuditLog.entity == "child", AuditLog.action == "create")
    ).scalar_one()
    assert creates == 1194
    audit = db.session.execute(sa.select(AuditLog).where(AuditLog.entity == "child").limit(1)).scalar_one()
    child = db.session.get(Child, audit.entity_id)
    assert audit.after["id_number"] == child.id_number
    assert audit.after["birth_date"] == child.birth_date.isoformat()


def test_reimport_changes_nothing(roster, import_sample):
    """Registry tables are untouched; only the run is recorded, in the import runs and
    as the one audit row every import leaves (issue 14: imports are audited)."""
    audits = count(AuditLog)
    versions = dict(db.session.execute(sa.select(Child.id, Child.version)).all())
    stamps = (max_of(Child.updated_at), max_of(Enrollment.updated_at))
    places = (count(Village), count(Enrollment))
    again = import_sample("roster", "roster_2021_spring.xlsx")
    assert (max_of(Child.updated_at), max_of(Enrollment.updated_at)) == stamps
    assert (count(Village), count(Enrollment)) == places
    assert count(ImportRun) == 3  # schools, roster, roster again
    assert (again.rows, again.created, again.updated, again.unchanged) == (1202, 0, 0, 1194)
    assert len(again.rejects) == 8
    assert count(AuditLog) == audits + 1
    last = db.session.execute(sa.select(AuditLog).order_by(AuditLog.id.desc()).limit(1)).scalar_one()
    assert (last.action, last.entity, last.entity_id) == ("import", "import_run", again.import_run_id)
    assert (last.after["rows"], last.after["created"], last.after["unchanged"], last.after["rejected"]) == (1202, 0, 1194, 8)
    assert dict(db.session.execute(sa.select(Child.id, Child.version)).all()) == versions
    assert count(Child) == 1194
    assert count(Guardian) == 1194
    assert count(FamilyStatus) == 179 + 57


def test_menghan_csv_after_the_roster(roster, import_sample, demo_dir, roster_facts):
    """153 rows: 152 children already imported (nothing changes), 1 created: the child
    whose roster row was refused for a numeric ID cell (this file has it as text)."""
    csv_rows = read_csv_rows(demo_dir / "roster_2021_spring_menghan.csv", "gb18030")
    new_ids = {r["身份证号"] for r in csv_rows} - set(roster_facts.text_ids)
    assert len(new_ids) == 1
    audits = count(AuditLog)
    result = import_sample("roster", "roster_2021_spring_menghan.csv")
    assert (result.rows, result.created, result.updated, result.unchanged, result.rejects) == (153, 1, 0, 152, [])
    (new_id,) = new_ids
    child = db.session.execute(sa.select(Child).where(Child.id_number == new_id)).scalar_one()
    numeric_row = next(r["row"] for r in roster.rejects if r["values"]["姓名"] == child.name)
    assert numeric_row in roster_facts.numeric_id_rows
    assert child.enrollments[0].school.name in ("勐罕中心小学", "勐罕中学")
    assert count(Child) == 1195
    assert count(AuditLog) == audits + 2  # the new child, and the import itself
    again = import_sample("roster", "roster_2021_spring_menghan.csv")
    assert (again.created, again.updated, again.unchanged) == (0, 0, 153)


def test_strict_gb11643_refuses_exactly_the_bad_check_character(import_sample, roster_facts):
    """GB 11643 is the only rule: of the sample's text IDs, exactly the one whose check
    character fails MOD 11-2 (worked out by the test with the standard's weights) is
    refused for it; every other text ID passes."""
    import_sample("schools", "schools.csv")
    result = import_sample("roster", "roster_2021_spring.xlsx")
    check_rejects = {r["row"] for r in result.rejects if "校验位错误" in r["reason"]}
    assert check_rejects == set(roster_facts.bad_check_rows)
    assert len(check_rejects) == 1


def exact_float_id() -> str:
    """A valid ID number that a double holds exactly (so Excel keeps every digit)."""
    for seq in range(1000):
        number = valid_id(f"53280120100503{seq:03d}")
        if number[-1] != "X" and float(int(number)) == int(number):
            return number
    raise AssertionError("no such number")


def test_numeric_id_cell_that_passes_the_checksum_is_still_refused(school, tmp_path):
    """Even when the digits Excel kept are a valid ID, a numeric cell is never trusted."""
    good = exact_float_id()
    typed = int(good)
    sex = "男" if int(good[16]) % 2 else "女"
    data = xlsx_bytes(
        [
            ["测试花名册"],
            ROSTER_HEADER,
            [
                1,
                "岩罕",
                sex,
                "2010-05-03",
                "傣族",
                typed,
                "",
                "2153280177",
                "勐罕中心小学",
                "四年级",
                "1班",
                "走读",
                "勐罕镇",
                "曼么村委会",
                "",
                "玉香",
                "13800000000",
            ],
            [
                2,
                "玉香",
                sex,
                "2010-05-03",
                "傣族",
                good,
                "",
                "2153280177",
                "勐罕中心小学",
                "四年级",
                "1班",
                "走读",
                "勐罕镇",
                "曼么村委会",
                "",
                "岩温",
                "13800000001",
            ],
        ]
    )
    result = import_file("roster", data, "tiny.xlsx")
    db.session.commit()
    assert (result.rows, result.created) == (2, 1)
    assert result.rejects == [
        {
            "row": 3,
            "column": "身份证件号",
            "reason": "身份证件号" + NUMERIC_ID_REASON,
            "values": result.rejects[0]["values"],
        }
    ]
    assert result.rejects[0]["values"]["身份证件号"] == float(typed)
    assert valid_id(str(int(result.rejects[0]["values"]["身份证件号"]))[:17]) == good  # the digits pass


def test_missing_required_column_writes_nothing_and_names_it(school):
    data = xlsx_bytes([["姓名", "性别", "学校名称", "年级"], ["岩罕", "男", "勐罕中心小学", "四年级"]])
    with pytest.raises(ImportFileError) as info:
        import_file("roster", data, "no_id.xlsx")
    assert "缺少必需的列：身份证件号" in str(info.value)
    assert "未导入任何数据" in str(info.value)
    assert count(Child) == 0
    assert count(ImportRun) == 0


def test_wrong_kind_of_file_is_refused(demo_dir, app_ctx):
    with pytest.raises(ImportFileError) as info:
        import_file("roster", demo_dir / "schools.csv")
    assert "缺少必需的列：姓名、身份证件号" in str(info.value)
    with pytest.raises(ImportFileError) as info:
        import_file("disabled", "编号,金额\n1,2\n".encode(), "money.csv")
    assert str(info.value) == (
        "残疾儿童名单“money.csv”无法导入：在文件前30行中找不到表头：文件类型不对，或表头的列名无法识别"
        "（残疾儿童名单应有 姓名、身份证件号、残疾人证号 等列）"
    )
    assert count(ImportRun) == 0


def test_unreadable_file_is_refused(app_ctx, tmp_path):
    with pytest.raises(ImportFileError, match="无法读取 Excel 文件"):
        import_file("roster", b"PK\x03\x04 broken", "broken.xlsx")
    with pytest.raises(ImportFileError, match="无法打开文件"):
        import_file("roster", tmp_path / "nowhere.xlsx")
    with pytest.raises(ImportFileError, match="未知的导入类型"):
        import_file("pupils", b"x", "x.csv")


@pytest.mark.parametrize("encoding", ["gb18030", "utf-8-sig"])
def test_csv_encodings_import_the_same(school, encoding):
    text = "姓名,性别,出生日期,身份证号,学籍号,学校名称,年级,班级,是否寄宿,家庭类型\n"
    number = valid_id("53280120100503123")
    sex = "男" if int(number[16]) % 2 else "女"
    text += f"岩 罕,{sex},2010/5/3,{number.lower()},G{number},勐罕中心小学,四年级,1班,是,脱贫户\n"
    result = import_file("roster", text.encode(encoding), "town.csv")
    assert (result.rows, result.created, result.rejects) == (1, 1, [])
    child = db.session.execute(sa.select(Child)).scalar_one()
    assert (child.name, child.id_number, child.birth_date) == ("岩罕", number.upper(), date(2010, 5, 3))
    assert child.enrollments[0].boarding is True
    assert db.session.execute(sa.select(FamilyStatus.kind)).scalar_one() == "脱贫户"


def test_updated_row_is_counted_and_audited(school):
    number = valid_id("53280120100503123")
    sex = "男" if int(number[16]) % 2 else "女"

    def roster(grade, phone):
        return f"姓名,性别,身份证号,学校名称,年级,监护人,监护人联系电话\n岩罕,{sex},{number},勐罕中心小学,{grade},玉香,{phone}\n".encode()

    first = import_file("roster", roster("四年级", "13800000000"), "a.csv")
    db.session.commit()
    assert first.created == 1
    second = import_file("roster", roster("五年级", "13900000000"), "b.csv")
    db.session.commit()
    assert (second.created, second.updated, second.unchanged) == (0, 1, 0)
    child = db.session.execute(sa.select(Child)).scalar_one()
    assert child.enrollments[0].grade == "五年级"
    assert child.guardians[0].phone == "13900000000"
    assert len(child.guardians) == 1
    audit = db.session.execute(sa.select(AuditLog).where(AuditLog.action == "update")).scalar_one()
    assert audit.entity_id == child.id
    assert audit.before == {"enrollment.grade": "四年级", "guardian.phone": "13800000000"}
    assert audit.after == {"enrollment.grade": "五年级", "guardian.phone": "13900000000"}


def test_unknown_school_and_duplicate_rows_are_refused(school):
    a, b = valid_id("53280120100503123"), valid_id("53280120110607124")
    sa_, sb = ("男" if int(a[16]) % 2 else "女"), ("男" if int(b[16]) % 2 else "女")
    text = "姓名,性别,身份证号,学校标识码\n"
    text += f"甲,{sa_},{a},2153280177\n乙,{sb},{b},2153289999\n丙,{sa_},{a},2153280177\n"
    result = import_file("roster", text.encode(), "x.csv")
    assert result.created == 1
    assert [(r["row"], r["column"], r["reason"]) for r in result.rejects] == [
        (3, "学校标识码", "学校标识码（2153289999）不在学校名单中；请核对，或先导入学校名单"),
        (4, "身份证号", "身份证号与第2行重复（同一人在文件中出现两次）"),
    ]
    assert result.rejects[1]["values"] == {"姓名": "丙", "性别": sa_, "身份证号": a, "学校标识码": "2153280177"}


def test_progress_is_reported(roster, import_sample):
    calls = []
    import_sample("roster", "roster_2021_spring.xlsx", progress=lambda done, total: calls.append((done, total)))
    assert calls[0] == (1000, 1204)
    assert calls[-1] == (1202, 1202)
    assert [done for done, _ in calls] == sorted(done for done, _ in calls)


def test_rejects_workbook_has_the_original_rows_and_reasons(roster, roster_facts):
    run = db.session.get(ImportRun, roster.import_run_id)
    book = openpyxl.load_workbook(io.BytesIO(rejects_workbook(run)))
    sheet = book.active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][0] == "未导入的行（roster_2021_spring.xlsx，共8行）"  # the title row
    assert list(rows[1]) == [*run.header, "原行号", "错误原因"]
    assert len(rows) == 2 + 8
    by_row = {r[-2]: r for r in rows[2:]}
    assert sorted(by_row) == sorted(
        roster_facts.numeric_id_rows + roster_facts.bad_check_rows + roster_facts.blank_id_rows
    )
    first = by_row[roster_facts.numeric_id_rows[0]]
    header = list(rows[1])
    assert first[header.index("姓名")] == "郭宇轩"
    assert first[header.index("身份证件号")] == roster_facts.numeric_id_values[roster_facts.numeric_id_rows[0]]
    assert first[-1].startswith("身份证件号为数值格式")
    bad = by_row[roster_facts.bad_check_rows[0]]
    assert bad[header.index("身份证件号")] == "532801201006238370"
    assert bad[header.index("出生日期")] == "2012-01-01"
    # the same workbook from the result object
    assert openpyxl.load_workbook(io.BytesIO(rejects_workbook(roster))).active.max_row == 10


def test_malformed_csv_further_down_is_refused_and_rolled_back(school):
    """A CSV record that cannot be parsed, found after the import run was flushed: the
    import fails as a whole and the caller's rollback leaves nothing behind."""
    number = valid_id("53280120100503123")
    sex = "男" if int(number[16]) % 2 else "女"
    text = f'姓名,性别,身份证号,学校名称\n岩罕,{sex},{number},勐罕中心小学\n"{"长" * 140_000}",男,x,y\n'
    with pytest.raises(ImportFileError, match="CSV 文件格式有误（第3行）"):
        import_file("roster", text.encode(), "long.csv")
    db.session.rollback()
    assert count(Child) == 0
    assert count(ImportRun) == 0
