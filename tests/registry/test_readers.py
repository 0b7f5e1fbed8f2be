"""Reading files: header below title rows, footer, blank rows, Excel row numbers,
cell types from python-calamine, and CSV encodings."""

from datetime import date

import pytest

from edu_guard.registry import readers
from edu_guard.registry.normalize import COLUMN_ALIASES

from .conftest import xlsx_bytes

FIELDS = frozenset(COLUMN_ALIASES)


def test_sample_roster_header_footer_and_row_numbers(demo_dir, roster_facts):
    table = readers.read_table(demo_dir / "roster_2021_spring.xlsx", "roster_2021_spring.xlsx", FIELDS)
    rows = list(table.rows)
    assert table.header_row == roster_facts.header_row == 2
    assert table.header[:3] == ["序号", "姓名", "性别"]
    assert len(table.header) == 20
    assert [number for number, _ in rows] == roster_facts.data_rows
    assert len(rows) == 1202
    # the title row is above, the blank row and the 填表人 footer below are not data
    assert rows[0][1][1] == "岩罕"
    assert rows[-1][0] == roster_facts.data_rows[-1]


def test_calamine_gives_numeric_id_cells_as_floats_and_text_cells_as_str(demo_dir, roster_facts):
    """The numeric-ID check relies on the cell type: check it holds for the sample."""
    table = readers.read_table(demo_dir / "roster_2021_spring.xlsx", "roster_2021_spring.xlsx", FIELDS)
    id_col = table.columns["id_number"]
    cells = {number: row[id_col] for number, row in table.rows}
    numeric = sorted(n for n, v in cells.items() if isinstance(v, float))
    assert numeric == roster_facts.numeric_id_rows
    assert len(numeric) == 6
    assert all(isinstance(v, str) for n, v in cells.items() if n not in numeric)
    assert {n: cells[n] for n in numeric} == roster_facts.numeric_id_values


def test_real_excel_dates_come_as_dates(demo_dir):
    table = readers.read_table(demo_dir / "roster_2021_spring.xlsx", "roster_2021_spring.xlsx", FIELDS)
    col = table.columns["birth_date"]
    first = next(table.rows)
    assert first[1][col] == date(2007, 9, 25)


def test_title_rows_blank_rows_and_footer_in_a_made_workbook():
    data = xlsx_bytes(
        [
            ["某县2021年学生名单"],
            [None],
            ["制表单位：某县教育体育局"],
            ["学生姓名", "公民身份号码", "学校"],
            ["张三", "532801200709250798", "某小学"],
            [None, None, None],
            ["李四", "532801200806197490", "某小学"],
            [],
            ["说明：本表由学校填报"],
            ["王五", "1", "x"],
        ]
    )
    table = readers.read_table(data, "x.xlsx", FIELDS)
    assert table.header_row == 4
    assert table.columns == {"name": 0, "id_number": 1, "school_name": 2}
    assert [(n, r[0]) for n, r in table.rows] == [(5, "张三"), (7, "李四")]


def test_excel_row_numbers_when_the_sheet_starts_lower_and_to_the_right():
    import io

    import openpyxl

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet["C4"], sheet["D4"], sheet["E4"] = "姓名", "身份证号", "学校名称"
    sheet["C5"], sheet["D5"], sheet["E5"] = "张三", "532801200709250798", "某小学"
    sheet["C7"], sheet["D7"], sheet["E7"] = "李四", "532801200806197490", "某小学"
    out = io.BytesIO()
    workbook.save(out)
    table = readers.read_table(out.getvalue(), "x.xlsx", FIELDS)
    assert table.header_row == 4
    assert [(n, r[table.columns["name"]]) for n, r in table.rows] == [(5, "张三"), (7, "李四")]


CSV_TEXT = "姓名,身份证号,学校名称\n岩温,532801200901142690,勐罕中心小学\n\n玉香,532801201003050028,勐罕中心小学\n"


@pytest.mark.parametrize(("encoding", "expected"), [("utf-8", "utf-8"), ("utf-8-sig", "utf-8-sig"), ("gb18030", "gb18030"), ("utf-16", "utf-16")])
def test_csv_encodings_are_detected(encoding, expected):
    table = readers.read_table(CSV_TEXT.encode(encoding), "x.csv", FIELDS)
    assert table.encoding == expected
    assert table.header == ["姓名", "身份证号", "学校名称"]
    assert [(n, r[0]) for n, r in table.rows] == [(2, "岩温"), (4, "玉香")]


def test_csv_line_numbers_count_quoted_line_breaks():
    text = '姓名,身份证号,学校名称,备注\n岩温,532801200901142690,勐罕中心小学,"两行\n备注"\n玉香,532801201003050028,勐罕中心小学,\n'
    table = readers.read_table(text.encode(), "x.csv", FIELDS)
    assert [(n, r[0]) for n, r in table.rows] == [(2, "岩温"), (4, "玉香")]


def test_sample_gb18030_csv(demo_dir):
    table = readers.read_table(demo_dir / "roster_2021_spring_menghan.csv", "m.csv", FIELDS)
    rows = list(table.rows)
    assert table.encoding == "gb18030"
    assert len(rows) == 153
    assert table.columns["birth_date"] == 2
    assert rows[0][1][:3] == ["岩温", "男", "2009/01/14"]


def test_undecodable_csv_is_refused():
    with pytest.raises(readers.ReadError, match="编码"):
        readers.read_table(b"\xff\xfe\xfa\x81\x30", "x.csv", FIELDS)


def test_no_header_is_refused():
    with pytest.raises(readers.ReadError, match="找不到表头"):
        readers.read_table("甲,乙,丙\n1,2,3\n".encode(), "x.csv", FIELDS)


def test_not_an_excel_file_is_refused():
    with pytest.raises(readers.ReadError, match="无法读取 Excel 文件"):
        readers.read_table(b"this is not a zip", "x.xlsx", FIELDS)


def test_unknown_suffix_is_refused():
    with pytest.raises(readers.ReadError, match="不支持的文件类型"):
        readers.read_table(b"x", "x.pdf", FIELDS)


def test_footer_markers():
    assert readers.is_footer(["填表人：            审核人：", "", ""])
    assert readers.is_footer(["", "备注：以上数据截至3月", ""])
    assert not readers.is_footer([1.0, "注意", "男"])
    assert not readers.is_footer([1.0, "填表人", ""])
