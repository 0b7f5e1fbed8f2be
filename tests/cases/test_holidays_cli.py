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


def test_a_load_in_one_process_counts_at_once_in_another(app, tmp_path):
    """Several web and worker processes share one database: a year loaded through one
    app instance is used at once by another on the same database (its own instance
    folder, a warm cache from before the load), and the load is audited (who, year,
    source)."""
    import sqlalchemy as sa

    from edu_guard.app import create_app
    from edu_guard.auth.models import AuditLog, User
    from edu_guard.db import db

    other = create_app({
        "TESTING": True, "SECRET_KEY": "test-secret", "INSTANCE_PATH": str(tmp_path / "other-instance"),
        "EDU_GUARD_DATABASE_URL": app.config["EDU_GUARD_DATABASE_URL"],
        "SQLALCHEMY_ENGINE_OPTIONS": dict(app.config["SQLALCHEMY_ENGINE_OPTIONS"]),
    })
    # 10 working days from Thu 31 Dec 2026 on the estimate: 元旦 Fri 1 Jan is a statutory
    # holiday; 4–8 Jan (5), 11–15 Jan (10) → Fri 15 Jan 2027, estimated.
    with other.app_context():
        assert deadlines.add_working_days(date(2026, 12, 31), 10) == deadlines.Deadline(date(2027, 1, 15), True)
        assert deadlines.is_working_day(date(2027, 2, 13)) == (False, True)
    with app.app_context():
        admin = User(username="admin1", display_name="admin1", role="admin")
        admin.set_password("pw")
        db.session.add(admin)
        db.session.commit()
        out = app.test_cli_runner().invoke(cases_group, ["holidays", "2027", "--holidays", REST,
                                                         "--workdays", "2027-02-13 2027-10-09",
                                                         "--source", "国办发明电〔2026〕1号", "--as", "admin1"])
        assert out.exit_code == 0, out.output
    assert not (tmp_path / "instance" / "holiday_arrangements.json").exists()
    with other.app_context():
        # The loaded arrangement: 元旦 rest 1–3 Jan, so 4–8 Jan (5), 11–15 Jan (10) → Fri
        # 15 Jan, now not an estimate; Sat 13 Feb is a make-up working day.
        assert deadlines.add_working_days(date(2026, 12, 31), 10) == deadlines.Deadline(date(2027, 1, 15), False)
        assert deadlines.is_working_day(date(2027, 2, 13)) == (True, False)
        # 5 working days from Wed 3 Feb 2027: Thu 4 (1), Fri 5–Thu 11 rest, Fri 12 (2),
        # Sat 13 make-up (3), Mon 15 (4), Tue 16 (5).
        assert deadlines.add_working_days(date(2027, 2, 3), 5) == deadlines.Deadline(date(2027, 2, 16), False)
        entry = db.session.scalars(sa.select(AuditLog).where(AuditLog.action == "load_holidays")).one()
        assert entry.entity == "holiday_arrangement" and entry.entity_id == 2027
        assert entry.user_id == db.session.scalars(sa.select(User.id).where(User.username == "admin1")).one()
        assert entry.after["source"] == "国办发明电〔2026〕1号" and entry.before is None
    # A second load of the year (the make-up Saturday dropped) replaces the first, again at
    # once — even for a unit of work of the other process that already holds the old row.
    with other.app_context():
        held = db.session.get(deadlines.HolidayArrangement, 2027)  # kept in the session's identity map
        assert held.workdays == ["2027-02-13", "2027-10-09"]
        with app.app_context():
            out = app.test_cli_runner().invoke(cases_group, ["holidays", "2027", "--holidays", REST,
                                                             "--source", "国办发明电〔2026〕2号"])
            assert out.exit_code == 0, out.output
        assert deadlines.is_working_day(date(2027, 2, 13)) == (False, False)
        # Thu 4 (1), Fri 12 (2), Mon 15 (3), Tue 16 (4), Wed 17 (5).
        assert deadlines.add_working_days(date(2027, 2, 3), 5) == deadlines.Deadline(date(2027, 2, 17), False)
        entries = db.session.scalars(sa.select(AuditLog).where(AuditLog.action == "load_holidays")
                                     .order_by(AuditLog.id)).all()
        assert [e.after["source"] for e in entries] == ["国办发明电〔2026〕1号", "国办发明电〔2026〕2号"]
        assert entries[1].before["source"] == "国办发明电〔2026〕1号" and entries[1].user_id is None
    with other.app_context():
        db.session.remove()
        db.engine.dispose()
