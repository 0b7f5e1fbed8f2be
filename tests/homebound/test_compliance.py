"""The compliance rule: class periods from times, proration, holidays, and a term of
sessions whose figures are worked out by hand below."""

from datetime import date, time, timedelta

import pytest

from edu_guard.db import db
from edu_guard.homebound import compliance as rules
from edu_guard.homebound import services

WEEKLY = rules.PRESETS["shandong_henan"]
MONTHLY = rules.PRESETS["local_monthly"]


def test_presets_state_the_provincial_and_local_norms():
    assert (WEEKLY.visits, WEEKLY.per, WEEKLY.periods_per_visit, WEEKLY.periods_per_year) == (2, "week", 3, 216)
    # 216 periods a school year = 2 visits × 3 periods × 36 teaching weeks.
    assert WEEKLY.visits * WEEKLY.periods_per_visit * 36 == 216
    assert (MONTHLY.visits, MONTHLY.per) == (2, "month")


def test_class_periods_are_whole_periods_of_the_session():
    assert rules.session_periods(time(9), time(11)) == 3  # 120 min / 40
    assert rules.session_periods(time(14, 30), time(16)) == 2  # 90 min → 2 whole periods
    assert rules.session_periods(time(9), time(9, 39)) == 0
    assert rules.session_periods(time(9), time(10), period_minutes=45) == 1
    with pytest.raises(rules.NormError, match="应晚于开始时间"):
        rules.session_periods(time(11), time(9))


def test_a_partial_week_and_a_mid_period_placement_are_prorated_by_day():
    # Period 2021-03-01 … 03-14 (14 days); placed on 03-04: 11 days → 2 × 11/7 = 3.14 → 3 visits.
    r = rules.assess(date(2021, 3, 1), date(2021, 3, 14), date(2021, 3, 4), None, [], WEEKLY)
    assert (r.counted_days, r.expected_visits, r.expected_periods) == (11, 3, 9)
    assert (r.visit_shortfall, r.period_shortfall, r.compliant) == (3, 9, False)
    # 12 days: 24/7 = 3.43 → 3; 13 days: 26/7 = 3.71 → 4 (half up).
    assert rules.assess(date(2021, 3, 1), date(2021, 3, 12), date(2021, 3, 1), None, [], WEEKLY).expected_visits == 3
    assert rules.assess(date(2021, 3, 1), date(2021, 3, 13), date(2021, 3, 1), None, [], WEEKLY).expected_visits == 4


def test_holidays_are_not_counted_but_sessions_on_them_are():
    breaks = [(date(2021, 5, 1), date(2021, 5, 5))]
    sessions = [rules.SessionFacts(date(2021, 5, 3), time(9), time(11))]
    r = rules.assess(date(2021, 5, 1), date(2021, 5, 14), date(2021, 1, 1), None, sessions, WEEKLY, breaks=breaks)
    # 14 days less 5 holidays = 9 → 2 × 9/7 = 2.57 → 3 visits, 9 periods; 1 session of 3 periods given.
    assert (r.counted_days, r.expected_visits, r.visits, r.periods, r.period_shortfall) == (9, 3, 1, 3, 6)


def test_overlapping_holidays_across_a_month_end():
    breaks = [(date(2021, 1, 28), date(2021, 2, 3)), (date(2021, 2, 1), date(2021, 2, 5))]
    # Holidays join to 01-28 … 02-05; counted: Jan 25–27 (3 of 31) and Feb 6–10 (5 of 28).
    args = (date(2021, 1, 25), date(2021, 2, 10), date(2021, 1, 1), None, [])
    weekly = rules.assess(*args, WEEKLY, breaks=breaks)
    assert (weekly.counted_days, weekly.expected_visits) == (8, 2)  # 2 × 8/7 = 2.29 → 2
    monthly = rules.assess(*args, MONTHLY, breaks=breaks)
    assert monthly.expected_visits == 1  # 2 × (3/31 + 5/28) = 2 × 0.275 = 0.55 → 1


def test_bad_period_is_refused():
    with pytest.raises(rules.NormError, match="早于起日"):
        rules.assess(date(2021, 3, 2), date(2021, 3, 1), date(2021, 3, 1), None, [], WEEKLY)


def test_county_norms_merge_over_the_presets():
    got = rules.norms({"EDU_GUARD_HOMEBOUND_NORMS": {"three_a_month": {"visits": 3, "per": "month", "periods_per_visit": 2}}})
    assert got["three_a_month"].visits == 3 and "shandong_henan" in got
    with pytest.raises(rules.NormError, match="per 须为"):
        rules.norms({"EDU_GUARD_HOMEBOUND_NORMS": {"x": {"visits": 3, "per": "day", "periods_per_visit": 2}}})
    # From the environment the settings come as JSON text.
    assert rules.norms({"EDU_GUARD_HOMEBOUND_NORMS": '{"m3": {"visits": 3, "per": "month", "periods_per_visit": 2}}'})["m3"].visits == 3
    assert rules.breaks_from_config({"EDU_GUARD_HOMEBOUND_BREAKS": '[["2021-05-01", "2021-05-05"]]'}) == [(date(2021, 5, 1), date(2021, 5, 5))]
    with pytest.raises(rules.NormError, match="假期配置"):
        rules.breaks_from_config({"EDU_GUARD_HOMEBOUND_BREAKS": [["2021-05-05", "2021-05-01"]]})
    with pytest.raises(rules.NormError, match="没有名为"):
        rules.configured_norm({"EDU_GUARD_HOMEBOUND_NORM": "nope"})


def _days(first: date, last: date, weekday: int):
    day = first + timedelta(days=(weekday - first.weekday()) % 7)
    while day <= last:
        yield day
        day += timedelta(days=7)


