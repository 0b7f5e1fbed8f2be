"""Files of the same kinds as ``data/cases``, made here with openpyxl as clerks make them
(other merged layouts, other hidden-sheet arrangements, other document types, a CSV in
GB18030, a roster split by grade over sheets, long codes in numeric cells …): each
imports as a clerk would expect. Check characters are worked out with the tests' own
MOD 11-2 (``conftest.gb11643_check``)."""

from __future__ import annotations

import io
import zipfile
from datetime import date

import openpyxl
import pytest
import sqlalchemy as sa

from edu_guard.db import db
from edu_guard.registry.models import Child, DisabilityRecord, Enrollment, FamilyStatus
from edu_guard.registry.services import ImportFileError, import_file

from .conftest import valid_id

SCHOOL = "2153280171"  # 允景洪中心小学 in the sample school list


@pytest.fixture
def county(app_ctx, demo_dir):
    import_file("schools", demo_dir / "schools.csv")
    db.session.commit()


def pupil(birth: str, seq: str, area: str = "532801") -> str:
    """A valid 公民身份号码 born on ``birth`` (YYYYMMDD) with sequence ``seq`` (3 digits)."""
    return valid_id(f"{area}{birth}{seq}")


def save(workbook: openpyxl.Workbook) -> bytes:
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def names() -> list[str]:
    return sorted(db.session.execute(sa.select(Child.name)).scalars())


def test_roster_split_by_grade_over_sheets(county):
    """Three visible grade sheets, each with its own column order and title row, and
    a hidden 模板 sheet: every grade is imported, the template is not."""
    workbook = openpyxl.Workbook()
    first = workbook.active
    first.title = "一年级"
    first.append(["允景洪中心小学一年级花名册"])
    first.append(["姓名", "身份证件号", "学校标识码", "年级"])
    first.append(["岩一", pupil("20140301", "011"), SCHOOL, "一年级"])
    second = workbook.create_sheet("二年级")
    second.append(["学校标识码", "年级", "身份证号", "学生姓名"])
    second.append([SCHOOL, "二年级", pupil("20130301", "013"), "岩二"])
    second.append([SCHOOL, "二年级", pupil("20130302", "015"), "岩三"])
    template = workbook.create_sheet("模板")
    template.append(["姓名", "身份证件号", "学校标识码"])
    template.append(["示例", pupil("20130303", "017"), SCHOOL])
    template.sheet_state = "hidden"
    third = workbook.create_sheet("三年级")
    third.append(["姓名", "身份证件号", "学校名称", "年级"])
    third.append(["岩四", pupil("20120301", "019"), "允景洪中心小学", "三年级"])
    third.append(["岩一重", pupil("20140301", "011"), "允景洪中心小学", "三年级"])  # the 一年级 child again
    result = import_file("roster", save(workbook), "分年级.xlsx")
    db.session.commit()
    assert names() == ["岩一", "岩三", "岩二", "岩四"]
    assert [(s["name"], s["header_row"], s["rows"]) for s in result.source["sheets"]] == [
        ("一年级", 2, 1), ("二年级", 1, 2), ("三年级", 1, 2)]
    assert [s["name"] for s in result.source["skipped"]] == ["模板"]
    (reject,) = result.rejects
    assert (reject["sheet"], reject["row"]) == ("三年级", 3)
    assert "工作表“一年级”第3行" in reject["reason"]


def test_very_hidden_and_explanation_sheets_are_named_with_why(county):
    workbook = openpyxl.Workbook()
    notes = workbook.active
    notes.title = "填表说明"
    notes.append(["1. 身份证号请设置为文本格式"])
    secret = workbook.create_sheet("数据源")
    secret.append(["姓名", "身份证件号", "学校标识码"])
    secret.append(["藏起", pupil("20110101", "021"), SCHOOL])
    secret.sheet_state = "veryHidden"
    data = workbook.create_sheet("名单")
    data.append(["姓名", "身份证件号", "学校标识码"])
    data.append(["可见", pupil("20110102", "023"), SCHOOL])
    result = import_file("roster", save(workbook), "x.xlsx")
    assert names() == ["可见"]
    reasons = {s["name"]: s["reason"] for s in result.source["skipped"]}
    assert set(reasons) == {"填表说明", "数据源"}
    assert "表头" in reasons["填表说明"] and "深度隐藏" in reasons["数据源"]


