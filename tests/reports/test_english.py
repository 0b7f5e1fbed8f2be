"""Reports on English pages (issue 10 §5): a refusal reads in the page's language; the
printed report and the workbook, which go to superiors, stay Chinese.

The tests share one app context with their requests, where Flask-Babel keeps the locale it
chose: :func:`flask_babel.refresh` forgets it when a test changes the language."""

import io
from datetime import date

import openpyxl
from flask_babel import refresh

from edu_guard.db import db


def test_refusal_in_the_page_language_and_print_stays_chinese(app_ctx, make_child, make_user, login, today_is):
    from edu_guard.cases import services

    today_is(date(2021, 4, 30))
    services.open_case(make_child(), reason="厌学", opened_on=date(2021, 4, 6))
    client = login(make_user("clerk"))
    refresh()
    english = client.get("/reports?from=2021-04-30&to=2021-04-01&lang=en").text
    assert "The start date cannot be after the end date" in english
    refresh()
    chinese = client.get("/reports?from=2021-04-30&to=2021-04-01&lang=zh").text
    assert "开始日期不能晚于结束日期" in chinese
    refresh()
    printed = client.get("/reports?period=month&date=2021-04-30&print=1&lang=en").text
    assert "控辍保学月报" in printed and "填报单位" in printed and "审核人" in printed and "Reviewed" not in printed
    refresh()
    page = client.get("/reports?period=month&date=2021-04-30&lang=en").text
    assert "填报单位" not in page and "Township" in page
    refresh()
    book = openpyxl.load_workbook(io.BytesIO(client.get("/reports?period=month&date=2021-04-30&format=xlsx&lang=en").data))
    assert "控辍保学月报" in str(book.active["A1"].value)


def test_superior_refusal_reads_in_english(app_ctx, make_user, login):
    from edu_guard.db import db
    from edu_guard.registry.models import Division

    db.session.add(Division(code="530000", name="云南省", level="province"))
    db.session.commit()
    user = make_user("province")
    user.division_code = "530000"
    db.session.commit()
    client = login(user)
    refresh()
    english = client.get("/province/monthly?month=2021-13&lang=en").text
    assert "The month “2021-13” must be written as YYYY-MM" in english


def test_ledger_page_in_english_and_its_workbook_in_chinese(app_ctx, make_child, make_user, login, today_is):
    from edu_guard.cases import services

    today_is(date(2021, 4, 30))
    services.open_case(make_child(), reason="厌学", opened_on=date(2021, 4, 6))
    client = login(make_user("clerk"))
    refresh()
    page = client.get("/reports/ledgers/dropouts?lang=en").text
    assert "Ledger of dropouts" in page and "Case no." in page and "Month left school" in page
    assert "个案编号" not in page and "厌学" not in page
    refresh()
    book = openpyxl.load_workbook(io.BytesIO(client.get("/reports/ledgers/dropouts?format=xlsx&lang=en").data))
    cells = [c.value for row in book.active.iter_rows() for c in row]
    assert "个案编号" in cells and "厌学" in cells


def test_a_closed_entry_of_the_school_age_ledger_reads_in_the_page_language(app, app_ctx, make_child):
    from edu_guard.reports.ledgers import school_age_ledger
    from edu_guard.registry.models import StatusChange

    child = make_child()
    child.enrollments[0].status = "转出"
    db.session.add(StatusChange(id_number=child.id_number, child=child, name=child.name, kind="转出",
                                changed_on=date(2021, 3, 15), to_school="昆明市第一中学"))
    db.session.commit()
    row = next(r for r in school_age_ledger(date(2021, 4, 30), app.config) if r["name"] == child.name)
    assert str(row["closed_reason"]) == "转出：昆明市第一中学" and row["closed_on"] == "2021-03-15"
    with app.test_request_context("/?lang=en"):
        refresh()
        assert str(row["closed_reason"]) == "Transferred out: 昆明市第一中学"
        assert row["closed_reason"].chinese() == "转出：昆明市第一中学"  # what the workbook writes
