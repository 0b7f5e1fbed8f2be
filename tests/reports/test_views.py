"""Report, ledger and dashboard pages, scoped by role."""

import io
from datetime import date

import openpyxl
import pytest

from edu_guard.db import db
from edu_guard.registry.models import School


@pytest.fixture
def two_cases(make_child, today_is):
    from edu_guard.cases import services
    from edu_guard.registry.models import Township

    today_is(date(2021, 4, 30))
    a = make_child()
    other_town = Township(county_code="532801", name="嘎洒镇")
    other = School(code="2153280101", name="嘎洒中心小学", stage="小学", township=other_town, county_code="532801")
    b = make_child("玉香", "532801201003041228", school=other)
    case_a = services.open_case(a, reason="厌学", opened_on=date(2021, 4, 6))
    services.open_case(b, reason="外出务工", opened_on=date(2021, 3, 10))
    services.log_home_visit(a, visited_on=date(2021, 4, 7), visitors="李老师", form="入户", findings="在家", case=case_a)
    db.session.commit()
    return a, b


def test_month_report_page_export_and_print(two_cases, make_user, login):
    client = login(make_user("clerk"))
    page = client.get("/reports?period=month&date=2021-04-30").text
    assert "2021-04-01" in page and "勐罕镇" in page and "嘎洒镇" in page and "家访（人次）" in page
    book = openpyxl.load_workbook(io.BytesIO(client.get("/reports?period=month&date=2021-04-30&format=xlsx").data))
    rows = {r[0]: r for r in book.active.iter_rows(min_row=3, values_only=True)}
    assert rows["勐罕镇"][1:5] == (0, 1, 0, 1)  # open at start, new, closed, open at end
    assert rows["嘎洒镇"][1:5] == (1, 0, 0, 1)
    assert rows["合计"][13] == 1  # one home visit
    assert "data-print-now" in client.get("/reports?period=month&date=2021-04-30&print=1").text  # app.js prints
    custom = client.get("/reports?from=2021-03-01&to=2021-03-31").text
    assert "2021-03-01" in custom and "2021-03-31" in custom and "统计表" in custom
    assert "开始日期不能晚于结束日期" in client.get("/reports?from=2021-04-01&to=2021-03-01").text


def test_school_user_sees_only_the_school(two_cases, make_user, login):
    a, _b = two_cases
    user = make_user("school", "sch", school=a.current_enrollment.school)
    client = login(user)
    page = client.get("/reports?period=month&date=2021-04-30").text
    assert "勐罕镇" in page and "嘎洒镇" not in page
    ledger = client.get("/reports/ledgers/dropouts").text
    assert a.name in ledger and "玉香" not in ledger and "劝返记录" in ledger


def test_ledgers_and_dashboard(two_cases, make_user, login):
    client = login(make_user("auditor", "aud"))
    ledger = client.get("/reports/ledgers/dropouts").text
    assert "532801********2690" in ledger  # masked for auditors
    school_age = client.get("/reports/ledgers/school_age?date=2021-04-30").text
    assert "玉香" in school_age and "共 2 条" in school_age
    book = openpyxl.load_workbook(io.BytesIO(client.get("/reports/ledgers/dropouts?format=xlsx").data))
    assert book["辍学台账"].max_row == 4 and book["劝返记录"].max_row == 3  # title and header above the rows
    dash = client.get("/reports/dashboard").text
    assert "第一步 宣传教育（劝返）" in dash and "<svg" in dash
    assert client.get("/reports/ledgers/nope").status_code == 404


def test_reports_and_ledgers_open_as_of_the_past_term_being_entered(two_cases, make_user, login, today_is):
    """A county entering the 2021 spring term after the fact (today 2026-11-30): with no
    date asked for, the month report and the school-age ledger are as of the term's
    first day, not today, and the ledger's basis date is a field the clerk can change."""
    from edu_guard.registry.terms import Term

    db.session.add(Term(code="2021-spring", name="2021年春季学期", start=date(2021, 3, 1), end=date(2021, 7, 9),
                        school_days=90))
    db.session.commit()
    today_is(date(2026, 11, 30))
    client = login(make_user("clerk"))
    assert 'name="date" value="2021-03-01"' in client.get("/reports").text
    ledger = client.get("/reports/ledgers/school_age").text
    assert 'name="date" value="2021-03-01"' in ledger
    assert 'name="date" value="2021-04-30"' in client.get("/reports/ledgers/school_age?date=2021-04-30").text
