"""A clerk enters the 2021 spring term after the fact (today is years later): the 公示
starts and the approval is dated in the term, the forms propose such dates, and the
page says the term has ended (browser)."""

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
