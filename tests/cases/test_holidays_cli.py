"""``edu-guard cases holidays``: the county loads a year's official arrangement from the
command line; it is checked against the statutory holidays, and the year's working
days then follow it (no longer 估算)."""

from datetime import date

from edu_guard import deadlines
from edu_guard.cases.cli import cases_group

#: A made-up 2027 arrangement for the test: the statutory days (元旦 1 Jan; 春节 from 除夕
#: 5 Feb; 清明 5 Apr; 劳动节 1–2 May; 端午 9 Jun; 中秋 15 Sep; 国庆 1–3 Oct) inside longer rests.
REST = ("2027-01-01~2027-01-03 2027-02-05~2027-02-11 2027-04-05 2027-05-01~2027-05-05 2027-06-09 2027-09-15 "
        "2027-10-01~2027-10-07")


def test_the_command_loads_and_checks_an_arrangement(app_ctx):
    runner = app_ctx.test_cli_runner()
    assert deadlines.is_working_day(date(2027, 2, 13)) == (False, True)  # a Saturday, estimated
    bad = runner.invoke(cases_group, ["holidays", "2027", "--holidays", REST, "--workdays", "2027-10-01",
                                      "--source", "x"])
    assert bad.exit_code != 0 and "2027-10-01" in bad.output
    out = runner.invoke(cases_group, ["holidays", "2027", "--holidays", REST, "--workdays", "2027-02-13 2027-10-09",
                                      "--source", "国办发明电〔2026〕1号"])
    assert out.exit_code == 0, out.output
    assert "放假 25 天，调休上班 2 天" in out.output  # 3 + 7 + 1 + 5 + 1 + 1 + 7 rest days
    assert deadlines.is_working_day(date(2027, 2, 13)) == (True, False)  # the make-up Saturday
    assert deadlines.is_working_day(date(2027, 2, 12)) == (True, False)  # a Friday after the rest
    assert deadlines.is_working_day(date(2027, 1, 2)) == (False, False)
    # 10 working days from Thu 31 Dec 2026: 4–8 Jan (5), 11–15 Jan (10) → Fri 15 Jan 2027.
    assert deadlines.add_working_days(date(2026, 12, 31), 10) == deadlines.Deadline(date(2027, 1, 15), False)
