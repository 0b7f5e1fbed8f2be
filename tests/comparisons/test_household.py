"""``edu-guard compare household``: every row of the sample register in its category."""

from collections import Counter

import sqlalchemy as sa

from edu_guard.comparisons.models import ComparisonRow, ComparisonRun
from edu_guard.db import db

SAMPLE = ("schools.csv", "roster_2021_spring.xlsx", "status_changes_2021.csv")
NUMERIC_CELL_CHILD = "532801200902267399"  # 于子: roster row rejected (numeric ID cell), in the 勐罕镇 CSV as text


def test_categories_exactly_right_before_and_after_the_fix(load, invoke, expected, demo_dir):
    load(*SAMPLE)
    path = demo_dir / "household_register_2021.csv"
    out = invoke.json("compare", "household", path, "--as-of", "2021-04-30")
    want = expected(with_menghan=False)
    got = {r["id_number"]: r["category"] for r in out["rows"]}
    assert out["as_of"] == "2021-04-30"
    assert len(out["rows"]) == 1130
    assert got == want
    assert out["counts"] == {**dict.fromkeys(out["counts"], 0), **Counter(want.values())}
    assert got[NUMERIC_CELL_CHILD] == "out_of_school"
    assert all(r["reason"] for r in out["rows"])

    # the clerk fixes the row (the township's CSV has the ID as text): now enrolled
    load("roster_2021_spring_menghan.csv")
    out = invoke.json("compare", "household", path, "--as-of", "2021-04-30")
    got = {r["id_number"]: r["category"] for r in out["rows"]}
    assert got == expected(with_menghan=True)
    assert got[NUMERIC_CELL_CHILD] == "enrolled"


def test_late_2016_and_2004_births_never_flagged(load, invoke, demo_dir):
    load(*SAMPLE)
    out = invoke.json("compare", "household", demo_dir / "household_register_2021.csv", "--as-of", "2021-04-30")
    by_year = {}
    for r in out["rows"]:
        by_year.setdefault(r["id_number"][6:10], []).append(r)
    late_2016 = [r for r in by_year["2016"] if r["id_number"][10:12] >= "09"]
    assert len(late_2016) == 5 and {r["category"] for r in late_2016} == {"too_young"}
    unenrolled_2004 = [r for r in by_year["2004"] if r["category"] != "enrolled"]
    assert len(unenrolled_2004) == 3 and {r["category"] for r in unenrolled_2004} == {"too_old"}
    assert "16周岁" in unenrolled_2004[0]["reason"]
    transferred = [r for r in out["rows"] if r["category"] == "transferred"]
    assert len(transferred) == 7 and all("昆明市某小学" in r["reason"] for r in transferred)


def test_run_is_stored_and_reopened(app, load, invoke, demo_dir):
    load(*SAMPLE)
    out = invoke.json("compare", "household", demo_dir / "household_register_2021.csv", "--as-of", "2021-04-30")
    with app.app_context():
        run = db.session.get(ComparisonRun, out["run"])
        assert run.kind == "household" and run.total == 1130 and len(run.sha256) == 64
        assert run.counts == out["counts"] and run.params["rule"]["min_age"] == 6
        stored = Counter(db.session.execute(
            sa.select(ComparisonRow.category).where(ComparisonRow.run_id == run.id)).scalars())
    # enrolled and out-of-age rows are counted, not stored; the rest are
    assert stored == {c: n for c, n in out["counts"].items() if c in ("out_of_school", "transferred", "deceased", "invalid") and n}
    shown = invoke.json("compare", "show", out["run"], "--category", "out_of_school")
    assert shown["counts"] == out["counts"]
    assert sorted(r["id_number"] for r in shown["rows"]) == sorted(
        r["id_number"] for r in out["rows"] if r["category"] == "out_of_school")


