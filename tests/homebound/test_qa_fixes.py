"""QA defects of 送教上门: a double-submitted placement (one open placement per child,
kept by the database too) and sessions of absurd length."""

from datetime import date, time

import pytest
import sqlalchemy as sa

from edu_guard.db import db
from edu_guard.homebound import services
from edu_guard.homebound.models import HomeboundPlacement, HomeboundSession
from edu_guard.registry.models import Child, Enrollment


def _open_placements(child_id: int) -> int:
    return db.session.execute(sa.select(sa.func.count(HomeboundPlacement.id)).where(
        HomeboundPlacement.child_id == child_id, HomeboundPlacement.ends_on.is_(None))).scalar()


def test_the_database_keeps_one_open_placement_per_child(two_schools, make_placement):
    placement = make_placement(two_schools[0], date(2021, 3, 1))
    child_id, school_id = placement.child_id, placement.school_id
    fields = dict(child_id=child_id, school_id=school_id, assessed_on=date(2021, 3, 1), assessment="x",
                  teachers="李老师")
    # Past the service (as a request that lost the race past its check): refused.
    db.session.add(HomeboundPlacement(starts_on=date(2021, 4, 1), **fields))
    with pytest.raises(sa.exc.IntegrityError):
        db.session.flush()
    db.session.rollback()
    assert _open_placements(child_id) == 1
    # Ended placements are not concerned: an earlier, ended one goes in beside the open one.
    db.session.add(HomeboundPlacement(starts_on=date(2020, 3, 1), ends_on=date(2020, 12, 31), **fields))
    db.session.commit()
    assert db.session.execute(sa.select(sa.func.count(HomeboundPlacement.id))).scalar() == 2
    # Once the open placement is ended, a new open one is allowed.
    services.end_placement(db.session.get(HomeboundPlacement, placement.id), date(2021, 6, 30))
    db.session.add(HomeboundPlacement(starts_on=date(2021, 7, 1), **fields))
    db.session.commit()
    assert _open_placements(child_id) == 1


def test_a_placement_ending_in_the_future_blocks_overlapping_periods(two_schools, make_placement):
    # today is 2021-07-31; the placement ends on 2021-12-31, still active.
    placement = make_placement(two_schools[0], date(2021, 3, 1), ends_on=date(2021, 12, 31))
    child = placement.child
    kw = dict(child=child, school=two_schools[0], assessed_on=date(2020, 8, 1), assessment="x", teachers="李老师")
    for starts_on, ends_on in ((date(2021, 9, 1), None), (date(2021, 12, 31), date(2022, 6, 30)),
                               (date(2020, 9, 1), date(2021, 3, 1))):
        with pytest.raises(services.HomeboundError, match=rf"编号 {placement.id}，2021-03-01—2021-12-31），日期重叠"):
            services.place(starts_on=starts_on, ends_on=ends_on, **kw)
    db.session.rollback()
    nxt = services.place(starts_on=date(2022, 1, 1), **kw)  # after it: one open placement
    db.session.commit()
    with pytest.raises(services.HomeboundError, match=rf"编号 {nxt.id}，2022-01-01—至今），日期重叠"):
        services.place(starts_on=date(2023, 1, 1), **kw)
    db.session.rollback()
    assert _open_placements(child.id) == 1


def test_a_lost_race_is_a_message_not_a_500(county, make_user, login, monkeypatch):
    """Four clicks on 确认安置: the first places the child; a later request whose check ran
    before the first committed meets the database's index and says so."""
    client = login(make_user("clerk"))
    candidate = services.candidates(date(2021, 3, 1))[0]
    school = db.session.execute(sa.select(Enrollment.school_id).join(Child).where(
        Child.id_number == candidate.id_number)).scalar()
    form = {"school": str(school), "assessed_on": "2021-02-26", "assessment": "经专家委员会评估，不能到校就读",
            "teachers": "李老师、王老师", "starts_on": "2021-03-01"}
    url = f"/homebound/place/{candidate.key}?on=2021-03-01"
    first = client.post(url, data=form, follow_redirects=True)
    assert "已安置" in first.text
    winner = db.session.execute(sa.select(HomeboundPlacement)).scalar_one()
    # The racing requests saw the child still a candidate and no placement yet.
    monkeypatch.setattr(services, "candidate_by_key", lambda key, on=None, user=None: candidate)
    monkeypatch.setattr(services, "overlapping_placement", lambda *a: None)
    for _ in range(3):
        resp = client.post(url, data=form)
        assert resp.status_code == 302 and resp.location.endswith(f"/homebound/{winner.id}")
        page = client.get(resp.location).text
        assert f"{candidate.name} 已有未结束的送教上门安置（可能是重复提交），本次未重复安置" in page
    assert db.session.execute(sa.select(sa.func.count(HomeboundPlacement.id))).scalar() == 1


def _session(placement, starts_at, ends_at):
    return services.log_session(placement, held_on=date(2021, 3, 2), starts_at=starts_at, ends_at=ends_at,
                                teachers="李老师", content_areas=["认知"], progress="好")


def test_a_session_longer_than_the_maximum_is_refused(app, two_schools, make_placement):
    placement = make_placement(two_schools[0], date(2021, 3, 1))
    assert app.config["EDU_GUARD_HOMEBOUND_MAX_SESSION_MINUTES"] == 240
    with pytest.raises(services.HomeboundError, match=r"开始时间 00:00 至结束时间 23:59 共 1439 分钟，超过一次送教的上限 240 分钟"):
        _session(placement, time(0, 0), time(23, 59))
    with pytest.raises(services.HomeboundError, match="1 分钟，超过"):
        _session(placement, time(8, 0), time(12, 1))
    _session(placement, time(8, 0), time(12, 0))  # exactly 240 minutes: 6 periods of 40
    app.config["EDU_GUARD_HOMEBOUND_MAX_SESSION_MINUTES"] = "300"  # from the environment: text
    _session(placement, time(8, 0), time(13, 0))
    db.session.commit()
    assert [(s.starts_at, s.ends_at) for s in placement.sessions] == [(time(8), time(12)), (time(8), time(13))]


def test_the_session_form_says_why_a_day_long_session_is_refused(two_schools, make_placement, make_user, login):
    placement = make_placement(two_schools[0], date(2021, 3, 1))
    client = login(make_user("school", school=two_schools[0]))
    resp = client.post(f"/homebound/{placement.id}/sessions", content_type="multipart/form-data", data={
        "held_on": "2021-03-02", "starts_at": "00:00", "ends_at": "23:59", "teachers": "李老师",
        "content_areas": ["认知"], "progress": "好"}, follow_redirects=True)
    assert resp.status_code == 200
    assert "开始时间 00:00 至结束时间 23:59 共 1439 分钟，超过一次送教的上限 240 分钟" in resp.text
    assert db.session.execute(sa.select(sa.func.count(HomeboundSession.id))).scalar() == 0
