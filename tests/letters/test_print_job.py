"""A print run (批量打印) chosen on the letters page is a job: the worker lays the
letters out and leaves one PDF, which only the clerk who asked downloads; a run that
cannot print leaves no file."""

from __future__ import annotations

from datetime import date

from edu_guard.db import db
from edu_guard.jobs import services as jobs
from edu_guard.jobs.models import Job
from edu_guard.letters.services import context_for_case, issue_letter, issuer_for


def _order(case):
    return issue_letter("order_to_correct", context_for_case("order_to_correct", case, deadline=date(2021, 3, 22)),
                        issuer=issuer_for("order_to_correct", case), cases=[case], issued_on=date(2021, 3, 8))


def test_a_print_run_is_a_job_whose_pdf_only_its_owner_downloads(client, login, make_case, make_user, pdf_pages):
    letters = [_order(make_case(name=f"学生{i}", guardian=f"家长{i}")) for i in range(3)]
    db.session.commit()
    clerk, other = make_user("clerk"), make_user("clerk", username="clerk2")
    login(clerk)
    resp = client.post("/letters/print", data={"letter_id": [letters[2].id, letters[0].id]})
    assert resp.status_code == 302 and resp.location.startswith("/jobs/")
    job_id = int(resp.location.rsplit("/", 1)[1])
    state = client.get(f"/jobs/{job_id}.json").get_json()
    assert state["state"] == "done" and state["download"] == f"/jobs/{job_id}/file"
    assert "已生成 2 份文书的 PDF" in client.get(f"/jobs/{job_id}").text
    pdf = client.get(f"/jobs/{job_id}/file")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    pages = pdf_pages(pdf.data)
    pdf.close()
    starts = [p for p in pages if "责令限期改正通知书" in p[:20]]
    assert [letters[2].doc_number in starts[0], letters[0].doc_number in starts[1]] == [True, True]  # in the order chosen
    assert all(letters[1].doc_number not in p for p in pages)
    login(other)  # a colleague sees the job (the county's), but not its file
    assert client.get(f"/jobs/{job_id}.json").status_code == 200
    assert client.get(f"/jobs/{job_id}/file").status_code == 404


def test_a_print_run_that_fails_leaves_no_file(client, login, make_case, make_user, monkeypatch):
    letter = _order(make_case())
    db.session.commit()
    clerk = make_user("clerk")
    login(clerk)

    def broken(letters, progress=None):
        raise RuntimeError("WeasyPrint crashed")

    from edu_guard.letters import services

    monkeypatch.setattr(services, "print_run", broken)
    resp = client.post("/letters/print", data={"letter_id": [letter.id]})
    job_id = int(resp.location.rsplit("/", 1)[1])
    job = db.session.get(Job, job_id)
    db.session.refresh(job)
    assert job.state == "failed" and "内部错误" in job.error and job.result is None
    assert not any(jobs.results_dir().iterdir())  # no part, no file
    assert client.get(f"/jobs/{job_id}/file").status_code == 404
