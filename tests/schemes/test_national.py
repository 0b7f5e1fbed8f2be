"""The national schemes decide by the standard in force for the term (docs/domain.md §2)."""

from datetime import date
from decimal import Decimal

import pytest

from edu_guard.schemes.base import SchemeError, TermInfo, grade_number, stage_of

SPRING_2024 = TermInfo("2024-spring", "2024年春季学期", date(2024, 2, 26), date(2024, 7, 5), 92)
SPRING_2025 = TermInfo("2025-spring", "2025年春季学期", date(2025, 2, 17), date(2025, 7, 4), 95)
AUTUMN_2018 = TermInfo("2018-autumn", "2018年秋季学期", date(2018, 9, 1), date(2019, 1, 18), 90)


@pytest.fixture
def schemes(app_ctx):
    from edu_guard.plugins import contributions

    return contributions().schemes


@pytest.mark.parametrize(
    ("stage", "boarding", "term", "yuan"),
    [
        # 2019 autumn standard, half a year each term: 1000/2, 1250/2, and half that for day pupils
        ("小学", True, "2021", "500.00"), ("初中", True, "2021", "625.00"),
        ("小学", False, "2021", "250.00"), ("初中", False, "2021", "312.50"),
        # 2024 spring standard: 1250/1500 boarders, 625/750 day pupils a year
        ("小学", True, "2024", "625.00"), ("初中", True, "2024", "750.00"),
        ("小学", False, "2024", "312.50"), ("初中", False, "2024", "375.00"),
    ],
)
def test_compulsory_living_uses_the_standard_in_force(schemes, make_candidate, aid_term, stage, boarding, term, yuan):
    t = aid_term if term == "2021" else SPRING_2024
    d = schemes["compulsory_living"].decide(make_candidate(stage=stage, boarding=boarding, family_kinds={"脱贫户"}), t)
    assert d.eligible and d.amount == Decimal(yuan)
    assert d.tier == f"{stage}/{'寄宿' if boarding else '走读'}"


def test_compulsory_living_refuses_with_the_reason(schemes, make_candidate, aid_term):
    scheme = schemes["compulsory_living"]
    assert scheme.decide(make_candidate(), aid_term).reason == "非家庭经济困难学生"
    assert "不属义务教育阶段" in scheme.decide(make_candidate(stage="高中", family_kinds={"低保"}), aid_term).reason
    assert scheme.decide(make_candidate(disabled=True), aid_term).eligible  # disabled pupils are 家庭经济困难


def test_no_standard_before_the_first_one_is_an_error(schemes, make_candidate):
    with pytest.raises(SchemeError, match="没有适用的资助标准"):
        schemes["compulsory_living"].decide(make_candidate(family_kinds={"脱贫户"}), AUTUMN_2018)


def test_high_school_grant_tiers(schemes, make_candidate, aid_term):
    grant = schemes["high_school_grant"]
    hs = dict(stage="高中", grade="高一")
    top = grant.decide(make_candidate(family_kinds={"特困"}, **hs), aid_term)
    assert (top.amount, top.tier) == (Decimal("1500.00"), "一档")
    assert grant.decide(make_candidate(family_kinds={"低保"}, **hs), aid_term).tier == "二档"
    assert grant.decide(make_candidate(family_kinds={"低保"}, **hs), aid_term).amount == Decimal("1000.00")
    assert grant.decide(make_candidate(family_kinds={"低保"}, **hs), SPRING_2025).amount == Decimal("1150.00")


def test_vocational_grant_adds_year_three_from_2025(schemes, make_candidate, aid_term):
    grant = schemes["vocational_grant"]
    third = make_candidate(stage="中职", grade="三年级", family_kinds={"脱贫户"})
    assert not grant.decide(third, aid_term).eligible
    d = grant.decide(third, SPRING_2025)
    assert d.eligible and d.amount == Decimal("1150.00")  # 2300 a year from 2025 spring


def test_county_settings_reach_the_schemes(plugin_app, make_candidate, aid_term):
    from edu_guard.plugins import contributions

    app = plugin_app(settings={"national_schemes": {"preschool_yearly": "800", "high_school_fee_per_term": "350"}})
    schemes = contributions(app).schemes
    assert schemes["preschool"].decide(make_candidate(stage="学前", family_kinds={"孤儿"}), aid_term).amount == Decimal("400.00")
    waiver = schemes["high_school_fee_waiver"].decide(make_candidate(stage="高中", family_kinds={"监测户"}), aid_term)
    assert (waiver.eligible, waiver.amount) == (True, Decimal("350.00"))
    assert not schemes["high_school_fee_waiver"].decide(make_candidate(stage="高中", family_kinds={"孤儿"}), aid_term).eligible


def test_grades_and_stages():
    grades = ("三年级", "高二", "中职1年级", "七年级", "初一", "初三", None, "学前班")
    assert [grade_number(g) for g in grades] == [3, 2, 1, 7, 7, 9, None, None]
    assert stage_of("九年一贯制", "八年级") == "初中" and stage_of("九年一贯制", "二年级") == "小学"
    assert stage_of("完全中学", "高一") == "高中" and stage_of("小学", "八年级") == "小学"