def test_a_term_of_sessions_gives_the_figures_worked_out_by_hand(app_ctx, two_schools, make_placement):
    """Spring term 2021-03-01 … 06-30, Labour Day holiday 05-01 … 05-05, weekly norm
    (2 visits × 3 periods a week).

    Child A (勐罕中心小学), placed from Monday 03-08, open-ended:
      counted days: Mar 8–31 = 24, Apr 30, May 31 − 5 holidays = 26, Jun 30 → 110;
      expected visits 2 × 110/7 = 31.43 → 31; expected periods 31 × 3 = 93.
      Sessions on Tuesdays and Thursdays 09:00–11:00 (3 periods each):
      Tuesdays 03-09 … 06-29 = 4 + 4 + 4 + 5 = 17, less 05-04 (holiday) = 16;
      Thursdays 03-11 … 04-29 and May = 3 + 5 + 4 = 12 (none in June: teacher ill);
      28 visits; 04-29 lasted 14:30–16:00 (2 periods) → 27 × 3 + 2 = 83 periods;
      minutes 27 × 120 + 90 = 3330 → 55.5 hours; behind by 31 − 28 = 3 visits and
      93 − 83 = 10 periods. One session (03-09) not confirmed by the guardian.
    Child B (嘎洒中心小学), placed 04-19 … 05-31:
      counted days: Apr 19–30 = 12, May 31 − 5 = 26 → 38; 2 × 38/7 = 10.86 → 11
      visits, 33 periods. Mondays and Wednesdays 09:00–11:00 except the holidays
      05-03 and 05-05: Mondays 04-19, 04-26, 05-10, 05-17, 05-24, 05-31 = 6,
      Wednesdays 04-21, 04-28, 05-12, 05-19, 05-26 = 5 → 11 visits, 33 periods:
      compliant; 1320 minutes = 22.0 hours.
    By school: 1 of 1 behind at A (0.0 %), 1 of 1 compliant at B (100.0 %); county:
    1 of 2 = 50.0 %, 39 sessions, 116 periods, 77.5 hours.
    """
    app_ctx.config["EDU_GUARD_HOMEBOUND_BREAKS"] = [["2021-05-01", "2021-05-05"]]
    school_a, school_b = two_schools
    a = make_placement(school_a, date(2021, 3, 8))
    b = make_placement(school_b, date(2021, 4, 19), date(2021, 5, 31), name="岩坎", id_number="532801201407271133")
    holidays = {date(2021, 5, 3), date(2021, 5, 4), date(2021, 5, 5)}
    term_a = [d for d in _days(date(2021, 3, 9), date(2021, 6, 29), 1) if d not in holidays]
    term_a += list(_days(date(2021, 3, 11), date(2021, 5, 31), 3))
    assert len(term_a) == 28
    for day in sorted(term_a):
        start, end = (time(14, 30), time(16)) if day == date(2021, 4, 29) else (time(9), time(11))
        services.log_session(a, held_on=day, starts_at=start, ends_at=end, teachers="李老师", content_areas=["认知"],
                             progress="能认读10以内数字", guardian_confirmed=day != date(2021, 3, 9), guardian_name="邹父")
    term_b = [d for wd in (0, 2) for d in _days(date(2021, 4, 19), date(2021, 5, 31), wd) if d not in holidays]
    assert len(term_b) == 11
    for day in term_b:
        services.log_session(b, held_on=day, starts_at=time(9), ends_at=time(11), teachers="王老师",
                             content_areas=["生活自理"], progress="会自己穿衣", guardian_confirmed=True, guardian_name="岩父")
    db.session.commit()

    norm, rows = services.compliance(date(2021, 3, 1), date(2021, 6, 30))
    assert norm.key == "shandong_henan"
    got = {r.name: r.figures for r in rows}
    fa, fb = got["邹天"], got["岩坎"]
    assert (fa.counted_days, fa.expected_visits, fa.expected_periods) == (110, 31, 93)
    assert (fa.visits, fa.periods, fa.minutes, fa.unconfirmed) == (28, 83, 3330, 1)
    assert (fa.visit_shortfall, fa.period_shortfall, fa.compliant) == (3, 10, False)
    assert (fb.counted_days, fb.expected_visits, fb.expected_periods) == (38, 11, 33)
    assert (fb.visits, fb.periods, fb.minutes, fb.visit_shortfall, fb.period_shortfall, fb.compliant) == (11, 33, 1320, 0, 0, True)

    schools = {g.name: g for g in services.summarise(rows, "school")}
    assert (schools["勐罕中心小学"].rate, schools["嘎洒中心小学"].rate) == ("0.0%", "100.0%")
    total = schools["合计"]
    assert (total.children, total.compliant, total.sessions, total.periods, total.hours, total.rate) == (2, 1, 39, 116, "77.5", "50.0%")
    townships = {g.name: g for g in services.summarise(rows, "township")}
    assert townships["勐罕镇"].hours == "55.5" and townships["嘎洒镇"].sessions == 11

    # The lower local norm (2 visits × 2 periods a month), child A: counted days by month
    # Mar 24/31, Apr 30/30, May 26/31, Jun 30/30 → 2 + 50/31 = 3.61 months;
    # 2 × 3.61 = 7.23 → 7 visits, 14 periods: 28 visits and 83 periods are compliant.
    _, rows = services.compliance(date(2021, 3, 1), date(2021, 6, 30), norm_key="local_monthly")
    fa = next(r.figures for r in rows if r.name == "邹天")
    assert (fa.expected_visits, fa.expected_periods, fa.compliant) == (7, 14, True)

    # A period after B ended leaves B out.
    _, rows = services.compliance(date(2021, 6, 1), date(2021, 6, 30))
    assert [r.name for r in rows] == ["邹天"]
