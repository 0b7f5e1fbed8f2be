"""Periodic reports reconcile on generated case histories; the CLI, Excel export and
ledgers."""

import json
import random
from datetime import date, timedelta

import openpyxl
import pytest

from edu_guard.cases.models import CaseEvent, DropoutCase, HomeVisit
from edu_guard.db import db
from edu_guard.registry.models import Child, School, Township
from edu_guard.reports import services

START = date(2021, 3, 1)


@pytest.fixture
def histories(app_ctx):
    """120 cases over three townships and four schools with random histories: steps
    escalated, returns, relapses, placements, deaths, closings. Returns the generated
    facts ``[(township, school, opened_on, closed_on, [(date, event, to_state)])]``."""
    rng = random.Random(20210430)
    towns = [Township(county_code="532801", name=n) for n in ("勐罕镇", "嘎洒镇", "普文镇")]
    schools = [School(code=f"21532801{i:02d}", name=f"学校{i}", stage="小学", township=towns[i % 3], county_code="532801")
               for i in range(4)]
    db.session.add_all(schools)
    facts = []
    for n in range(120):
        school = rng.choice(schools + [None])
        town = school.township if school else rng.choice(towns)
        number = f"53280120100101{n:03d}X"
        child = Child(id_number=number, name=f"童{n}", sex="男", birth_date=date(2010, 1, 1), township=town)
        opened = START + timedelta(days=rng.randrange(90))
        case = DropoutCase(child=child, state="persuasion", reason="厌学", opened_on=opened, step_started_on=opened,
                           township=town, school=school)
        day, state, events, closed = opened, "persuasion", [], None
        for _ in range(rng.randrange(5)):
            day = day + timedelta(days=rng.randrange(1, 20))
            if state in ("persuasion", "order_to_correct"):
                event, to = rng.choice([("escalate_to_order", "order_to_correct"), ("return_to_school", "following_up"),
                                        ("place", "closed"), ("record_death", "closed")])
                if event == "escalate_to_order" and state != "persuasion":
                    event, to = "escalate_to_penalty", "penalty"
            elif state == "penalty":
                event, to = rng.choice([("return_to_school", "following_up"), ("escalate_to_enforcement", "enforcement")])
            elif state == "enforcement":
                event, to = "return_to_school", "following_up"
            elif state == "following_up":
                event, to = rng.choice([("close_follow_up", "closed"), ("drop_out_again", "persuasion")])
            else:
                break
            events.append((day, event, to))
            case.events.append(CaseEvent(event=event, from_state=state, to_state=to, acted_on=day))
            state = to
            if to == "closed":
                closed = day
                break
        case.state, case.closed_on = state, closed
        case.events.insert(0, CaseEvent(event="open", from_state=None, to_state="persuasion", acted_on=opened))
        db.session.add(case)
        for _ in range(rng.randrange(3)):
            db.session.add(HomeVisit(child=child, case=case, visited_on=opened + timedelta(days=rng.randrange(30)),
                                     visitors="班主任", form="入户", findings="在家"))
        facts.append((town.name, school.name if school else None, opened, closed, events, case))
    db.session.commit()
    return facts


def _open(opened, closed, day):
    return opened <= day and (closed is None or closed > day)


@pytest.mark.parametrize("period", ["day", "week", "month"])
def test_figures_reconcile_per_row_and_in_total(histories, period):
    day = START
    while day <= date(2021, 7, 31):
        start, end = services.period_bounds(period, day)
        for by in ("township", "school"):
            report = services.periodic_report(start, end, by=by)
            for row in [*report["rows"], report["total"]]:
                assert row["open_at_start"] + row["new"] - row["closed"] == row["open_at_end"], (period, start, row)
                assert row["open_at_end"] == row["still_out"] + row["following_up"]
                assert row["still_out"] == row["step1"] + row["step2"] + row["step3"] + row["step4"]
            for key in services.COLUMNS:
                assert report["total"][key] == sum(r[key] for r in report["rows"])
        day = end + timedelta(days=1 if period == "day" else 5 if period == "week" else 20)


