"""The small files clerks send that once lost data or refused real children, each with
the outcome a clerk expects (the files are in ``data/cases``; every ID number's check
character is worked out here with an independent MOD 11-2)."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import openpyxl
import pytest
import sqlalchemy as sa

from edu_guard.db import db
from edu_guard.registry.models import Child, Enrollment, Guardian, ImportRun
from edu_guard.registry.services import import_file

from .conftest import gb11643_check

CASES = Path(__file__).parent / "data" / "cases"


@pytest.fixture
def county(app_ctx, demo_dir):
    """The sample county's schools (允景洪中心小学 is 2153280171)."""
    import_file("schools", demo_dir / "schools.csv")
    db.session.commit()


def roster(name: str):
    result = import_file("roster", CASES / name)
    db.session.commit()
    return result


def child(name: str) -> Child:
    return db.session.execute(sa.select(Child).where(Child.name == name)).scalar_one()


def test_every_case_file_carries_real_check_characters():
    """The case files' numbers are right (GB 11643), but where a case says otherwise."""
    import csv

    for path in CASES.glob("*.csv"):
        with path.open(encoding="utf-8-sig") as fh:
            for row in csv.DictReader(fh):
                number = row["身份证件号"]
                assert gb11643_check(number) == number[-1], (path.name, number)


def test_hidden_sheet_is_named_and_skipped(county):
    workbook = openpyxl.load_workbook(CASES / "hidden_first.xlsx")
    assert workbook["旧名单"].sheet_state == "hidden"
    result = roster("hidden_first.xlsx")
    assert (result.created, result.rows, result.rejects) == (1, 1, [])
    assert db.session.execute(sa.select(Child.name)).scalars().all() == ["新生"]
    assert result.source["sheets"] == [{"name": "花名册", "header_row": 1, "rows": 1}]
    assert result.source["skipped"] == [{"name": "旧名单", "reason": pytest.approx(result.source["skipped"][0]["reason"])}]
    assert "隐藏" in result.source["skipped"][0]["reason"]
    run = db.session.get(ImportRun, result.import_run_id)
    assert run.source["skipped"][0]["name"] == "旧名单"


def test_merged_cells_give_their_value_to_every_row(county):
    sheet = openpyxl.load_workbook(CASES / "merged_data.xlsx").active
    assert {str(r) for r in sheet.merged_cells.ranges} == {"D2:D4", "F2:F4", "G2:G4"}
    result = roster("merged_data.xlsx")
    assert (result.created, result.rejects) == (3, [])
    for name in ("合并0", "合并1", "合并2"):
        kid = child(name)
        assert (kid.township.name, kid.village.name) == ("勐罕镇", "曼听村委会")
        assert [e.school.name for e in kid.enrollments] == ["允景洪中心小学"]


def test_grouped_header_maps_the_guardian_name_by_its_group(county):
    result = roster("merged_header.xlsx")
    assert (result.created, result.rejects) == (1, [])
    kid = child("岩叫")
    assert [(g.name, g.phone) for g in kid.guardians] == [("玉应", "13911112222")]
    assert result.source["sheets"][0]["header_row"] == 2


def test_error_cells_are_reported_with_row_column_and_value(county):
    result = roster("error_cells.xlsx")
    assert result.created == 0
    by_row = {r["row"]: r for r in result.rejects}
    assert by_row[2]["column"] == "家庭类型"
    assert "为 Excel 错误值 #N/A" in by_row[2]["reason"]
    assert by_row[3]["column"] == "身份证件号"
    assert "为 Excel 错误值 #REF!" in by_row[3]["reason"]
    assert "不能为空" not in by_row[3]["reason"]


