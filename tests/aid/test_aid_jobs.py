"""Aid work as jobs: "propose all" and the approval of a large list run on the queue
(here at once, the tests' immediate mode) in one transaction each; a refused approval
pays nobody; a big payments export is a job whose workbook its owner downloads, as
the owner sees the payments."""

from __future__ import annotations

import io
from datetime import date

import openpyxl
import sqlalchemy as sa

from edu_guard.aid import services
from edu_guard.aid.models import AidList, Payment
from edu_guard.db import db
from edu_guard.jobs.models import Job
from edu_guard.registry.models import School


def _job(resp) -> int:
    assert resp.status_code == 302 and resp.location.startswith("/jobs/"), resp.location
    return int(resp.location.rsplit("/", 1)[1])


def test_propose_and_a_large_approval_run_as_jobs(app, county, make_user, login, today_is, client):
    today_is(date(2021, 3, 10))
    clerk = make_user("clerk")
    login(clerk)
    services.add_term("2021-spring", date(2021, 3, 1), date(2021, 7, 9), 90)
    db.session.commit()
    job_id = _job(client.post("/aid/terms/2021-spring/propose", data={"scheme": "compulsory_living"}))
    state = client.get(f"/jobs/{job_id}.json").get_json()
    assert state["state"] == "done" and state["url"] == "/aid/terms/2021-spring/lists"
    school = db.session.execute(sa.select(School).where(School.code == "2153280177")).scalar_one()  # 勐罕中心小学
    mine = db.session.execute(sa.select(AidList).where(AidList.school_id == school.id)).scalar_one()
    included = [e for e in mine.entries if e.included]
    assert included
    services.post(mine, on=date(2021, 3, 10))
    db.session.commit()

    app.config["EDU_GUARD_APPROVE_JOB_ROWS"] = len(included) - 1  # this list counts as large
    early = _job(client.post(f"/aid/lists/{mine.id}/approve"))  # posting period not over: the job is refused
    state = client.get(f"/jobs/{early}.json").get_json()
    assert state["state"] == "failed" and "公示期满后方可审批" in state["error"]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Payment)) == 0

    today_is(date(2021, 3, 18))
    job_id = _job(client.post(f"/aid/lists/{mine.id}/approve"))
    state = client.get(f"/jobs/{job_id}.json").get_json()
    assert state["state"] == "done" and state["url"] == f"/aid/lists/{mine.id}"
    assert f"{len(included)}人次" in client.get(f"/jobs/{job_id}").text
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Payment)) == len(included)
    db.session.refresh(mine)
    assert mine.state == "approved"
    # the clerk's own job, with its owner and kind
    job = db.session.get(Job, job_id)
    assert job.owner_id == clerk.id and job.kind == "aid_approve"

    # a big payments export is a job; a school user's workbook holds its own school's payments only
    app.config["EDU_GUARD_EXPORT_JOB_ROWS"] = 0
    head = make_user("school", school=school)
    login(head)
    job_id = _job(client.get("/aid/terms/2021-spring/payments?format=xlsx"))
    state = client.get(f"/jobs/{job_id}.json").get_json()
    assert state["state"] == "done" and state["download"]
    resp = client.get(state["download"])
    sheet = openpyxl.load_workbook(io.BytesIO(resp.data)).active
    resp.close()
    names = [row[1] for row in sheet.iter_rows(values_only=True) if isinstance(row[0], int)]
    assert sorted(names) == sorted(e.child.name for e in included)
    login(clerk)  # the county's clerk sees the school user's job, but its file is the school's
    assert client.get(f"/jobs/{job_id}").status_code == 200
    assert client.get(f"/jobs/{job_id}/file").status_code == 404