def test_only_a_hidden_sheet_holds_the_list(county):
    workbook = openpyxl.Workbook()
    cover = workbook.active
    cover.title = "封面"
    cover.append(["2021年春季学期"])
    hidden = workbook.create_sheet("名单")
    hidden.append(["姓名", "身份证件号", "学校标识码"])
    hidden.append(["隐藏生", pupil("20110103", "025"), SCHOOL])
    hidden.sheet_state = "hidden"
    with pytest.raises(ImportFileError, match="隐藏的工作表“名单”"):
        import_file("roster", save(workbook), "x.xlsx")
    assert names() == []


def test_school_blocks_merged_down_under_a_merged_title(county):
    """Two villages, each merged down over its block of pupils, and 家庭类型 merged
    over a family's two children; the title row is merged across the header."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["勐罕镇学生名单"])
    sheet.merge_cells("A1:F1")
    sheet.append(["乡镇", "村（社区）", "姓名", "身份证件号", "学校标识码", "家庭类型"])
    rows = [("曼听村委会", "甲", "031"), (None, "乙", "033"), (None, "丙", "035"),
            ("曼峨村委会", "丁", "037"), (None, "戊", "039")]
    for village, name, seq in rows:
        sheet.append(["勐罕镇", village, name, pupil("20100505", seq), SCHOOL, "脱贫户" if name in "丁戊" else None])
    sheet.merge_cells("A3:A7")
    sheet.merge_cells("B3:B5")
    sheet.merge_cells("B6:B7")
    sheet.merge_cells("F6:F7")
    result = import_file("roster", save(workbook), "x.xlsx")
    db.session.commit()
    assert (result.created, result.rejects) == (5, [])
    villages = {c.name: (c.township.name, c.village.name) for c in db.session.execute(sa.select(Child)).scalars()}
    assert villages == {"甲": ("勐罕镇", "曼听村委会"), "乙": ("勐罕镇", "曼听村委会"), "丙": ("勐罕镇", "曼听村委会"),
                        "丁": ("勐罕镇", "曼峨村委会"), "戊": ("勐罕镇", "曼峨村委会")}
    poor = set(db.session.execute(sa.select(FamilyStatus.name).where(FamilyStatus.kind == "脱贫户")).scalars())
    assert poor == {"丁", "戊"}


def test_grouped_header_with_vertical_merges_and_a_phone_without_a_name(county):
    """序号 and 学校标识码 merged over both header rows; the guardian group has its own
    姓名, a relation, a mobile and the guardian's ID number (not imported: reported)."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["序号", "学生信息", None, None, "家长信息", None, None, None])
    sheet.append([None, "姓名", "身份证号", "学校标识码", "姓名", "与学生关系", "手机号码", "身份证号"])
    for ref in ("A1:A2", "B1:D1", "E1:H1"):
        sheet.merge_cells(ref)
    sheet.append([1, "岩香", pupil("20100606", "041"), SCHOOL, "岩父", "父亲", "13900001111", pupil("19800101", "013")])
    sheet.append([2, "玉香", pupil("20100607", "042"), SCHOOL, None, None, "13900002222", None])
    result = import_file("roster", save(workbook), "x.xlsx")
    db.session.commit()
    assert (result.created, result.rejects) == (2, [])
    guardians = {c.name: [(g.name, g.relation, g.phone) for g in c.guardians]
                 for c in db.session.execute(sa.select(Child)).scalars()}
    assert guardians == {"岩香": [("岩父", "父亲", "13900001111")], "玉香": [(None, None, "13900002222")]}
    assert result.source["unused_columns"] == ["身份证号（家长信息）（H列）"]


