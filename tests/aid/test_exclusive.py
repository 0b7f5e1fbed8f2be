"""Mutually exclusive schemes: 较少民族学生生活补助 configured to exclude the 义务教育
生活补助 (either direction of ``excludes`` counts)."""

from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa

from edu_guard.aid import gaps, services
from edu_guard.aid.models import AidList, AidListEntry, Payment
from edu_guard.db import db
from edu_guard.registry.models import Child

SMALL_GROUPS = {"独龙族", "德昂族", "基诺族", "怒族", "阿昌族", "普米族", "布朗族", "景颇族"}


@pytest.fixture
def app(plugin_app):
    """The test app with minority_allowance excluding compulsory_living."""
    return plugin_app(enabled=["yulu", "nutrition", "minority_allowance"],
                      settings={"minority_allowance": {"excludes": ["compulsory_living"]}})


def on_list(term, code, included):
    stmt = (
        sa.select(Child.id_number)
        .join(AidListEntry, AidListEntry.child_id == Child.id)
        .join(AidList, AidList.id == AidListEntry.list_id)
        .where(AidList.term_id == term.id, AidList.scheme_code == code, AidListEntry.included.is_(included))
    )
    return set(db.session.execute(stmt).scalars())


def both(pupils):
    return {k for k, p in pupils.items() if (p.kinds or p.disabled) and p.ethnicity in SMALL_GROUPS}


def test_second_scheme_refuses_children_of_the_first(county, spring, pupils):
    assert services.exclusive_with("compulsory_living") == {"minority_allowance"}
    services.propose(spring, "compulsory_living")
    result = services.propose(spring, "minority_allowance")
    db.session.commit()
    overlap = both(pupils)
    assert overlap  # the sample has hardship pupils of 基诺族 or 布朗族
    assert on_list(spring, "minority_allowance", False) == overlap
    assert result.refused == len(overlap)
    small = {k for k, p in pupils.items() if p.ethnicity in SMALL_GROUPS}
    assert on_list(spring, "minority_allowance", True) == small - overlap


def test_either_direction(county, spring, pupils):
    services.propose(spring, "minority_allowance")
    services.propose(spring, "compulsory_living")
    db.session.commit()
    assert on_list(spring, "compulsory_living", False) == both(pupils)
    entry = db.session.execute(sa.select(AidListEntry).where(AidListEntry.included.is_(False))).scalars().first()
    assert "互斥" in entry.review_reason
    with pytest.raises(services.AidError, match="互斥"):
        services.set_included(entry, True, "学校坚持列入")


def test_gap_check_lists_children_paid_by_both(county, spring, pupils, today_is):
    """Payments made behind the services' back (an import, an old system) are found."""
    services.propose(spring, "minority_allowance")
    services.propose(spring, "compulsory_living")
    db.session.commit()
    today_is(date(2021, 3, 10))
    for lst in db.session.execute(sa.select(AidList)).scalars():
        services.post(lst)
    db.session.commit()
    today_is(date(2021, 3, 18))
    for lst in db.session.execute(sa.select(AidList)).scalars():
        for e in lst.entries:
            e.included = True  # force both schemes for the overlap
        services.approve(lst)
    db.session.commit()
    overlap = both(pupils)
    # approval refused the excluded children: only the first scheme paid them
    paid = db.session.execute(sa.select(Child.id_number, Payment.scheme_code).join(Payment, Payment.child_id == Child.id)).all()
    assert {k for k, c in paid if c == "compulsory_living"} & overlap == set()
    # now pay one of them by the other scheme too, as a bad import would
    child = db.session.execute(sa.select(Child).where(Child.id_number == sorted(overlap)[0])).scalar_one()
    first = db.session.execute(sa.select(Payment).where(Payment.child_id == child.id)).scalar_one()
    db.session.add(Payment(child_id=child.id, scheme_code="compulsory_living", term_id=spring.id, stage=first.stage,
                           amount_fen=25000, batch_id=first.batch_id, paid_on=date(2021, 3, 18)))
    db.session.commit()
    found = [g for g in gaps.check(spring) if g["kind"] == "exclusive"]
    assert [g["child_id"] for g in found] == [child.id]
