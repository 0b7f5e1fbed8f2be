"""The money module: yuan ↔ fen, 万元 rounded once half up, figures and 大写."""

from decimal import Decimal as D

import pytest

from edu_guard import money


def test_yuan_and_fen_round_trip_half_up():
    assert money.to_fen("12.345") == 1235  # half up at the fen
    assert money.to_fen("12.344") == 1234
    assert money.to_fen(D("0.005")) == 1
    assert money.to_fen(500) == 50000
    assert money.from_fen(1235) == D("12.35")
    assert str(money.from_fen(50000)) == "500.00"
    assert money.from_fen(None) == D("0.00")
    # banker's rounding would give 0.02 and 2.00; the one rule here is half up
    assert money.to_yuan("0.025") == D("0.03")
    assert money.to_yuan(D("3.995")) == D("4.00")


@pytest.mark.parametrize("bad", [1.5, "abc", "NaN", "Infinity", None])
def test_bad_amounts_refused(bad):
    with pytest.raises(ValueError):
        money.to_yuan(bad)


def test_wan_rounded_once_at_the_end():
    # 112,104.50 yuan = 11.210450 万元 → 11.21 (2 places), 11.2105 (4 places)
    assert money.wan(11_210_450) == D("11.21")
    assert money.wan(11_210_450, 4) == D("11.2105")
    # 11.215 and 11.225 万元: half up both times (half-even would give 11.22 for both)
    assert money.wan(11_215_000) == D("11.22")
    assert money.wan(11_225_000) == D("11.23")
    # summing in fen and rounding once differs from adding rounded figures (1,666.66 yuan each):
    fen = 166_666
    assert money.wan(3 * fen) == D("0.50")  # 4,999.98 yuan → 0.499998 → 0.50
    assert 3 * money.wan(fen) == D("0.51")  # 0.17 each: the error the rule avoids


def test_yuan_text_two_places_half_up():
    assert money.yuan_text(D("500")) == "500.00"
    assert money.yuan_text("12.345") == "12.35"
    assert money.yuan_text(0) == "0.00"


@pytest.mark.parametrize(
    "amount, expected",
    [
        # worked by hand from the rules for writing amounts (正确填写票据和结算凭证的基本规定)
        ("0", "零元整"),
        ("10", "壹拾元整"),
        ("12", "壹拾贰元整"),
        ("200", "贰佰元整"),
        ("500.00", "伍佰元整"),
        ("1005", "壹仟零伍元整"),  # one 零 for the run of zeros between 仟 and the units
        ("1050.5", "壹仟零伍拾元伍角"),  # nothing after 角: no 整 needed
        ("1000.05", "壹仟元零伍分"),  # 角 zero, 分 not: 零 before 分
        ("0.05", "伍分"),
        ("0.50", "伍角"),
        ("12.34", "壹拾贰元叁角肆分"),
        ("10010", "壹万零壹拾元整"),
        ("12345.67", "壹万贰仟叁佰肆拾伍元陆角柒分"),
        ("100000", "壹拾万元整"),
        ("107000.53", "壹拾万柒仟元伍角叁分"),  # the rules' own example (万 digit zero: 零 may be left out)
        ("1680.32", "壹仟陆佰捌拾元叁角贰分"),  # likewise (元 digit zero, 角 not)
        ("325.04", "叁佰贰拾伍元零肆分"),
        ("100010000", "壹亿零壹万元整"),
        ("100000000", "壹亿元整"),
        ("12.345", "壹拾贰元叁角伍分"),  # rounded half up to the fen first
    ],
)
def test_capital(amount, expected):
    assert money.capital(D(amount)) == expected


@pytest.mark.parametrize("bad", ["-1", "10000000000000000"])
def test_capital_out_of_range(bad):
    with pytest.raises(ValueError):
        money.capital(bad)
