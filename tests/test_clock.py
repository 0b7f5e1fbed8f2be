"""The county's clock: "today" is the county's date in its zone, whatever the process's
time zone; timestamps are stored aware (UTC) and shown in the county's time."""

import os
import time
from datetime import date, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
import time_machine

from edu_guard import clock
from edu_guard.cases.models import CaseEvent, DropoutCase
from edu_guard.db import db

#: 23:30 UTC on 1 March 2021 is 07:30 on 2 March in Beijing (UTC+8, no daylight saving).
LATE_UTC = datetime(2021, 3, 1, 23, 30, tzinfo=timezone.utc)


@pytest.fixture
def process_in_utc():
    """Run the test with the process's own time zone set to UTC (as on many servers)."""
    old = os.environ.get("TZ")
    os.environ["TZ"] = "UTC"
    time.tzset()
    yield
    if old is None:
        os.environ.pop("TZ", None)
    else:
        os.environ["TZ"] = old
    time.tzset()


def test_today_is_the_next_beijing_day_at_2330_utc(app_ctx, process_in_utc):
    with time_machine.travel(LATE_UTC, tick=False):
        assert date.today() == date(2021, 3, 1)  # the process's own day (UTC)
        assert clock.today() == date(2021, 3, 2)  # the county's day
        assert clock.now() == LATE_UTC and clock.now().utcoffset() == timedelta(hours=8)


def test_the_zone_is_a_setting(app_ctx, process_in_utc):
    app_ctx.config["EDU_GUARD_TIMEZONE"] = "America/New_York"  # UTC-5 in March 2021
    with time_machine.travel(LATE_UTC, tick=False):
        assert clock.today() == date(2021, 3, 1)


def test_unknown_zone_stops_start_up(tmp_path):
    from edu_guard.app import create_app

    with pytest.raises(clock.ClockError, match="Mars/Olympus"):
        create_app({"SECRET_KEY": "k", "INSTANCE_PATH": str(tmp_path), "EDU_GUARD_TIMEZONE": "Mars/Olympus"})


def test_case_opened_with_the_beijing_date_is_accepted_on_a_utc_server(make_child, make_user, login, process_in_utc):
    child = make_child()
    user = make_user("clerk")
    with time_machine.travel(LATE_UTC, tick=False):
        client = login(user)
        page = client.get(f"/children/{child.id}/cases/new")
        assert 'value="2021-03-02"' in page.text  # the form's default is the county's today
        form = {"reason": "外出务工", "opened_on": "2021-03-02", "name_class_teacher": "李老师",
                "phone_class_teacher": "13900000000"}
        resp = client.post(f"/children/{child.id}/cases/new", data=form)
        assert resp.status_code == 302, resp.text
    case = db.session.execute(sa.select(DropoutCase)).scalar_one()
    assert case.opened_on == date(2021, 3, 2)
    # The event's timestamp is stored as the instant (UTC) and read back aware, on SQLite too.
    event = db.session.execute(sa.select(CaseEvent)).scalar_one()
    db.session.expire(event)
    assert event.recorded_at == LATE_UTC and event.recorded_at.tzinfo is not None
    # ... and shown in the county's time on the case page.
    with time_machine.travel(LATE_UTC, tick=False):
        detail = client.get(f"/cases/{case.id}").text
    assert "2021-03-02 07:30" in detail


def test_naive_timestamps_are_taken_as_utc(app_ctx, make_child):
    child = make_child()
    child.created_at = datetime(2021, 3, 1, 12, 0)
    db.session.commit()
    db.session.expire(child)
    assert child.created_at == datetime(2021, 3, 1, 12, 0, tzinfo=timezone.utc)


def test_county_time_filter_shows_utc_instants_in_beijing_time(app_ctx):
    assert clock.format_local(LATE_UTC) == "2021-03-02 07:30"
    assert clock.format_local(datetime(2021, 3, 1, 23, 30)) == "2021-03-02 07:30"  # naive = UTC
    assert clock.format_local(None) == ""
