"""Normalisation of what clerks type: full-width forms, spaces in names, ``x``,
date forms, yes/no answers, and header names through the alias table."""

from datetime import date, datetime

import pytest

from edu_guard.registry import normalize as nz


def test_halfwidth_turns_fullwidth_digits_and_brackets_ascii():
    assert nz.halfwidth("５３２８０１２０１１０２２２６８０５") == "532801201102226805"
    assert nz.halfwidth("村（社区）") == "村(社区)"
    assert nz.halfwidth("\u3000岩罕") == " 岩罕"


@pytest.mark.parametrize(
    ("typed", "clean"),
    [
        ("岩 罕 ", "岩罕"),
        ("姚 琪 ", "姚琪"),
        ("\u3000玉\u3000南远", "玉南远"),
        ("李\u200b明", "李明"),
        ("   ", None),
        (None, None),
    ],
)
def test_clean_name_drops_every_space(typed, clean):
    assert nz.clean_name(typed) == clean


def test_clean_text_keeps_chinese_punctuation():
    assert nz.clean_text("景洪市第一中学（初中部）") == "景洪市第一中学（初中部）"
    assert nz.clean_text("ＡＢ１２，ｃ") == "AB12，c"
    assert nz.clean_text("\u3000曼景兰社区\u3000") == "曼景兰社区"


def test_clean_code_upper_cases_x_and_compacts():
    assert nz.clean_code("53280120140703483x") == "53280120140703483X"
    assert nz.clean_code(" ５３２８０１ ２００９ ") == "5328012009"
    assert nz.clean_code("") is None


def test_clean_text_whole_numbers_lose_the_point_zero():
    assert nz.clean_text(13996030824.0) == "13996030824"
    assert nz.clean_text(1.5) == "1.5"
    assert nz.clean_text(True) == "是"
    assert nz.clean_text(" 走读 ") == "走读"


@pytest.mark.parametrize(
    "typed",
    [
        date(2010, 5, 3),
        datetime(2010, 5, 3, 0, 0),
        "2010.05.03",
        "20100503",
        "2010/5/3",
        "2010/05/03",
        "2010-05-03",
        "2010-5-3",
        "2010年5月3日",
        "２０１０年５月３日",
        " 2010.5.3 ",
        "2010-05-03 00:00:00",
        20100503.0,
        40301.0,  # Excel serial number of 2010-05-03
    ],
)
def test_parse_date_reads_the_forms_clerks_type(typed):
    assert nz.parse_date(typed) == date(2010, 5, 3)


@pytest.mark.parametrize("typed", ["2011-02-30", "2011.02.30", "20110230", "2010年13月1日"])
def test_parse_date_refuses_impossible_dates(typed):
    with pytest.raises(nz.NormalizeError, match="不是有效日期"):
        nz.parse_date(typed)


@pytest.mark.parametrize("typed", ["五月三日", "2010-05", "03/05/2010", "abc"])
def test_parse_date_refuses_unreadable_forms(typed):
    with pytest.raises(nz.NormalizeError, match="不是可识别的日期格式"):
        nz.parse_date(typed)


def test_parse_date_blank_is_none():
    assert nz.parse_date("") is None
    assert nz.parse_date(None) is None
    assert nz.parse_date("  ") is None


def test_parse_yes_no_with_the_boarding_words():
    assert nz.parse_yes_no("住校", nz.BOARDING_YES, nz.BOARDING_NO) is True
    assert nz.parse_yes_no("走读", nz.BOARDING_YES, nz.BOARDING_NO) is False
    assert nz.parse_yes_no("是") is True
    assert nz.parse_yes_no("否") is False
    assert nz.parse_yes_no(" y ") is True
    assert nz.parse_yes_no(None) is None
    with pytest.raises(nz.NormalizeError, match="应为“是”或“否”"):
        nz.parse_yes_no("也许")


def test_is_number_cell_tells_numeric_cells_from_text():
    assert nz.is_number_cell(5.328012007092508e17)
    assert nz.is_number_cell(532801200709250798)
    assert not nz.is_number_cell("532801200709250798")
    assert not nz.is_number_cell(True)


def test_header_aliases_map_each_county_spelling_to_one_field():
    fields = frozenset(nz.COLUMN_ALIASES)
    roster = ["序号", "姓名", "身份证件号", "全国学籍号", "就读方式", "村（社区）", "乡镇"]
    menghan = ["姓名", "身份证号", "学籍号", "是否寄宿"]
    police = ["公民身份号码", "姓名"]
    poverty = ["成员姓名", "证件号码", "监测对象类别"]
    assert nz.match_header(roster, fields) == {
        "seq": 0,
        "name": 1,
        "id_number": 2,
        "student_number": 3,
        "boarding": 4,
        "village": 5,
        "township": 6,
    }
    assert nz.match_header(menghan, fields) == {"name": 0, "id_number": 1, "student_number": 2, "boarding": 3}
    assert nz.match_header(police, fields)["id_number"] == 0
    assert nz.match_header(poverty, fields) == {"name": 0, "id_number": 1, "category": 2}


def test_header_matching_ignores_spaces_stars_fullwidth_and_colons():
    fields = frozenset(nz.COLUMN_ALIASES)
    assert nz.match_header(["*姓 名", "身份证号：", "村(社区)", "乡镇（街道）"], fields) == {
        "name": 0,
        "id_number": 1,
        "village": 2,
        "township": 3,
    }


def test_header_first_of_two_columns_for_one_field_wins():
    assert nz.match_header(["联系电话", "监护人联系电话"], frozenset({"guardian_phone"})) == {"guardian_phone": 0}


def test_every_alias_belongs_to_one_field():
    keys = [nz.header_key(a) for aliases in nz.COLUMN_ALIASES.values() for a in aliases]
    assert len(keys) == len(set(keys))
