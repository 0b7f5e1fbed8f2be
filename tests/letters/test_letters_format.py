"""Formatting helpers of letters: dates, numerals, amounts, ID masking, surcharges."""

from datetime import date
from decimal import Decimal

import pytest

from edu_guard.letters.numbering import format_number
from edu_guard.letters.render import chinese_date, chinese_number, em_width, you_of
from edu_guard.letters.services import late_surcharge, mask_id_number, township_short_name


@pytest.mark.parametrize(
    "value, expected",
    [
        (date(2021, 3, 5), "2021年3月5日"),
        (date(2021, 12, 31), "2021年12月31日"),
        (date(2021, 10, 1), "2021年10月1日"),
        ("2021-03-05", "2021年3月5日"),
    ],
)
def test_chinese_date_has_no_leading_zeros(value, expected):
    assert chinese_date(value) == expected


@pytest.mark.parametrize(
    "n, expected",
    [(0, "零"), (3, "三"), (5, "五"), (10, "十"), (15, "十五"), (20, "二十"), (60, "六十"), (100, "一百"), (105, "一百零五"), (110, "一百一十"), (366, "三百六十六")],
)
def test_chinese_number(n, expected):
    assert chinese_number(n) == expected


def test_chinese_number_range():
    with pytest.raises(ValueError):
        chinese_number(1000)


def test_format_number():
    assert format_number("景教体", "函", 2021, 11) == "景教体函〔2021〕11号"
    assert format_number("嘎洒政", "责改", 2021, 1) == "嘎洒政责改〔2021〕1号"
    with pytest.raises(ValueError):
        format_number("景教体", "函", 2021, 0)


def test_mask_id_number_keeps_area_and_last_four():
    assert mask_id_number("532801200905011234") == "532801********1234"
    assert mask_id_number(None) == ""


def test_late_surcharge_three_percent_a_day_capped_at_the_fine():
    fine = Decimal("200")
    due = date(2021, 4, 22)
    assert late_surcharge(fine, due, due) == Decimal("0.00")
    assert late_surcharge(fine, due, date(2021, 4, 23)) == Decimal("6.00")
    assert late_surcharge(fine, due, date(2021, 5, 2)) == Decimal("60.00")
    assert late_surcharge(fine, due, date(2021, 12, 31)) == Decimal("200.00")


@pytest.mark.parametrize(
    "name, short, you",
    [("嘎洒镇", "嘎洒", "你镇"), ("景哈哈尼族乡", "景哈哈尼族", "你乡"), ("允景洪街道", "允景洪", "你街道")],
)
def test_township_names(name, short, you):
    assert township_short_name(name) == short
    assert you_of(name) == you


def test_em_width_of_a_date():
    assert em_width("2021年3月5日") == pytest.approx(3 + 6 * 0.55)
