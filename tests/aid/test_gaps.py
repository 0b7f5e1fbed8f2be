"""The 应助尽助 check on the sample county."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa

from edu_guard.aid import gaps, services
from edu_guard.aid.models import AidList
from edu_guard.db import db
from edu_guard.registry.models import Child, Enrollment, StatusChange


def approve(term, today_is):
    today_is(date(2021, 3, 10))
    for lst in db.session.execute(sa.select(AidList)).scalars():
        services.post(lst)
    db.session.commit()
    today_is(date(2021, 3, 18))
    for lst in db.session.execute(sa.select(AidList)).scalars():
        services.approve(lst)
    db.session.commit()


def test_no_aid_lists_every_poverty_pupil(county, spring, pupils, monitored):
    found = gaps.check(spring)
    want = {k for k, p in pupils.items() if k in monitored}  # every listed member is 在读 in the roster
    assert {g["id_number"] for g in found if g["kind"] == "unaided"} == want
    assert len(want) == 237


def test_removed_pupil_and_ended_enrollment(county, spring, pupils, today_is):
    services.propose(spring, "compulsory_living")
    db.session.commit()
    lst = db.session.execute(sa.select(AidList).order_by(AidList.id)).scalars().first()
    removed = next(e for e in lst.entries if e.family_kinds)
    services.set_included(removed, False, "核实后不纳入")
    db.session.commit()
    approve(spring, today_is)
    # a paid pupil whose 转出 before the term is recorded afterwards
    gone = next(e for e in lst.entries if e.included)
    child = db.session.get(Child, gone.child_id)
    db.session.add(StatusChange(id_number=child.id_number, child_id=child.id, name=child.name, kind="转出",
                                changed_on=date(2021, 2, 20)))
    for e in db.session.execute(sa.select(Enrollment).where(Enrollment.child_id == child.id)).scalars():
        e.status = "转出"
    db.session.commit()
    found = gaps.check(spring)
    assert [(g["kind"], g["child_id"]) for g in found] == [("unaided", removed.child_id), ("ended", child.id)]
    assert "义务教育家庭经济困难学生生活补助" in found[1]["reason"]
