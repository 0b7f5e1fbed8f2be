"""A clerk enters the 2021 spring term after the fact (today is years later): the 公示
starts and the approval is dated in the term, the forms propose such dates, and the
page says the term has ended (browser)."""

import re
from datetime import date

import sqlalchemy as sa

from edu_guard.aid.models import AidList, Payment, PaymentBatch
from edu_guard.db import db
from edu_guard.registry.models import School


def test_clerk_posts_and_approves_a_2021_list_with_2021_dates(county, spring, make_user, page, sign_in):
    make_user("clerk", username="clerk")
    sign_in(page, "clerk")
    page.goto("/aid/")
    page.select_option("select[name=scheme]", "compulsory_living")
    page.click("button:has-text('生成拟资助名单')")
    assert "份名单" in page.inner_text("main")

    school = db.session.execute(sa.select(School).where(School.code == "2153280177")).scalar_one()  # 勐罕中心小学
    db.session.expire_all()
    mine = db.session.execute(sa.select(AidList).where(AidList.school_id == school.id)).scalar_one()
    included = sum(e.included for e in mine.entries)
    page.goto(f"/aid/lists/{mine.id}")
    # The term ended long ago: the 公示 date proposed is the term's first day, with a note.
    post_date = page.locator("input[name=on]")
    assert post_date.input_value() == "2021-03-01"
    assert "属于已结束的2021年春季学期" in page.inner_text("main")
    post_date.fill("2021-03-10")  # Wednesday; five working days end Wednesday 17 March
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("button:has-text('审核完毕，开始公示')")
    assert "已公示：2021-03-10 至 2021-03-17" in page.inner_text("main")

    # Approval: proposed the first working day after the posting period, 18 March 2021.
    approve_date = page.locator("form:has(button:has-text('审批并发放')) input[name=on]")
    assert approve_date.input_value() == "2021-03-18"
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("button:has-text('审批并发放')")
    assert f"{included}人次" in page.inner_text("main")
    db.session.expire_all()
    batch = db.session.execute(sa.select(PaymentBatch)).scalar_one()
    assert batch.paid_on == date(2021, 3, 18)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Payment)) == included


def test_a_backdated_approval_shows_its_date_not_the_day_it_was_typed(county, make_user, login, today_is, client):
    """A 2021 list approved years later (today 2026-12-01) with the date 2021-03-18:
    the list page shows 审批日期 2021-03-18, the date of the act (the payments' date),
    not the day the clerk typed it in (found by QA: it said 2026-12-01 08:47)."""
    today_is(date(2026, 12, 1))
    clerk = make_user("clerk")
    login(clerk)
    client.post("/aid/terms", data={"code": "2021-spring", "start": "2021-03-01", "end": "2021-07-09",
                                    "school_days": "90"})
    client.post("/aid/terms/2021-spring/propose", data={"scheme": "compulsory_living"})
    school = db.session.execute(sa.select(School).where(School.code == "2153280177")).scalar_one()
    mine = db.session.execute(sa.select(AidList).where(AidList.school_id == school.id)).scalar_one()
    client.post(f"/aid/lists/{mine.id}/post", data={"on": "2021-03-10"})  # 公示 ends Wed 17 March 2021
    resp = client.post(f"/aid/lists/{mine.id}/approve", data={"on": "2021-03-18"}, follow_redirects=True)
    assert "人次" in resp.text
    page = client.get(f"/aid/lists/{mine.id}").text
    shown = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page))
    assert "审批日期 2021-03-18" in shown
    assert "审批时间 2026-12-01" not in shown
    login(make_user("school", school=school))  # the school sees the same date
    page = client.get(f"/aid/lists/{mine.id}").text
    assert "审批日期 2021-03-18" in re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page))
