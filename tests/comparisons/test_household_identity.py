"""The household comparison reads ID numbers by the registry's own rules
(edu_guard.registry.identity): document types, area codes that ever existed, and numbers
Excel may have cut."""

from stdnum.cn import ric


def valid(first17: str) -> str:
    return first17 + ric.calc_check_digit(first17 + "0")


def test_register_rows_by_the_registry_rules(load, invoke, tmp_path):
    load("schools.csv", "roster_2021_spring.xlsx")
    late_area = valid("53011520120315123")  # 晋宁区 since 2016, born 2012
    old_area = valid("41272320100101125")  # 商水县 until 2000, born 2010
    taiwan = valid("83000020120101127")
    foreign = valid("95310420110505123")  # 2023 永居证: 9, 53, 104, born 2011-05-05
    never = valid("99999920100501732")
    cut = "532801201007123000"  # ends in 000, nobody in the registry has it
    known = "532801200509287000"  # ends in 000 too, but the roster has this pupil
    lines = ["公民身份号码,姓名,出生日期,户籍地址"] + [
        f"{n},{name},{n[6:14]},勐罕镇" for n, name in
        ((late_area, "晋宁"), (old_area, "商水"), (taiwan, "台胞"), (foreign, "外籍"), (never, "乱码"), (cut, "截断"),
         (known, "玉康航"))
    ]
    path = tmp_path / "hukou.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = invoke.json("compare", "household", path, "--as-of", "2021-04-30")
    got = {r["name"]: (r["category"], r["reason"]) for r in out["rows"]}
    for name in ("晋宁", "商水", "台胞", "外籍"):
        assert got[name][0] != "invalid", (name, got[name])
    assert got["乱码"][0] == "invalid" and "行政区划代码（999999）不存在" in got["乱码"][1]
    assert got["截断"][0] == "invalid" and "可能被 Excel 截断，请核对原始数据" in got["截断"][1]
    assert got["玉康航"][0] != "invalid"
