"""Dates of acts entered after the fact: the defaults and the closed-term note."""

from datetime import date

from edu_guard import acts
from edu_guard.aid.models import Term
from edu_guard.db import db


def _spring(app_ctx):
    db.session.add(Term(code="2021-spring", name="2021年春季学期", start=date(2021, 3, 1), end=date(2021, 7, 9),
                        school_days=90))
    db.session.commit()


def test_default_date_follows_a_past_record(app_ctx):
    _spring(app_ctx)
    today = date(2026, 11, 30)
    assert acts.default_act_date(None, today) == today  # nothing recorded yet
    assert acts.default_act_date(date(2021, 3, 9), today) == date(2021, 3, 9)  # its term ended
    assert acts.default_act_date(date(2026, 11, 25), today) == today  # five days ago: current work
    assert acts.default_act_date(date(2026, 10, 1), today) == date(2026, 10, 1)  # > 15 days, no term
    # Inside a running term the record is current work.
    assert acts.default_act_date(date(2021, 3, 2), date(2021, 5, 1)) == date(2021, 5, 1)


def test_closed_term_note_and_comparison_day(app_ctx):
    _spring(app_ctx)
    assert acts.closed_term_note(date(2021, 3, 10), date(2026, 11, 30)) == \
        "2021-03-10 属于已结束的2021年春季学期：按补录办理，期限和条件按该日期计算"
    assert acts.closed_term_note(date(2021, 3, 10), date(2021, 3, 10)) is None  # the term is running
    from flask import current_app
    from flask_babel import refresh

    with current_app.test_request_context("/?lang=en"):
        refresh()
        assert str(acts.closed_term_note(date(2021, 3, 10), date(2026, 11, 30))).startswith(
            "2021-03-10 falls in Spring term 2021, which has ended")
    assert acts.closed_term_note(date(2021, 8, 1), date(2026, 11, 30)) is None  # in no term
    assert acts.latest_term_day(date(2026, 11, 30)) == date(2021, 3, 1)
    assert acts.latest_term_day(date(2021, 4, 1)) == date(2021, 4, 1)


def test_homebound_period_defaults_to_the_term_of_the_sessions(make_child, make_user, login):
    from edu_guard.cases.services import today
    from edu_guard.homebound import services

    child = make_child()
    placement = services.place(school=child.enrollments[0].school, child=child, assessed_on=date(2021, 3, 1),
                               assessment="经评估不能到校", teachers="李老师", starts_on=date(2021, 3, 8))
    db.session.commit()
    page = login(make_user("clerk")).get(f"/homebound/{placement.id}").text
    assert "2020-2021学年第二学期" in page  # the placement's term, not today's
    import re
    assert today().isoformat() not in page, [l for l in page.splitlines() if today().isoformat() in l]


def test_closed_term_note_names_the_term_in_the_readers_language(app, app_ctx, make_user, login, today_is):
    """The note names the term as the other pages do: "Spring term 2021" in English (a
    name the system gave it), in a flash too; a name a clerk typed stays as typed."""
    _spring(app_ctx)
    note = acts.closed_term_note(date(2021, 3, 10), date(2026, 11, 30))
    assert note.chinese() == "2021-03-10 属于已结束的2021年春季学期：按补录办理，期限和条件按该日期计算"
    with app.test_request_context("/?lang=en"):
        assert str(note).startswith("2021-03-10 falls in Spring term 2021, which has ended")
    term = db.session.query(Term).one()
    term.name = "二〇二一年春"
    db.session.commit()
    with app.test_request_context("/?lang=en"):
        assert "falls in 二〇二一年春," in str(acts.closed_term_note(date(2021, 3, 10), date(2026, 11, 30)))
    # On a page and in a flash (the session keeps the Message).
    term.name = "2021年春季学期"
    db.session.commit()
    today_is(date(2026, 11, 30))
    client = login(make_user("clerk"))
    page = client.get("/comparisons?lang=en").text
    assert "falls in Spring term 2021, which has ended" in page and "2021年春季学期" not in page