def test_month_figures_counted_from_the_histories(histories):
    start, end = services.period_bounds("month", date(2021, 4, 30))
    assert (start, end) == (date(2021, 4, 1), date(2021, 4, 30))
    report = services.periodic_report(start, end, by="township")
    for town in ("勐罕镇", "嘎洒镇", "普文镇"):
        mine = [h for h in histories if h[0] == town]
        row = next(r for r in report["rows"] if r["name"] == town)
        assert row["open_at_start"] == sum(_open(o, c, start - timedelta(days=1)) for _t, _s, o, c, _e, _c in mine)
        assert row["new"] == sum(start <= o <= end for _t, _s, o, _c, _e, _x in mine)
        assert row["returned"] == sum(start <= d <= end and e == "return_to_school" for h in mine for d, e, _s in h[4])
        assert row["placed"] == sum(start <= d <= end and e == "place" for h in mine for d, e, _s in h[4])
        assert row["home_visits"] == sum(start <= v.visited_on <= end for h in mine for v in h[5].visits)


def test_week_is_monday_to_sunday():
    assert services.period_bounds("week", date(2021, 4, 30)) == (date(2021, 4, 26), date(2021, 5, 2))
    with pytest.raises(services.ReportError):
        services.period_bounds("year", date(2021, 4, 30))


def test_cli_json_and_excel(app, histories, tmp_path):
    from edu_guard.cli import cli

    out = tmp_path / "m.xlsx"
    result = app.test_cli_runner().invoke(
        cli, ["report", "dropout", "--period", "month", "--date", "2021-04-30", "--json", "--xlsx", str(out)],
        catch_exceptions=False)
    data = json.loads(result.stdout)
    assert (data["start"], data["end"], data["period"]) == ("2021-04-01", "2021-04-30", "month")
    total = data["total"]
    assert total["open_at_start"] + total["new"] - total["closed"] == total["open_at_end"]
    sheet = openpyxl.load_workbook(out).active
    assert "2021-04-01至2021-04-30" in sheet["A1"].value
    assert sheet.cell(row=2, column=1).value == "乡镇"
    last = [c.value for c in sheet[sheet.max_row]]
    assert last[0] == "合计" and last[1:5] == [total["open_at_start"], total["new"], total["closed"], total["open_at_end"]]


def test_dropout_ledger_with_persuasion_log(app, histories, tmp_path):
    from edu_guard.cli import cli

    out = tmp_path / "ledger.xlsx"
    result = app.test_cli_runner().invoke(cli, ["report", "ledger", "dropouts", "--xlsx", str(out)], catch_exceptions=False)
    assert "辍学台账：120 条" in result.output
    book = openpyxl.load_workbook(out)
    ledger, log = book["辍学台账"], book["劝返记录"]
    assert ledger.max_row == 2 + 120
    assert log.max_row == 2 + sum(len(h[5].visits) for h in histories)  # title, header, one row per visit
    closed = [h for h in histories if h[3]]
    header = [c.value for c in ledger[2]]
    closed_col = header.index("销号日期")
    assert sum(1 for row in ledger.iter_rows(min_row=3, values_only=True) if row[closed_col]) == len(closed)


def test_cli_any_period(app, histories):
    from edu_guard.cli import cli

    runner = app.test_cli_runner()
    result = runner.invoke(cli, ["report", "dropout", "--from", "2021-03-15", "--to", "2021-05-20", "--json"],
                           catch_exceptions=False)
    data = json.loads(result.stdout)
    assert (data["start"], data["end"], data["period"]) == ("2021-03-15", "2021-05-20", None)
    total = data["total"]
    assert total["open_at_start"] + total["new"] - total["closed"] == total["open_at_end"]
    assert total["new"] == sum(date(2021, 3, 15) <= h[2] <= date(2021, 5, 20) for h in histories)
    bad = runner.invoke(cli, ["report", "dropout", "--from", "2021-05-20", "--to", "2021-03-15"])
    assert bad.exit_code != 0 and "开始日期不能晚于结束日期" in bad.output
