"""Legal periods on the Chinese calendar (holidays and make-up working days)."""

from datetime import date

from edu_guard.deadlines import add_calendar_days, add_months, add_working_days, is_working_day


def test_working_days_skip_national_day_and_count_makeup_saturday():
    # 2021: 1–7 October off; Saturday 9 October a make-up working day (国办发明电〔2020〕27号).
    # From service on Tue 28 Sep: 29, 30 Sep, 8, 9, 11, 12, 13, 14, 15, 18 Oct.
    d = add_working_days(date(2021, 9, 28), 10)
    assert d.day == date(2021, 10, 18)
    assert not d.estimated


def test_working_days_plain_weeks():
    # Mon 1 March 2021 + 10 working days = Mon 15 March.
    assert add_working_days(date(2021, 3, 1), 10).day == date(2021, 3, 15)


def test_beyond_calendar_is_estimated():
    d = add_working_days(date(2035, 3, 1), 3)
    assert d.estimated
    assert d.day == date(2035, 3, 6)  # Thu 1 → Fri 2, Mon 5, Tue 6
    assert "估算" in str(d)


def test_calendar_days_roll_over_rest_days():
    # 30 days after 1 Sep 2021 is Fri 1 Oct, a holiday: the period ends Fri 8 Oct.
    assert add_calendar_days(date(2021, 9, 1), 30).day == date(2021, 10, 8)


def test_months_clamp_to_month_end():
    # 31 March + 6 months → 30 September 2021 (a Thursday, a working day).
    assert add_months(date(2021, 3, 31), 6).day == date(2021, 9, 30)
    assert is_working_day(date(2021, 10, 9)) == (True, False)