def test_1904_serial_number_is_read_with_that_epoch(county):
    workbook = openpyxl.load_workbook(CASES / "dates_1904_serial.xlsx")
    assert workbook.epoch == openpyxl.utils.datetime.CALENDAR_MAC_1904
    serial = workbook.active["C2"].value
    expected = date(1904, 1, 1) + timedelta(days=serial)
    assert expected == date(2010, 1, 1)
    result = roster("dates_1904_serial.xlsx")
    assert (result.created, result.rejects) == (1, [])
    assert child("苹果二").birth_date == expected
    assert result.source["date1904"] is True


def test_year_month_birth_values_are_checked_against_the_id(county):
    result = roster("dates_ym.xlsx")
    assert (result.created, result.rejects) == (4, [])
    assert {child(f"月{i}").birth_date for i in range(4)} == {date(2010, 1, 1)}


def test_year_month_that_disagrees_with_the_id_is_refused(county):
    from .conftest import xlsx_bytes

    number = "53280120100101301" + gb11643_check("53280120100101301")
    data = xlsx_bytes([["姓名", "出生年月", "身份证件号", "学校标识码"], ["月错", "2010.02", number, "2153280171"]])
    result = import_file("roster", data, "ym.xlsx")
    assert result.created == 0
    (reject,) = result.rejects
    assert reject["column"] == "出生年月"
    assert "2010年2月" in reject["reason"] and "2010年1月" in reject["reason"]


def test_id_edge_document_types_and_area_codes(county):
    result = roster("id_edge.csv")
    assert result.rejects == []
    assert result.created == 6
    types = {name: (child(name).id_type, child(name).id_number) for name in
             ("晋宁补登", "商水旧码", "台胞子女", "台胞子女二", "港澳子女", "外籍学生")}
    assert types == {
        "晋宁补登": ("居民身份证", "530115201203151234"),
        "商水旧码": ("居民身份证", "412723201001011257"),
        "台胞子女": ("港澳台居民居住证", "830000201201011271"),
        "台胞子女二": ("港澳台居民居住证", "830000201201021293"),
        "港澳子女": ("港澳台居民居住证", "810000201201031316"),
        "外籍学生": ("外国人永久居留身份证", "953104201105051231"),
    }
    # born on the dates the numbers carry (digits 7–14), sex from digit 17
    assert child("外籍学生").birth_date == date(2011, 5, 5)
    assert child("晋宁补登").birth_date == date(2012, 3, 15)
    (warning,) = result.warnings
    assert warning["row"] == 5 and "港澳台居民居住证" in warning["message"]


def test_g_number_that_differs_from_the_id_is_kept_with_a_warning(county):
    result = roster("gnum.csv")
    assert (result.created, result.rejects) == (2, [])
    numbers = dict(db.session.execute(sa.select(Child.name, Enrollment.student_number).join(Enrollment)).all())
    assert numbers == {"岩改号": "G532801201003011933", "岩临时": "L532801201003020001"}
    assert child("岩改号").id_number == "532801201003011917"
    (warning,) = result.warnings
    assert warning["row"] == 2 and warning["column"] == "全国学籍号"
    assert "G532801201003011933" in warning["message"] and "532801201003011917" in warning["message"]


def test_id_ending_in_000_is_held_back(county):
    number = "532801201007123000"
    assert gb11643_check(number) == "0"  # it passes the check: only the zeros give it away
    result = roster("id_zero_pass.csv")
    assert result.created == 0
    (reject,) = result.rejects
    assert reject["row"] == 2 and "可能被 Excel 截断，请核对原始数据" in reject["reason"]
    assert db.session.execute(sa.select(sa.func.count(Child.id))).scalar() == 0


def test_id_ending_in_000_of_a_known_child_is_accepted(county, make_child):
    from edu_guard.registry.models import School

    school = db.session.execute(sa.select(School).where(School.code == "2153280171")).scalar_one()
    make_child("岩罕二", "532801201007123000", school=school, sex="女")
    result = roster("id_zero_pass.csv")
    assert result.rejects == []
    assert result.created == 0 and result.updated + result.unchanged == 1
