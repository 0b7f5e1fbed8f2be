"""Every kind of long work shares the job machinery: one registry of kinds, each
registered by its feature; a job's reads are scoped to its owner even in a worker that
has no signed-in user; a user sees the jobs of their area only (route × role); only a
job's owner downloads its file; comparison runs are scoped too."""

from __future__ import annotations

import io
from urllib.parse import unquote
from datetime import date

import openpyxl
import pytest
import sqlalchemy as sa

from edu_guard.auth import scoping
from edu_guard.comparisons.models import ComparisonRow, ComparisonRun
from edu_guard.db import db
from edu_guard.jobs import services as jobs
from edu_guard.jobs.models import Job
from edu_guard.registry.models import School, Township
from edu_guard.transaction import finish


def test_each_feature_registers_its_kinds():
    assert {"import", "comparison", "print_run", "aid_propose", "aid_approve", "export"} <= set(jobs.KINDS)
    assert {"roster", "payments", "cases"} <= set(jobs.EXPORTS)


@pytest.fixture
def two_towns(app_ctx, make_child, make_user):
    schools = []
    for code, town, name in (("2153280101", "勐罕镇", "勐罕中心小学"), ("2153280102", "勐龙镇", "勐龙中心小学")):
        schools.append(School(code=code, name=name, stage="小学", county_code="532801",
                              township=Township(county_code="532801", name=town)))
    db.session.add_all(schools)
    db.session.commit()
    make_child("岩温", "532801200901142694", school=schools[0])
    make_child("玉香", "532801200902031226", school=schools[1])
    users = {
        "a": make_user("township", username="town_a", township=schools[0].township),
        "b": make_user("township", username="town_b", township=schools[1].township),
        "school_a": make_user("school", username="school_a", school=schools[0]),
        "clerk": make_user("clerk"),
        "admin": make_user("admin", username="admin2"),
        "auditor": make_user("auditor"),
    }
    return schools, users


def test_a_worker_export_is_scoped_to_its_owner(app, two_towns):
    """Run outside any request, as a worker runs it: the township user's roster holds
    the township's child only, the clerk's the county's."""
    _schools, users = two_towns
    made = {}
    for who in ("a", "clerk"):
        job = jobs.submit_export("roster", {}, users[who])
        finish(ok=True)  # the unit of work commits: the job is queued and runs (immediate mode)
        db.session.refresh(job)
        assert job.state == "done", job.error
        path = jobs.result_file(job, users[who])
        sheet = openpyxl.load_workbook(io.BytesIO(path.read_bytes())).active
        made[who] = sorted(row[1] for row in sheet.iter_rows(values_only=True) if isinstance(row[0], int))
        assert jobs.result_file(job, users["admin"]) is None  # the owner's file only
    assert made == {"a": ["岩温"], "clerk": ["岩温", "玉香"]}


def test_a_small_export_is_answered_at_once_and_a_big_one_is_a_job(app, client, login, two_towns):
    _schools, users = two_towns
    login(users["clerk"])
    resp = client.get("/children?format=xlsx")
    assert resp.status_code == 200 and resp.data[:2] == b"PK"
    app.config["EDU_GUARD_EXPORT_JOB_ROWS"] = 1
    resp = client.get("/children?format=xlsx&q=岩温")  # one row: still at once
    assert resp.status_code == 200
    resp = client.get("/children?format=xlsx")
    assert resp.status_code == 302 and resp.location.startswith("/jobs/")
    state = client.get(resp.location + ".json").get_json()
    assert state["state"] == "done" and state["download"].endswith("/file")
    file = client.get(state["download"])
    assert file.status_code == 200 and "学生名册_2人.xlsx" in unquote(file.headers["Content-Disposition"])
    file.close()


def _jobs_of(users):
    """A failed job of each user, in their area (as :func:`jobs.submit` records them)."""
    from flask import g

    made = {}
    for who, user in users.items():
        job = jobs.submit("export", {"export": "roster", "filters": {}}, user)
        job.state, job.error = "failed", "测试"
        made[who] = job.id
    db.session.commit()
    g.pop("edu_guard_after_commit", None)  # recorded, not queued: they stand as failed
    return made


ROUTES = ("/jobs/{}", "/jobs/{}.json", "/jobs/{}/file")


@pytest.mark.parametrize("role, sees", [
    ("a", {"a", "school_a"}),  # the township: its own, and its school's
    ("b", {"b"}),
    ("school_a", {"school_a"}),
    ("clerk", {"a", "b", "school_a", "clerk", "admin", "auditor"}),
    ("auditor", {"a", "b", "school_a", "clerk", "admin", "auditor"}),
])
def test_jobs_pages_route_by_role(client, login, two_towns, role, sees):
    _schools, users = two_towns
    made = _jobs_of(users)
    login(users[role])
    listing = client.get("/jobs").text
    for who, job_id in made.items():
        expected = 200 if who in sees else 404
        for route in ROUTES[:2]:
            assert client.get(route.format(job_id)).status_code == expected, (role, who, route)
        assert (f'href="/jobs/{job_id}"' in listing) == (who in sees), (role, who)
        assert client.get(ROUTES[2].format(job_id)).status_code == 404  # failed: no file, for anyone
        rerun = client.post(f"/jobs/{job_id}/rerun")
        if who not in sees:
            assert rerun.status_code == 404
        elif who != role or role == "auditor":  # only its owner (or an admin) runs it again; auditors change nothing
            assert rerun.status_code == 403, (role, who)
    own = db.session.get(Job, made[role], populate_existing=True)
    assert own.state == ("failed" if role == "auditor" else "done"), own.error  # the owner's rerun went through


def test_an_admin_may_rerun_anyones_job(client, login, two_towns):
    _schools, users = two_towns
    made = _jobs_of(users)
    login(users["admin"])
    assert client.post(f"/jobs/{made['a']}/rerun").status_code == 302
    job = db.session.get(Job, made["a"], populate_existing=True)
    assert job.state == "done" and job.attempts == 1  # ran again (immediate mode), as its owner


@pytest.mark.parametrize("role", ["a", "school_a"])
def test_comparisons_are_the_bureaus_and_runs_are_scoped(client, login, two_towns, role):
    _schools, users = two_towns
    run = ComparisonRun(kind="household", as_of=date(2021, 3, 1), user_id=users["clerk"].id)
    own = ComparisonRun(kind="household", as_of=date(2021, 3, 1), user_id=users[role].id)
    db.session.add_all([run, own, ComparisonRow(run=run, line=2, category="out_of_school", reason="无学籍"),
                        ComparisonRow(run=own, line=2, category="out_of_school", reason="无学籍")])
    db.session.commit()
    login(users[role])
    assert client.get("/comparisons").status_code == 403
    for url in (f"/comparisons/{run.id}", f"/comparisons/{run.id}.xlsx"):
        assert client.get(url).status_code == 403
    assert client.post("/comparisons", data={"kind": "status", "as_of": "2021-03-01"}).status_code == 403
    assert db.session.execute(sa.select(sa.func.count(Job.id))).scalar() == 0  # nothing queued
    # should a run be read for them (a job acting as them, a plugin's page): their own only
    with scoping.acting_as(users[role]):
        assert db.session.execute(sa.select(ComparisonRun.id)).scalars().all() == [own.id]
        assert [r.run_id for r in db.session.execute(sa.select(ComparisonRow)).scalars()] == [own.id]
    login(users["auditor"])
    assert client.get(f"/comparisons/{run.id}").status_code == 200  # the county's roles read every run
