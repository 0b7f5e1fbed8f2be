"""Fixtures for the 送教上门 tests: the sample county loaded, the seven homebound
candidates worked out from the federation's CSV by hand, schools and placements."""

from __future__ import annotations

import csv
from datetime import date

import pytest

from edu_guard.db import db

AS_OF = date(2021, 3, 1)


def age_from_id(number: str, on: date) -> int:
    """Whole years on ``on`` from the birth date in digits 7–14 (GB 11643)."""
    born = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


@pytest.fixture
def age_on_id():
    """``age_on_id(id_number, day)`` → whole years (the test's own reading of the ID)."""
    return age_from_id


@pytest.fixture
def expected_candidates(demo_dir) -> dict[str, dict]:
    """ID number → row of ``disabled_children_2021.csv`` for the children who cannot
    attend school (能否到校就读 = 否) and are 6–15 on 2021-03-01, read with csv."""
    with open(demo_dir / "disabled_children_2021.csv", encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    return {r["身份证号"]: r for r in rows if r["能否到校就读"] == "否" and 6 <= age_from_id(r["身份证号"], AS_OF) <= 15}


@pytest.fixture
def county(app_ctx, today_is):
    """The sample county loaded with ``edu-guard demo``'s loader; today is 2021-03-01."""
    from edu_guard.registry.services import load_demo

    today_is(AS_OF)
    load_demo()
    db.session.commit()
    return app_ctx


@pytest.fixture
def two_schools(app_ctx):
    """Two schools in two townships: (勐罕中心小学 in 勐罕镇, 嘎洒中心小学 in 嘎洒镇)."""
    from edu_guard.registry.models import School, Township

    a = School(code="2153280177", name="勐罕中心小学", stage="小学", county_code="532801",
               township=Township(county_code="532801", name="勐罕镇"))
    b = School(code="2153280178", name="嘎洒中心小学", stage="小学", county_code="532801",
               township=Township(county_code="532801", name="嘎洒镇"))
    db.session.add_all([a, b])
    db.session.commit()
    return a, b


@pytest.fixture
def make_placement(app_ctx, make_child, today_is):
    """Factory: ``make_placement(school, starts_on, ends_on=None, name=…, id_number=…)`` →
    a committed placement of a new enrolled child (today is set to 2021-07-31)."""
    from edu_guard.homebound import services

    today_is(date(2021, 7, 31))

    def make(school, starts_on: date, ends_on: date | None = None, name="邹天", id_number="532801201301121487"):
        child = make_child(name=name, id_number=id_number, school=school)
        placement = services.place(child=child, school=school, assessed_on=starts_on, assessment="不能到校就读，建议送教上门",
                                   teachers="李老师、王老师", starts_on=starts_on, ends_on=ends_on)
        db.session.commit()
        return placement

    return make