def test_a_row_lists_every_error_it_has(county):
    """Excel errors in two columns, a sex that contradicts the ID and an unknown school:
    one rejected row with all four reasons."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["姓名", "性别", "出生日期", "身份证件号", "学校标识码", "监护人联系电话"])
    number = pupil("20100707", "051")  # digit 17 is 1: a boy
    sheet.append(["错很多", "女", "#VALUE!", number, "2153289999", "#N/A"])
    assert sheet["C2"].data_type == "e"
    result = import_file("roster", save(workbook), "x.xlsx")
    (reject,) = result.rejects
    assert reject["column"] == "性别、出生日期、学校标识码、监护人联系电话"
    assert "#VALUE!" in reject["reason"] and "#N/A" in reject["reason"]
    assert "与身份证件号第17位所示性别（男）不一致" in reject["reason"]
    assert "（2153289999）不在学校名单中" in reject["reason"]


def test_gb18030_csv_with_edge_ids_and_names(county):
    """A township's CSV in GB18030: full-width digits and a lower-case x, spaces inside a
    number, a 港澳 number typed as 身份证, a 2023 永居证, 间隔号 look-alikes."""
    x_id = pupil("20100808", "061")
    while not x_id.endswith("X"):
        x_id = pupil("20100808", f"{int(x_id[14:17]) + 2:03d}")
    fullwidth = "".join(chr(ord(c) + 0xFEE0) for c in x_id[:-1]) + "x"
    spaced = pupil("20100809", "063")
    macao = valid_id("82000020100810065")
    foreign = valid_id("95384020100811067")  # 9, 53 Yunnan, 840, born 2010-08-11
    text = "\n".join([
        "姓名,证件类型,身份证件号,学校名称",
        f"玉香•岩罕,身份证,{fullwidth},允景洪中心小学",
        f"岩 温 ,身份证,{spaced[:6]} {spaced[6:14]} {spaced[14:]},允景洪中心小学",
        f"澳门生,身份证,{macao},允景洪中心小学",
        f"Mary・Smith,外国人永久居留证,{foreign},允景洪中心小学",
    ]) + "\n"
    result = import_file("roster", text.encode("gb18030"), "勐罕镇.csv")
    db.session.commit()
    assert result.rejects == []
    assert result.source["encoding"] == "gb18030"
    got = {c.name: (c.id_type, c.id_number) for c in db.session.execute(sa.select(Child)).scalars()}
    assert got == {"玉香·岩罕": ("居民身份证", x_id), "岩温": ("居民身份证", spaced),
                   "澳门生": ("港澳台居民居住证", macao), "Mary·Smith": ("外国人永久居留身份证", foreign)}
    assert db.session.execute(sa.select(Child.birth_date).where(Child.id_number == foreign)).scalar() == date(2010, 8, 11)


def test_other_document_types_and_a_pupil_without_one(county):
    """A 2017 永居证 (3 letters + 12 digits, so sex and birth date come from their
    columns), a pupil with no document (J-number), a 永居证 with a wrong check
    character, and a citizen's number declared as 永居证."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["姓名", "性别", "出生日期", "证件类型", "身份证件号", "全国学籍号", "学校标识码"])
    bad_check = valid_id("95310420110505123")
    bad_check = bad_check[:-1] + ("0" if bad_check[-1] != "0" else "1")
    citizen = pupil("20110506", "071")
    sheet.append(["老永居", "女", "2011-05-05", "外国人永久居留身份证", "MMR531105050101", None, SCHOOL])
    sheet.append(["无证生", "男", "2012-02-02", "无证件", None, "J532801201202020011", SCHOOL])
    sheet.append(["错永居", "男", None, "外国人永久居留身份证", bad_check, None, SCHOOL])
    sheet.append(["填错类", "男", None, "外国人永久居留身份证", citizen, None, SCHOOL])
    sheet.append(["无号无籍", "男", "2012-02-03", None, None, None, SCHOOL])
    result = import_file("roster", save(workbook), "x.xlsx")
    db.session.commit()
    got = {c.name: (c.id_type, c.id_number, c.sex, c.birth_date, c.needs_id_follow_up)
           for c in db.session.execute(sa.select(Child)).scalars()}
    assert got == {"老永居": ("外国人永久居留身份证", "MMR531105050101", "女", date(2011, 5, 5), False),
                   "无证生": ("无证件", None, "男", date(2012, 2, 2), True)}
    number = db.session.execute(sa.select(Enrollment.student_number).join(Child).where(Child.name == "无证生")).scalar()
    assert number == "J532801201202020011"
    by_row = {r["row"]: r["reason"] for r in result.rejects}
    assert set(by_row) == {4, 5, 6}
    assert "校验位错误" in by_row[4]
    assert "是公民身份号码，但证件类型填为外国人永久居留身份证" in by_row[5]
    assert "无证件" in by_row[6]
    assert [w["row"] for w in result.warnings] == [3]  # the pupil to follow up
    # a second import of the same file finds the no-document pupil by the 学籍号
    again = import_file("roster", save(workbook), "x.xlsx")
    assert (again.created, again.unchanged) == (0, 2)


