"""The job pages on English pages (issue 10 §5): a kind's label and a state's label are
translated where shown; stored summaries, warnings and failures, and the stale worker's
failure, read in the reader's language; a refusal too.

The tests share one app context with their requests, where Flask-Babel keeps the locale it
chose: :func:`flask_babel.refresh` forgets it when a test changes the language."""

from __future__ import annotations

from datetime import timedelta

from flask import current_app
from flask_babel import refresh

from edu_guard.db import db, utcnow
from edu_guard.i18n import Message
from edu_guard.jobs import services as jobs
from edu_guard.jobs.models import Job


def _get(client, url, lang):
    refresh()
    return client.get(f"{url}?lang={lang}")


def test_stale_job_reads_failed_in_english(app_ctx, make_user, login):
    clerk = make_user("clerk")
    client = login(clerk)
    beat = utcnow() - timedelta(seconds=current_app.config["EDU_GUARD_JOB_STALE_SECONDS"] + 5)
    job = Job(kind="import", owner_id=clerk.id, state="running", started_at=beat, heartbeat_at=beat,
              params={"import_kind": "schools", "filename": "schools.csv"})
    db.session.add(job)
    db.session.commit()
    page = _get(client, f"/jobs/{job.id}", "en").text
    assert "Import" in page and "Failed" in page
    assert "The worker running this job has stopped" in page and "You can run it again." in page
    state = _get(client, f"/jobs/{job.id}.json", "en").get_json()
    assert state["state_label"] == "Failed" and state["error"].startswith("The worker running this job has stopped")
    chinese = _get(client, f"/jobs/{job.id}", "zh").text
    assert "导入" in chinese and "失败" in chinese and "处理该任务的工作进程已停止" in chinese


def test_stored_summary_warning_and_failure_read_in_english(app_ctx, make_user, login):
    clerk = make_user("clerk")
    client = login(clerk)
    done = Job(kind="export", owner_id=clerk.id, state="done",
               result={"summary": Message("%(export)s已生成，可下载", export=Message("导出")),
                       "warning": jobs.AFTER_COMMIT_WARNING})
    failed = Job(kind="print_run", owner_id=clerk.id, state="failed",
                 error=Message("任务执行时发生内部错误，未写入任何数据。请联系系统管理员查看日志。"))
    db.session.add_all([done, failed])
    db.session.commit()
    db.session.expire_all()
    page = _get(client, f"/jobs/{done.id}", "en").text
    assert "Export is ready to download" in page and "Done" in page
    assert "a step after saving (plugin notifications etc.) failed" in page
    page = _get(client, f"/jobs/{failed.id}", "en").text
    assert "Batch printing" in page and "An internal error occurred while running the job; nothing was saved." in page
    listing = _get(client, "/jobs", "en").text
    assert "Batch printing" in listing and "Export" in listing and "Failed" in listing
    assert "已生成，可下载" in _get(client, f"/jobs/{done.id}", "zh").text
    # a refusal of the job service, flashed in the page's language
    refresh()
    english = client.post(f"/jobs/{done.id}/rerun?lang=en", follow_redirects=True).text
    assert "Only a failed job can be run again" in english
    refresh()
    chinese = client.post(f"/jobs/{done.id}/rerun?lang=zh", follow_redirects=True).text
    assert "只有失败的任务可以重新运行" in chinese


def test_every_kind_of_job_has_its_label_marked_for_the_catalogue(app_ctx):
    """The job pages translate a kind's label: every registered label has its English in
    the catalogue (it is marked ``N_`` where the feature registers the kind)."""
    from pathlib import Path

    from babel.messages.pofile import read_po

    assert {"import", "export", "comparison", "print_run", "aid_propose", "aid_approve"} <= set(jobs.KINDS)
    po = Path(jobs.__file__).resolve().parents[1] / "translations" / "en" / "LC_MESSAGES" / "messages.po"
    with open(po, "rb") as f:
        english = {m.id: m.string for m in read_po(f) if m.id}
    assert all(english.get(kind.label) for kind in jobs.KINDS.values()), \
        [k.label for k in jobs.KINDS.values() if not english.get(k.label)]
