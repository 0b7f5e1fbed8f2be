"""The aid pages as a clerk, a school user and an auditor use them."""

from __future__ import annotations

import re
from datetime import date

import sqlalchemy as sa

from edu_guard.aid.models import AidList, Payment, Term
from edu_guard.db import db
from edu_guard.registry.models import School


def test_clerk_and_school_walk_a_list_to_payment(county, make_user, login, today_is, client):
    today_is(date(2021, 3, 10))
    clerk = make_user("clerk")
    login(clerk)
    resp = client.post("/aid/terms", data={"code": "2021-spring", "start": "2021-03-01", "end": "2021-07-09",
                                           "school_days": "90"}, follow_redirects=True)
    assert "已新增学期 2021-spring" in resp.text and "2021年春季学期" in resp.text
    bad = client.post("/aid/terms", data={"code": "2021-x", "start": "2021-03-01", "end": "2021-02-01",
                                          "school_days": "90"}, follow_redirects=True)
    assert "学期代码应形如" in bad.text
    resp = client.post("/aid/terms/2021-spring/propose", data={"scheme": "compulsory_living"}, follow_redirects=True)
    assert "义务教育家庭经济困难学生生活补助" in resp.text and "份名单" in resp.text
    school = db.session.execute(sa.select(School).where(School.code == "2153280177")).scalar_one()  # 勐罕中心小学
    mine = db.session.execute(sa.select(AidList).where(AidList.school_id == school.id)).scalar_one()
    other = db.session.execute(sa.select(AidList).where(AidList.school_id != school.id)).scalars().first()

    head = make_user("school", school=school)
    login(head)
    page = client.get(f"/aid/lists/{mine.id}")
    assert page.status_code == 200 and "勐罕中心小学" in page.text
    assert client.get(f"/aid/lists/{other.id}").status_code == 404  # another school's list
    listing = client.get("/aid/terms/2021-spring/lists").text
    assert listing.count("/aid/lists/") == 1
    entry = mine.entries[0]
    client.post(f"/aid/entries/{entry.id}/review", data={"included": "false", "reason": "已转学"})
    db.session.refresh(entry)
    assert not entry.included and entry.review_reason == "已转学"
    assert client.post(f"/aid/lists/{mine.id}/approve").status_code == 403  # schools do not approve
    resp = client.post(f"/aid/lists/{mine.id}/post", follow_redirects=True)
    assert "已公示：2021-03-10 至 2021-03-17" in resp.text
    notice = client.get(f"/aid/lists/{mine.id}/notice").text
    shown = [e for e in mine.entries if e.included]
    assert f"拟对以下{len(shown)}名学生" in notice and "2021年3月10日至2021年3月17日" in notice
    assert "监督（举报）电话" in notice and "学校盖章" in notice and "default" not in notice
    assert shown[0].child.id_number not in notice  # masked
    assert shown[0].child.id_number[:6] + "********" + shown[0].child.id_number[-4:] in notice

    login(clerk)
    early = client.post(f"/aid/lists/{mine.id}/approve", follow_redirects=True)
    assert "公示期满后方可审批" in early.text
    today_is(date(2021, 3, 18))
    resp = client.post(f"/aid/lists/{mine.id}/approve", follow_redirects=True)
    assert f"{len(shown)}人次" in resp.text
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Payment)) == len(shown)
    payments = client.get("/aid/terms/2021-spring/payments").text
    assert "银行代发文件" in payments
    xlsx = client.get("/aid/batches/1/bank.xlsx")
    assert xlsx.status_code == 200 and xlsx.data[:2] == b"PK"
    report = client.get("/aid/report?term=2021-spring").text
    assert re.search(rf"发放义务教育家庭经济困难学生生活补助{len(shown)}人次[\d.]+万元，其中：脱贫家庭学生\d+人次", report)
    assert "<svg" in report
    assert client.get("/aid/report.xlsx?term=2021-spring").data[:2] == b"PK"
    assert "2021年春季学期" in client.get("/aid/report?year=2021").text
    assert client.get("/aid/report.xlsx?term=&year=2021").data[:2] == b"PK"
    gaps = client.get("/aid/gaps?term=2021-spring").text
    assert "脱贫家庭（含监测对象）在读学生本学期未获资助" in gaps

    p = db.session.execute(sa.select(Payment)).scalars().first()
    client.post(f"/aid/payments/{p.id}/reverse", data={"reason": "重复"})
    db.session.refresh(p)
    assert p.reversal is not None


