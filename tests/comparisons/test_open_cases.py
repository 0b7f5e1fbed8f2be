"""Opening cases from a comparison run: in bulk, each child's case once."""

from datetime import date

import pytest
import sqlalchemy as sa

from edu_guard.cases.models import DropoutCase
from edu_guard.comparisons import services
from edu_guard.comparisons.models import ComparisonRow, ComparisonRun
from edu_guard.db import db
from edu_guard.registry.models import Child

SAMPLE = ("schools.csv", "roster_2021_spring.xlsx", "status_changes_2021.csv")


@pytest.fixture
def household_run(load, invoke, demo_dir, today_is):
    today_is(date(2021, 5, 6))
    load(*SAMPLE)
    out = invoke.json("compare", "household", demo_dir / "household_register_2021.csv", "--as-of", "2021-04-30")
    return out


def test_opening_twice_opens_each_child_once(app, invoke, household_run):
    flagged = sorted(r["id_number"] for r in household_run["rows"] if r["category"] == "out_of_school")
    first = invoke.json("compare", "open-cases", household_run["run"], "--category", "out_of_school")
    assert len(first["opened"]) == len(flagged) and not first["refused"]
    second = invoke.json("compare", "open-cases", household_run["run"], "--category", "out_of_school")
    assert second["opened"] == [] and sorted(second["existing"]) == sorted(first["opened"])
    with app.app_context():
        cases = db.session.execute(
            sa.select(Child.id_number, DropoutCase.source, DropoutCase.reason_note).join(DropoutCase, DropoutCase.child_id == Child.id)
        ).all()
        assert sorted(c.id_number for c in cases) == flagged
        assert {c.source for c in cases} == {"comparison"}
        assert {c.opened_on for c in db.session.execute(sa.select(DropoutCase)).scalars()} == {date(2021, 4, 30)}
        assert all("户籍与学籍比对" in c.reason_note for c in cases)
        # children not in the registry were registered from the register's row
        child = db.session.execute(sa.select(Child).where(Child.id_number == "532801200804131973")).scalar_one()
        assert child.name == "岩帕" and child.township is not None and child.township.name == "勐养镇"
        assert child.guardians and child.guardians[0].name
        rows = db.session.execute(sa.select(ComparisonRow).where(ComparisonRow.category == "out_of_school")).scalars().all()
        assert all(r.case_id and r.closed_on for r in rows)  # 销号 of the suspected-dropouts ledger entry


def test_second_run_and_a_race_do_not_open_twice(app, invoke, demo_dir, household_run, monkeypatch):
    invoke.json("compare", "open-cases", household_run["run"], "--category", "out_of_school")
    second_run = invoke.json("compare", "household", demo_dir / "household_register_2021.csv", "--as-of", "2021-04-30")
    # the check before opening misses the other clerk's case (a race): open_case's own
    # check and the database's one-open-case index still stop a second case
    monkeypatch.setattr(services, "_open_case_of", _miss_first(services._open_case_of))
    result = invoke.json("compare", "open-cases", second_run["run"], "--category", "out_of_school")
    assert result["opened"] == [] and len(result["existing"]) == household_run["counts"]["out_of_school"]
    with app.app_context():
        per_child = db.session.execute(
            sa.select(DropoutCase.child_id, sa.func.count()).group_by(DropoutCase.child_id)).all()
        assert {n for _c, n in per_child} == {1}


def test_database_refuses_a_second_open_case(app, household_run):
    import sqlalchemy.exc

    with app.app_context():
        run = db.session.get(ComparisonRun, household_run["run"])
        services.open_cases(run, category="out_of_school")
        db.session.commit()
        case = db.session.execute(sa.select(DropoutCase)).scalars().first()
        db.session.add(DropoutCase(child_id=case.child_id, state="persuasion", reason="其他", opened_on=case.opened_on,
                                   step_started_on=case.opened_on))
        with pytest.raises(sqlalchemy.exc.IntegrityError):
            db.session.flush()
        db.session.rollback()


def test_only_flagged_rows_open_cases(app, invoke, household_run):
    out = invoke.json("compare", "open-cases", household_run["run"], "--category", "transferred")
    assert out["opened"] == [] and len(out["refused"]) == 7


def _miss_first(real):
    seen = set()

    def lookup(id_number):
        if id_number not in seen:
            seen.add(id_number)
            return None
        return real(id_number)

    return lookup


def test_a_late_opening_applies_the_age_rule_of_the_run(app, invoke, household_run, today_is):
    # years later, the children found out of school in 2021 are opened as of that day
    today_is(date(2026, 11, 30))
    out = invoke.json("compare", "open-cases", household_run["run"], "--category", "out_of_school")
    assert len(out["opened"]) == household_run["counts"]["out_of_school"] and not out["refused"]
