"""The comparison pages: upload and run, result by category, bulk open, export."""

import io
from datetime import date

import openpyxl
import sqlalchemy as sa

from edu_guard.cases.models import DropoutCase
from edu_guard.comparisons.models import ComparisonRow, ComparisonRun
from edu_guard.db import db


def test_clerk_uploads_runs_filters_opens_and_exports(app_ctx, load, make_user, login, demo_dir, today_is):
    today_is(date(2021, 5, 6))
    load("schools.csv", "roster_2021_spring.xlsx", "status_changes_2021.csv")
    client = login(make_user("clerk"))
    assert "运行比对" in client.get("/comparisons").text
    data = {"kind": "household", "as_of": "2021-04-30",
            "file": (io.BytesIO((demo_dir / "household_register_2021.csv").read_bytes()), "户籍.csv")}
    resp = client.post("/comparisons", data=data, content_type="multipart/form-data")
    run = db.session.execute(sa.select(ComparisonRun)).scalar_one()
    # queued as a job (run at once in the tests' immediate mode); the job leads to the run
    assert resp.status_code == 302 and resp.location.startswith("/jobs/")
    job = client.get(resp.location + ".json").get_json()
    assert job["state"] == "done" and job["url"].endswith(f"/comparisons/{run.id}")
    assert run.filename == "户籍.csv" and run.counts["out_of_school"] > 0

    page = client.get(f"/comparisons/{run.id}?category=transferred").text
    assert "已转出（核实转学）" in page and "昆明市某小学" in page and "只计数，不逐行保存" in page
    assert "全县学籍中无此人" not in page  # filtered to one category
    flagged = db.session.execute(sa.select(ComparisonRow).where(ComparisonRow.category == "out_of_school")).scalars().all()
    two = [r.id for r in flagged[:2]]
    client.post(f"/comparisons/{run.id}/open-cases", data={"row_id": two})
    assert db.session.execute(sa.select(sa.func.count(DropoutCase.id))).scalar() == 2
    client.post(f"/comparisons/{run.id}/open-cases", data={"all_of": "out_of_school"})
    assert db.session.execute(sa.select(sa.func.count(DropoutCase.id))).scalar() == len(flagged)

    book = openpyxl.load_workbook(io.BytesIO(client.get(f"/comparisons/{run.id}.xlsx").data))
    assert book["汇总"].max_row == 2 + 7 + 1  # title, header, 7 categories, 合计
    assert [c.value for c in book["汇总"][book["汇总"].max_row]] == ["合计", sum(run.counts.values())]
    assert book["明细"].max_row == 2 + sum(n for c, n in run.counts.items() if c in ("out_of_school", "transferred", "deceased", "invalid"))


def test_auditor_reads_but_cannot_run_and_school_user_is_refused(app_ctx, load, make_user, login):
    load("schools.csv")
    auditor = login(make_user("auditor", "aud"))
    assert auditor.get("/comparisons").status_code == 200
    assert auditor.post("/comparisons", data={"kind": "status", "as_of": "2021-04-30"}).status_code == 403
    from edu_guard.registry.models import School

    school = db.session.execute(sa.select(School)).scalars().first()
    user = login(make_user("school", "sch", school=school))
    assert user.get("/comparisons").status_code == 403


def test_suspected_ledger_entry_closed_with_reason_and_date(app_ctx, load, make_user, login, demo_dir, today_is):
    from edu_guard.auth.models import AuditLog

    today_is(date(2021, 5, 6))
    load("schools.csv", "roster_2021_spring.xlsx", "status_changes_2021.csv")
    client = login(make_user("clerk"))
    client.post("/comparisons", data={"kind": "status", "as_of": "2021-04-30"})
    ledger = client.get("/reports/ledgers/suspected").text
    assert "转出无接收学校（疑似辍学）" in ledger and "休学中" not in ledger  # only flagged rows
    row = db.session.execute(sa.select(ComparisonRow).where(ComparisonRow.category == "transfer_no_destination")).scalars().first()
    resp = client.post(f"/comparisons/rows/{row.id}/close", data={"reason": "核实已在外县就读", "on": "2021-05-05",
                                                                 "next": "/reports/ledgers/suspected"})
    assert resp.status_code == 302
    db.session.refresh(row)
    assert (row.closed_on, row.closed_reason) == (date(2021, 5, 5), "核实已在外县就读")
    assert db.session.execute(sa.select(AuditLog).where(AuditLog.entity == "comparison_row")).scalars().first() is not None
    again = client.post(f"/comparisons/rows/{row.id}/close", data={"reason": "x"}, follow_redirects=True).text
    assert "已于 2021-05-05 销号" in again
    assert "核实已在外县就读" in client.get("/reports/ledgers/suspected").text
