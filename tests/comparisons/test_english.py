"""Comparisons on English pages (issue 10 §5): refusals, the reasons stored with each row
and the job's summary are kept as catalogue messages and read in the reader's language;
the workbook stays Chinese.

The tests share one app context with their requests (``app_ctx``), where Flask-Babel
keeps the locale it chose: :func:`flask_babel.refresh` forgets it when a test changes
the language between requests."""

import io
from datetime import date

import openpyxl
import sqlalchemy as sa

from flask_babel import refresh

from edu_guard.comparisons.models import ComparisonRow, ComparisonRun
from edu_guard.db import db
from edu_guard.i18n import Message


def _run_household(client, demo_dir, lang=""):
    data = {"kind": "household", "as_of": "2021-04-30",
            "file": (io.BytesIO((demo_dir / "household_register_2021.csv").read_bytes()), "户籍.csv")}
    return client.post(f"/comparisons{lang}", data=data, content_type="multipart/form-data")


def test_refusal_reads_in_the_page_language(app_ctx, load, make_user, login, today_is):
    today_is(date(2021, 5, 6))
    load("schools.csv")
    client = login(make_user("clerk"))
    english = client.post("/comparisons?lang=en", data={"kind": "status", "as_of": "2021-06-01"},
                          follow_redirects=True).text
    assert "The reference date 2021-06-01 is after today (2021-05-06): it must be today or earlier" in english
    refresh()
    chinese = client.post("/comparisons?lang=zh", data={"kind": "status", "as_of": "2021-06-01"},
                          follow_redirects=True).text
    assert "比对基准日 2021-06-01 晚于今天（2021-05-06）：基准日只能是今天或以前的日期" in chinese


def test_stored_reasons_and_job_summary_read_in_english_later(app_ctx, load, make_user, login, demo_dir, today_is):
    today_is(date(2021, 5, 6))
    load("schools.csv", "roster_2021_spring.xlsx", "status_changes_2021.csv")
    client = login(make_user("clerk"))
    resp = _run_household(client, demo_dir)  # run in Chinese
    run = db.session.execute(sa.select(ComparisonRun)).scalar_one()
    # stored as the message and its arguments, not as Chinese text
    raw = db.session.execute(sa.text("SELECT reason FROM comparison_row WHERE category = 'out_of_school'")).scalars().all()
    assert raw and all(r.startswith('{"_msg"') for r in raw)
    row = db.session.execute(sa.select(ComparisonRow).where(ComparisonRow.category == "out_of_school")).scalars().first()
    assert isinstance(row.reason, Message)

    job_en = client.get(resp.location + "?lang=en").text
    assert f"Comparison finished: {run.total} rows in all" in job_en
    assert "Data comparison" in job_en and "Done" in job_en and "比对完成" not in job_en
    refresh()
    job_zh = client.get(resp.location + "?lang=zh").text
    assert f"比对完成：共 {run.total} 行" in job_zh and "数据比对" in job_zh and "已完成" in job_zh
    refresh()
    listing = client.get("/jobs?lang=en").text
    assert "Data comparison" in listing and "Done" in listing

    refresh()
    english = client.get(f"/comparisons/{run.id}?category=out_of_school&lang=en").text
    assert "suspected dropout" in english and "疑似失学辍学" not in english
    refresh()
    chinese = client.get(f"/comparisons/{run.id}?category=out_of_school&lang=zh").text
    assert "适龄未入学，疑似失学辍学" in chinese

    # the workbook is a Chinese document whatever the page's language
    refresh()
    book = openpyxl.load_workbook(io.BytesIO(client.get(f"/comparisons/{run.id}.xlsx?lang=en").data))
    reasons = [r[4].value for r in book["明细"].iter_rows(min_row=3)]
    assert any("疑似失学辍学" in (v or "") for v in reasons)
    assert not any("dropout" in (v or "") for v in reasons)


def test_opening_cases_closes_entries_with_a_translated_reason(app_ctx, load, make_user, login, demo_dir, today_is):
    today_is(date(2021, 5, 6))
    load("schools.csv", "roster_2021_spring.xlsx", "status_changes_2021.csv")
    client = login(make_user("clerk"))
    _run_household(client, demo_dir)
    run = db.session.execute(sa.select(ComparisonRun)).scalar_one()
    row = db.session.execute(sa.select(ComparisonRow).where(ComparisonRow.category == "out_of_school")).scalars().first()
    client.post(f"/comparisons/{run.id}/open-cases", data={"row_id": [row.id]})
    db.session.expire_all()
    row = db.session.get(ComparisonRow, row.id)
    assert row.closed_reason == f"已立案（个案 {row.case_id}），转入辍学台账"
    refresh()
    english = client.get(f"/comparisons/{run.id}?category=out_of_school&lang=en").text
    assert f"Case opened (case {row.case_id}), moved to the dropout ledger" in english
    # the case's note (kept as text) stays Chinese
    from edu_guard.cases.models import DropoutCase
    case = db.session.get(DropoutCase, row.case_id)
    note = getattr(case, "reason_note", None)
    assert note is None or "疑似失学辍学" in note


def test_the_enrolment_status_inside_a_reason_reads_in_english(app_ctx, load, make_user, login, demo_dir, today_is):
    """"formerly 勐龙中学, enrolment status: Transferred out": the school is data, the
    status is the registry's own word; the workbook keeps 学籍状态：转出."""
    today_is(date(2021, 5, 6))
    load("schools.csv", "roster_2021_spring.xlsx", "status_changes_2021.csv")
    client = login(make_user("clerk"))
    _run_household(client, demo_dir)
    run = db.session.execute(sa.select(ComparisonRun)).scalar_one()
    refresh()
    english = client.get(f"/comparisons/{run.id}?category=out_of_school&lang=en").text
    assert "enrolment status: Transferred out)" in english and "status: 转出" not in english
    refresh()
    chinese = client.get(f"/comparisons/{run.id}?category=out_of_school&lang=zh").text
    assert "学籍状态：转出）" in chinese
    refresh()
    book = openpyxl.load_workbook(io.BytesIO(client.get(f"/comparisons/{run.id}.xlsx?lang=en").data))
    reasons = [r[4].value or "" for r in book["明细"].iter_rows(min_row=3)]
    assert any("学籍状态：转出" in v for v in reasons) and not any("Transferred" in v for v in reasons)
