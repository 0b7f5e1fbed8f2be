"""The gaps closed after several counties came into one database (issue 11 item 5): the
province's 人数 beside 人次, letters that name no case, and the county of CLI runs, and
user management limited to the admin's county. The three counties of
tests/auth/test_province_scope.py."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa

from edu_guard.auth.models import User

from edu_guard.aid.models import Payment, PaymentBatch, PaymentReversal
from edu_guard.db import db
from edu_guard.letters.models import Letter
from edu_guard.registry.models import School
from tests.auth.test_province_scope import _id, province  # noqa: F401  (the fixture)


def test_the_province_aid_page_counts_children_beside_payments(client, login, province, make_child):  # noqa: F811
    """景洪市's child 岩温 is paid under two schemes in the term (500.00 yuan 生活补助 and
    300.00 yuan of a county scheme ``nutrition``): 1 人数 and 1 人次 in each scheme, and in
    the county's total 2 人次 but 1 人数, 0.0800 万元. A second child of 景洪市 is paid 200.00 and the payment reversed: it counts
    neither in 人次 nor in 人数. The other two counties: 1 人数, 1 人次, 0.0500 each.
    Grand total: 3 人数 (three children), 4 人次, 0.1800 万元."""
    users, objects = province
    first = db.session.get(Payment, objects["532801"]["payment"])
    batch = PaymentBatch(term_id=first.term_id, scheme_code="nutrition", paid_on=date(2021, 4, 1))
    db.session.add(Payment(child_id=first.child_id, scheme_code="nutrition", term_id=first.term_id,
                           stage="小学", amount_fen=30000, batch=batch, paid_on=date(2021, 4, 1),
                           school_id=first.school_id))
    other = make_child("岩罕", _id("53280120090505123"), school=db.session.get(School, first.school_id))
    reversed_ = Payment(child_id=other.id, scheme_code="compulsory_living", term_id=first.term_id, stage="小学",
                        amount_fen=20000, batch=batch, paid_on=date(2021, 4, 1), school_id=first.school_id)
    db.session.add(reversed_)
    db.session.flush()
    db.session.add(PaymentReversal(payment_id=reversed_.id, reason="重复发放"))
    db.session.commit()
    login(users["province"])
    text = client.get("/province/aid?year=2021").get_data(as_text=True)
    # per scheme: 人数, 人次, 金额, 脱贫人次; then the county's 人数, 人次, 金额
    assert ("<td>景洪市</td><td>西双版纳州</td>\n    <td>1</td><td>1</td><td>0.0500</td><td>0</td>"
            "<td>1</td><td>1</td><td>0.0300</td><td>0</td>\n    <td>1</td><td>2</td><td>0.0800</td></tr>") in text
    assert ("<td>勐海县</td><td>西双版纳州</td>\n    <td>1</td><td>1</td><td>0.0500</td><td>0</td>"
            "<td>0</td><td>0</td><td>0.0000</td><td>0</td>\n    <td>1</td><td>1</td><td>0.0500</td></tr>") in text
    # the grand total: 3 children under 生活补助 (3 payments), 1 under nutrition; 3 children, 4 payments
    assert ("<td>3</td><td>3</td><td>0.1500</td><td>0</td><td>1</td><td>1</td><td>0.0300</td><td>0</td>\n"
            "    <td>3</td><td>4</td><td>0.1800</td></tr>") in text


def _letter(n: int, creator_id: int | None) -> int:
    letter = Letter(kind="notice", issuer_name="教育体育局", issuer_code="教体函", kind_mark="函", year=2021,
                    seq=100 + n, doc_number=f"教体函〔2021〕{100 + n}号", issued_on=date(2021, 3, 3),
                    title="通知", recipient="各学校", context={}, created_by_id=creator_id)
    db.session.add(letter)
    db.session.commit()
    return letter.id


def test_a_letter_naming_no_case_is_seen_by_its_issuing_county_only(app, province, make_user):  # noqa: F811
    """A notice naming no case, issued by a clerk of 景洪市, is read by 景洪市's clerk and
    not by 勐海县's; one issued from the CLI (no user) by neither (it is no county's)."""
    from flask_login import login_user

    users, objects = province
    menghai = make_user("clerk")
    menghai.division_code = "532822"
    db.session.commit()
    ours, theirs, nobodys = _letter(1, users["clerk"].id), _letter(2, menghai.id), _letter(3, None)
    for user_id, seen in ((users["clerk"].id, {ours, objects["532801"]["letter"]}),
                          (menghai.id, {theirs, objects["532822"]["letter"]})):
        db.session.expunge_all()
        with app.test_request_context("/"):
            login_user(db.session.get(User, user_id))
            linked = {objects[c]["letter"] for c in objects}
            got = set(db.session.execute(sa.select(Letter.id)).scalars())
            assert got - linked == seen - linked and nobodys not in got
            assert db.session.get(Letter, theirs if user_id != menghai.id else ours) is None
