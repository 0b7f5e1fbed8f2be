"""The files jobs leave (``<instance>/job-results``) are kept
``EDU_GUARD_JOB_FILE_KEEP_DAYS`` (7) days after their job finished, then deleted by the
daily purge or ``edu-guard purge`` (old name ``purge-uploads``), the job then saying its
file expired; each purge run is audited once with its counts. A job whose data committed
but whose step after the commit raised stays done, with its file, and a warning."""

from __future__ import annotations

import json
import os
from datetime import datetime, timedelta, timezone

import sqlalchemy as sa

from edu_guard.auth.models import AuditLog
from edu_guard.cli import cli
from edu_guard.db import db
from edu_guard.jobs import queue
from edu_guard.jobs import services as jobs
from edu_guard.jobs.models import Job
from edu_guard.registry.jobs import purge_files
from edu_guard.registry.models import Township
from edu_guard.transaction import after_commit, finish

NOW = datetime(2026, 12, 1, 2, 0, tzinfo=timezone.utc)


def _export(user, finished_at: datetime) -> Job:
    """A done roster export of ``user`` whose job finished at ``finished_at``."""
    job = jobs.submit_export("roster", {}, user)
    finish(ok=True)  # immediate mode: it has run
    db.session.refresh(job)
    assert job.state == "done", job.error
    job.finished_at = finished_at
    finish(ok=True)
    return job


def _purge_audits() -> list[dict]:
    return [row.after for row in db.session.execute(
        sa.select(AuditLog).where(AuditLog.action == "purge").order_by(AuditLog.id)).scalars()]


def test_job_files_older_than_seven_days_are_purged_and_their_job_says_so(app_ctx, client, login, make_user):
    clerk = make_user("clerk")
    old = _export(clerk, NOW - timedelta(days=7, minutes=1))  # finished 7 days and a minute ago: due
    kept = _export(clerk, NOW - timedelta(days=6, hours=23))  # not yet 7 days: kept
    folder = jobs.results_dir()
    part = folder / "999.part"  # left by a killed worker ten days ago
    part.write_bytes(b"half an export")
    ten_days_ago = (NOW - timedelta(days=10)).timestamp()
    os.utime(part, (ten_days_ago, ten_days_ago))
    old_bytes = (folder / str(old.id)).stat().st_size

    due = purge_files(now=NOW, dry_run=True)["job_files"]
    assert [p["job_id"] for p in due] == [old.id, None]
    assert (folder / str(old.id)).exists() and _purge_audits() == []  # a dry run deletes and audits nothing

    purged = purge_files(now=NOW)
    finish(ok=True)
    assert [p["job_id"] for p in purged["job_files"]] == [old.id, None]
    assert sorted(p.name for p in folder.iterdir()) == [str(kept.id)]
    assert _purge_audits() == [{"uploads": 0, "upload_bytes": 0, "job_files": 2,
                                "job_file_bytes": old_bytes + len(b"half an export")}]
    old = db.session.get(Job, old.id, populate_existing=True)
    assert old.state == "done" and old.result["file_expired"] == NOW.isoformat()
    assert jobs.result_file(old, clerk) is None and jobs.result_file(kept, clerk) is not None

    login(clerk)
    state = client.get(f"/jobs/{old.id}.json").get_json()
    assert state["file_expired"] is True and state["download"] is None
    page = client.get(f"/jobs/{old.id}").text
    assert 'id="job-file-expired"' in page
    assert client.get(f"/jobs/{old.id}/file").status_code == 404
    assert client.get(f"/jobs/{kept.id}.json").get_json()["file_expired"] is False


def test_the_command_and_its_old_name_purge_both_and_audit_once_per_run(app, app_ctx, make_user):
    clerk = make_user("clerk")
    job = _export(clerk, datetime.now(timezone.utc) - timedelta(days=8))
    runner = app.test_cli_runner()
    result = runner.invoke(cli, ["purge", "--dry-run", "--json"], catch_exceptions=False)
    assert json.loads(result.output)["job_files"][0]["job_id"] == job.id
    assert (jobs.results_dir() / str(job.id)).exists()
    result = runner.invoke(cli, ["purge-uploads", "--json"], catch_exceptions=False)
    out = json.loads(result.output)
    assert out["files"] == [] and [p["job_id"] for p in out["job_files"]] == [job.id]
    assert not (jobs.results_dir() / str(job.id)).exists()
    result = runner.invoke(cli, ["purge"], catch_exceptions=False)
    assert "0 个任务结果文件" in result.output
    db.session.remove()
    assert [a["job_files"] for a in _purge_audits()] == [1, 0]  # one row a run, the dry run none


def test_the_daily_housekeeping_purges_job_files(app_ctx, make_user):
    clerk = make_user("clerk")
    job = _export(clerk, datetime.now(timezone.utc) - timedelta(days=8))
    assert queue.run_daily() == {"purge": {"uploads": 0, "job_files": 1}}
    assert not (jobs.results_dir() / str(job.id)).exists()
    db.session.remove()
    assert [a["job_files"] for a in _purge_audits()] == [1]


def test_a_job_whose_step_after_the_commit_fails_is_done_with_a_warning(app_ctx, client, login, make_user):
    def run(job, progress):
        db.session.add(Township(county_code="532801", name="后续失败镇"))
        after_commit(lambda: 1 / 0)  # e.g. a plugin's event, after the data is in
        return jobs.write_file(job, "x.txt", b"made", "text/plain") | {"summary": "已生成"}

    jobs.register("after_commit_test", jobs.JobKind("测试", run))
    try:
        clerk = make_user("clerk")
        job = jobs.submit("after_commit_test", {}, clerk)
        finish(ok=True)
        job = db.session.get(Job, job.id, populate_existing=True)
        assert job.state == "done" and job.error is None
        assert job.result["warning"] == jobs.AFTER_COMMIT_WARNING
        assert jobs.result_file(job, clerk).read_bytes() == b"made"
        assert db.session.execute(sa.select(Township).where(Township.name == "后续失败镇")).scalar_one()
        login(clerk)
        assert 'id="job-warning"' in client.get(f"/jobs/{job.id}").text
    finally:
        jobs.KINDS.pop("after_commit_test")
