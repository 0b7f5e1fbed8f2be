"""Proposing the 2021 spring term's lists for the sample county; the expected figures
are worked out here from the sample files (tests/aid/conftest.py), by hand rules."""

from __future__ import annotations

from collections import Counter
from datetime import date
from decimal import Decimal

import sqlalchemy as sa

from edu_guard.aid import services
from edu_guard.aid.models import AidList, AidListEntry
from edu_guard.db import db
from edu_guard.registry.models import Child

D = Decimal

#: 2019-autumn yearly standards (docs/domain.md §2), half paid in a term.
LIVING_2019 = {("小学", True): D("1000"), ("初中", True): D("1250"), ("小学", False): D("500"), ("初中", False): D("625")}
LIVING_2024 = {("小学", True): D("1250"), ("初中", True): D("1500"), ("小学", False): D("625"), ("初中", False): D("750")}


def entries(scheme_code: str, term) -> dict[str, AidListEntry]:
    stmt = (
        sa.select(Child.id_number, AidListEntry)
        .join(AidListEntry, AidListEntry.child_id == Child.id)
        .join(AidList, AidList.id == AidListEntry.list_id)
        .where(AidList.scheme_code == scheme_code, AidList.term_id == term.id)
    )
    return {id_number: e for id_number, e in db.session.execute(stmt)}


def expected_living(pupils, rates) -> dict[str, D]:
    """Hardship pupils (脱贫户/监测户 in 家庭类型 or 是否残疾 是), half the yearly rate."""
    return {
        p.id_number: rates[(p.stage, p.boarding)] / 2
        for p in pupils.values()
        if p.kinds or p.disabled
    }


def test_compulsory_living_2021_spring(county, spring, pupils):
    result = services.propose(spring, "compulsory_living")
    db.session.commit()
    want = expected_living(pupils, LIVING_2019)
    got = entries("compulsory_living", spring)
    assert set(got) == set(want)
    assert {k: D(e.amount_fen) / 100 for k, e in got.items()} == want
    assert result.proposed == len(want) == 250
    assert result.amount == sum(want.values())
    # one list per school with an eligible pupil
    schools = Counter(pupils[k].school_code for k in want)
    lists = db.session.execute(sa.select(AidList).where(AidList.scheme_code == "compulsory_living")).scalars().all()
    assert {lst.school.code: len(lst.entries) for lst in lists} == dict(schools)
    assert all(lst.state == "proposed" for lst in lists)
    sample = next(e for k, e in got.items() if pupils[k].stage == "初中" and pupils[k].boarding)
    assert sample.tier == "初中/寄宿" and sample.amount_fen == 62500
    assert "家庭经济困难" in sample.reason


def test_nutrition_and_minority_2021_spring(county, spring, pupils):
    services.propose(spring, "nutrition")
    services.propose(spring, "minority_allowance")
    db.session.commit()
    nutrition = entries("nutrition", spring)
    assert set(nutrition) == set(pupils)  # every pupil: all schools are pilots by default
    assert {e.amount_fen for e in nutrition.values()} == {4 * 90 * 100}  # 4 yuan × 90 school days
    minority = entries("minority_allowance", spring)
    small = {k for k, p in pupils.items() if p.ethnicity in {"基诺族", "布朗族", "德昂族", "景颇族", "独龙族", "怒族", "阿昌族", "普米族"}}
    assert set(minority) == small
    assert len(small) == Counter(p.ethnicity for p in pupils.values())["基诺族"] + Counter(p.ethnicity for p in pupils.values())["布朗族"]
    assert {e.amount_fen for e in minority.values()} == {50000}


def test_2024_spring_uses_2024_rates(county, pupils):
    term = services.add_term("2024-spring", date(2024, 3, 1), date(2024, 7, 5), 85)
    # the 2021 roster still 在读 in 2024 for the test's purpose
    services.propose(term, "compulsory_living")
    db.session.commit()
    want = expected_living(pupils, LIVING_2024)
    got = entries("compulsory_living", term)
    assert {k: D(e.amount_fen) / 100 for k, e in got.items()} == want


def test_lapsed_status_and_ended_enrollment_not_proposed(county, spring, pupils):
    from edu_guard.registry.models import Enrollment, FamilyStatus, StatusChange

    hardship = sorted(k for k, p in pupils.items() if p.kinds and not p.disabled)
    lapsed, left, later = hardship[:3]
    # every status of `lapsed` ended before the term
    for s in db.session.execute(sa.select(FamilyStatus).where(FamilyStatus.id_number == lapsed)).scalars():
        s.valid_to = date(2021, 2, 1)
    # `left` moved away before the term, `later` during it
    for id_number, day in ((left, date(2021, 2, 20)), (later, date(2021, 4, 1))):
        child = db.session.execute(sa.select(Child).where(Child.id_number == id_number)).scalar_one()
        db.session.add(StatusChange(id_number=id_number, child_id=child.id, name=child.name, kind="转出", changed_on=day))
        for e in db.session.execute(sa.select(Enrollment).where(Enrollment.child_id == child.id)).scalars():
            e.status = "转出"
    db.session.commit()
    services.propose(spring, "compulsory_living")
    got = entries("compulsory_living", spring)
    assert lapsed not in got and left not in got
    assert later in got
    assert len(got) == 250 - 2


def test_monitored_household_with_risk_removed_not_proposed(county, spring, pupils):
    from edu_guard.registry.models import FamilyStatus

    monitored = sorted(k for k, p in pupils.items() if p.kinds == {"监测户"} and not p.disabled)
    removed = monitored[0]
    for s in db.session.execute(sa.select(FamilyStatus).where(FamilyStatus.id_number == removed)).scalars():
        s.risk_removed = True
    db.session.commit()
    services.propose(spring, "compulsory_living")
    assert removed not in entries("compulsory_living", spring)