def test_invalid_and_duplicate_rows_and_gb18030_with_title(load, invoke, tmp_path):
    load("schools.csv")
    text = ("2021年户籍儿童名单\n公民身份号码,姓名,出生日期,户籍地址\n"
            "532801201005017327,曹嘉,20100501,勐旺乡\n"
            "５３２８０１２０１００５０１７３２７,曹嘉,20100501,勐旺乡\n"
            "532801201005017321,错号,20100501,勐旺乡\n"
            "5.32801E+17,科学,20100501,勐旺乡\n"
            ",无号,20100501,勐旺乡\n"
            "99999920100501732X,无区划,20100501,勐旺乡\n"
            "532801201005017327 ,重复,20100501,勐旺乡\n"
            "填表人：张三\n")
    path = tmp_path / "hukou.csv"
    path.write_bytes(text.encode("gb18030"))
    out = invoke.json("compare", "household", path, "--as-of", "2021-04-30")
    rows = {r["line"]: r for r in out["rows"]}
    assert sorted(rows) == [3, 4, 5, 6, 7, 8, 9]
    assert rows[3]["category"] == "out_of_school"
    assert rows[4]["category"] == "invalid" and "与第3行重复" in rows[4]["reason"]  # full-width digits normalised
    assert rows[5]["category"] == "invalid" and "校验位" in rows[5]["reason"]
    assert rows[6]["category"] == "invalid" and "科学计数法" in rows[6]["reason"]
    assert rows[7]["category"] == "invalid" and "不能为空" in rows[7]["reason"]
    assert rows[8]["category"] == "invalid" and "行政区划代码（999999）不存在" in rows[8]["reason"]
    assert rows[9]["category"] == "invalid" and "与第3行重复" in rows[9]["reason"]  # a trailing space


def test_unreadable_file_is_a_clear_error(load, invoke, tmp_path):
    path = tmp_path / "x.csv"
    path.write_text("a,b\n1,2\n", encoding="utf-8")
    result = invoke("compare", "household", path, "--as-of", "2021-04-30")
    assert result.exit_code != 0 and "表头" in result.output


def test_excel_register_with_a_numeric_id_cell(load, invoke, tmp_path):
    import openpyxl

    load("schools.csv")
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["景洪市2021年户籍适龄儿童名单"])
    sheet.append(["序号", "公民身份号码", "姓名", "户籍地址", "监护人姓名"])
    sheet.append([1, "532801201005017327", "曹 嘉", "景洪市勐旺乡补远村委会", "郭宇诺"])
    sheet.append([2, 532801200907125541, "邹英", "景洪市普文镇", "董文涵"])  # a numeric cell
    sheet.append([3, "５３２８０１２００９０１１６７３３７", "岩应航", "景洪市勐旺乡", "万远萱"])
    sheet.append(["填表人：张三"])
    path = tmp_path / "hukou.xlsx"
    book.save(path)
    out = invoke.json("compare", "household", path, "--as-of", "2021-04-30")
    rows = {r["line"]: r for r in out["rows"]}
    assert sorted(rows) == [3, 4, 5]
    assert rows[3]["category"] == "out_of_school" and rows[3]["name"] == "曹嘉"
    assert rows[4]["category"] == "invalid" and "数值格式" in rows[4]["reason"]
    assert rows[5]["category"] == "out_of_school" and rows[5]["id_number"] == "532801200901167337"


def test_a_register_mixing_encodings_is_refused_with_its_line(load, invoke, tmp_path):
    # a UTF-8 header and first row, then a row pasted from a GB18030 file: the old reader
    # read it as garbage (lossy UTF-8) and compared it
    load("schools.csv")
    path = tmp_path / "hukou.csv"
    path.write_bytes("公民身份号码,姓名,出生日期,户籍地址\n532801201005017327,曹嘉,20100501,勐旺乡\n".encode("utf-8")
                     + "532801201003050028,玉香,20100305,勐罕镇\n".encode("gb18030"))
    result = invoke("compare", "household", path, "--as-of", "2021-04-30")
    assert result.exit_code != 0
    assert "第3行不是 UTF-8 编码" in result.output and "混用" in result.output


def test_a_utf16_register_is_read(load, invoke, tmp_path):
    load("schools.csv")
    path = tmp_path / "hukou.txt"
    path.write_bytes("公民身份号码\t姓名\t出生日期\t户籍地址\n532801201005017327\t曹嘉\t20100501\t勐旺乡\n".encode("utf-16"))
    out = invoke.json("compare", "household", path, "--as-of", "2021-04-30")
    # 曹嘉 (born 2010-05-01, 10 on the day) is in no school of the registry
    assert [(r["line"], r["category"]) for r in out["rows"]] == [(2, "out_of_school")]


def test_a_long_utf8_register_with_gb18030_rows_far_down_is_refused(load, invoke, tmp_path):
    # past the top the decoder looks at, polars' strict UTF-8 read finds the GB18030 row
    load("schools.csv")
    row = "532801201005017327,曹嘉,20100501,勐旺乡\n"
    top = "公民身份号码,姓名,出生日期,户籍地址\n" + row * 8000
    path = tmp_path / "hukou.csv"
    path.write_bytes(top.encode("utf-8") + "532801201003050028,玉香,20100305,勐罕镇\n".encode("gb18030"))
    result = invoke("compare", "household", path, "--as-of", "2021-04-30")
    assert result.exit_code != 0
    assert f"第{8000 + 2}行不是 UTF-8 编码" in result.output