def test_auditor_reads_but_cannot_write(county, make_user, login, client):
    login(make_user("auditor"))
    assert client.get("/aid/").status_code == 200
    assert client.get("/aid/report").status_code == 200
    assert client.post("/aid/terms", data={"code": "2021-spring", "start": "2021-03-01", "end": "2021-07-09",
                                           "school_days": "90"}).status_code == 403
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Term)) == 0
    assert client.get("/aid/batches/1/bank.xlsx").status_code == 403


def test_school_user_cannot_see_the_county_report(county, make_user, login, client):
    school = db.session.execute(sa.select(School)).scalars().first()
    login(make_user("school", school=school))
    assert client.get("/aid/report").status_code == 403
    assert "学生资助" in client.get("/aid/").text


def test_notice_pdf_through_the_letters_renderer(county, spring, make_user, login, client, today_is, letters_ready):
    import io

    from pypdf import PdfReader

    from edu_guard.aid import services

    services.propose(spring, "compulsory_living")
    db.session.commit()
    lst = db.session.execute(sa.select(AidList).order_by(AidList.id)).scalars().first()
    today_is(date(2021, 3, 10))
    login(make_user("clerk"))
    assert client.get(f"/aid/lists/{lst.id}/notice.pdf").status_code == 404  # not posted yet
    services.post(lst)
    db.session.commit()
    resp = client.get(f"/aid/lists/{lst.id}/notice.pdf")
    assert resp.status_code == 200 and resp.data[:4] == b"%PDF"
    text = "".join((p.extract_text() or "") for p in PdfReader(io.BytesIO(resp.data)).pages)
    text = "".join(text.split())
    first = sorted(e.child.name for e in lst.entries if e.included)[0]
    assert "拟资助学生名单公示" in text and first in text
    assert lst.entries[0].child.id_number not in text
    # Chinese dates (posted Wed 10 March; five working days end Wed 17 March), the
    # supervision phone line, the seal's space, no internal codes.
    assert "公示期为2021年3月10日至2021年3月17日" in text
    assert "监督（举报）电话" in text and "学校盖章" in text
    assert "default" not in text and "compulsory_living" not in text


def test_payments_page_is_scoped(county, spring, make_user, login, client, today_is):
    from edu_guard.aid import services

    services.propose(spring, "compulsory_living")
    db.session.commit()
    today_is(date(2021, 3, 10))
    for lst in db.session.execute(sa.select(AidList)).scalars():
        services.post(lst)
    db.session.commit()
    today_is(date(2021, 3, 18))
    for lst in db.session.execute(sa.select(AidList)).scalars():
        services.approve(lst)
    db.session.commit()
    school = db.session.execute(sa.select(School).where(School.code == "2153280177")).scalar_one()
    own = db.session.scalar(sa.select(sa.func.count()).select_from(Payment).where(Payment.school_id == school.id))
    login(make_user("school", school=school))
    page = client.get("/aid/terms/2021-spring/payments").text
    assert f"共 {own} 条" in page
    assert "银行代发文件" not in page  # full ID numbers: bureau only
    login(make_user("clerk"))
    total = db.session.scalar(sa.select(sa.func.count()).select_from(Payment))
    assert f"共 {total} 条" in client.get("/aid/terms/2021-spring/payments").text