def test_long_codes_in_numeric_cells_are_refused(county):
    """户编号 and 残疾人证号 typed into numeric cells keep 15 significant digits."""
    number = pupil("20100909", "081")
    families = openpyxl.Workbook()
    sheet = families.active
    sheet.append(["户编号", "姓名", "身份证件号", "监测对象类别"])
    sheet.append([53280112345678901234, "长户号", number, "脱贫户"])
    sheet.append(["53280112345678901235", "文本户号", pupil("20100910", "083"), "脱贫户"])
    result = import_file("families", save(families), "x.xlsx")
    assert [r["row"] for r in result.rejects] == [2]
    assert "户编号" in result.rejects[0]["reason"] and "15位" in result.rejects[0]["reason"]
    disabled = openpyxl.Workbook()
    sheet = disabled.active
    sheet.append(["姓名", "身份证件号", "残疾人证号"])
    sheet.append(["数值证号", number, float(number + "42")])
    sheet.append(["文本证号", pupil("20100911", "085"), pupil("20100911", "085") + "42"])
    result = import_file("disabled", save(disabled), "x.xlsx")
    db.session.commit()
    assert [r["row"] for r in result.rejects] == [2]
    assert "残疾人证号" in result.rejects[0]["reason"] and "15位" in result.rejects[0]["reason"]
    assert db.session.execute(sa.select(DisabilityRecord.name)).scalars().all() == ["文本证号"]


def test_csv_saved_from_excel_with_error_values_and_a_1904_workbook_with_real_dates(county):
    """A CSV keeps an error cell as its text (#N/A): reported as an Excel error. A
    1904-system workbook whose birth dates are real date cells is read right too."""
    number = pupil("20101010", "091")
    text = f"姓名,身份证件号,学校标识码\n甲,#N/A,{SCHOOL}\n乙,{number},{SCHOOL}\n"
    result = import_file("roster", text.encode(), "x.csv")
    assert [r["row"] for r in result.rejects] == [2]
    assert "为 Excel 错误值 #N/A" in result.rejects[0]["reason"]
    workbook = openpyxl.Workbook()
    workbook.epoch = openpyxl.utils.datetime.CALENDAR_MAC_1904
    sheet = workbook.active
    sheet.append(["姓名", "出生日期", "身份证件号", "学校标识码"])
    born = pupil("20101011", "093")
    sheet.append(["丙", date(2010, 10, 11), born, SCHOOL])
    sheet["B2"].number_format = "yyyy-mm-dd"
    result = import_file("roster", save(workbook), "x.xlsx")
    db.session.commit()
    assert result.rejects == [] and result.source["date1904"] is True
    assert db.session.execute(sa.select(Child.birth_date).where(Child.name == "丙")).scalar() == date(2010, 10, 11)


def test_a_formula_cell_saved_without_its_result_is_named_not_read_as_empty(county):
    """QA: a name cell holding =HYPERLINK(…) in a workbook written by a program (no
    cached result) was reported as "姓名不能为空". It is reported as a formula, by row
    and column; a formula whose result was saved is read as that result."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["姓名", "身份证件号", "学校标识码"])
    sheet.append(['=HYPERLINK("http://x/1","岩罕")', pupil("20100303", "071"), SCHOOL])
    sheet.append(["玉香", pupil("20100304", "082"), SCHOOL])
    data = save(workbook)
    result = import_file("roster", data, "x.xlsx")
    (reject,) = result.rejects
    assert reject["row"] == 2 and reject["column"] == "姓名"
    assert reject["reason"].startswith("姓名：单元格是公式") and "不能为空" not in reject["reason"]
    assert "粘贴" in reject["reason"] and "数值" in reject["reason"]
    db.session.commit()
    assert db.session.execute(sa.select(Child.name)).scalars().all() == ["玉香"]
    # As Excel saves it: the formula with its result (a string, t="str") is that result.
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for item in source.infolist():
            part = source.read(item)
            if item.filename == "xl/worksheets/sheet1.xml":
                assert b'<c r="A2"><f>' in part and b"</f><v /></c>" in part
                part = part.replace(b'<c r="A2"><f>', b'<c r="A2" t="str"><f>').replace(
                    b"</f><v /></c>", "</f><v>岩罕</v></c>".encode())
            target.writestr(item, part)
    result = import_file("roster", out.getvalue(), "x.xlsx")
    assert result.rejects == []
    db.session.commit()
    assert sorted(db.session.execute(sa.select(Child.name)).scalars().all()) == sorted(["玉香", "岩罕"])
