"""The gaps closed after several counties came into one database (issue 11 item 5): the
province's 人数 beside 人次, letters that name no case, and the county of CLI runs, and
user management limited to the admin's county. The three counties of
tests/auth/test_province_scope.py."""

from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa

from edu_guard.auth.models import User

from edu_guard.aid.models import Payment, PaymentBatch, PaymentReversal
from edu_guard.db import db
from edu_guard.letters.models import Letter
from edu_guard.registry.models import School
from tests.auth.test_province_scope import _id, _unreversed, province  # noqa: F401  (the fixture)


def test_the_province_aid_page_counts_children_beside_payments(client, login, province, make_child):  # noqa: F811
    """景洪市's child 岩温 is paid under two schemes in the term (500.00 yuan 生活补助 and
    300.00 yuan of a county's own scheme ``county_extra``): 1 人数 and 1 人次 in each scheme, and in
    the county's total 2 人次 but 1 人数, 0.0800 万元. A second child of 景洪市 is paid 200.00 and the payment reversed: it counts
    neither in 人次 nor in 人数. The other two counties: 1 人数, 1 人次, 0.0500 each.
    Grand total: 3 人数 (three children), 4 人次, 0.1800 万元."""
    users, objects = province
    _unreversed(objects)
    first = db.session.get(Payment, objects["532801"]["payment"])
    batch = PaymentBatch(term_id=first.term_id, scheme_code="county_extra", paid_on=date(2021, 4, 1))
    db.session.add(Payment(child_id=first.child_id, scheme_code="county_extra", term_id=first.term_id,
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
    # the grand total: 3 children under 生活补助 (3 payments), 1 under county_extra; 3 children, 4 payments
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


# --- user management limited to the administrator's county ------------------------


@pytest.fixture
def county_admin(province, make_user, login):  # noqa: F811
    """An admin of 景洪市, signed in; beside the fixture's 景洪市 clerk: a 勐海县 clerk, a
    township user of 勐遮镇 (勐海县) and a school user of 华山小学 (五华区), and a school user
    of 勐罕中心小学 (景洪市)."""
    users, _objects = province
    schools = {s.county_code: s for s in db.session.execute(sa.select(School)).scalars()}
    admin = make_user("admin", username="jh_admin")
    admin.division_code = "532801"
    menghai = make_user("clerk", username="mh_clerk")
    menghai.division_code = "532822"
    db.session.commit()
    others = {"mh_clerk": menghai,
              "mh_town": make_user("township", username="mh_town", township=schools["532822"].township),
              "wh_school": make_user("school", username="wh_school", school=schools["530102"])}
    ours = {"jh_school": make_user("school", username="jh_school", school=schools["532801"]),
            "jh_clerk": users["clerk"]}
    login(admin)
    return admin, ours, others, schools


def _new(client, **fields):
    data = {"username": "yan", "display_name": "岩温", "role": "clerk", "township_id": "", "school_id": "",
            "division_code": "", "password": "Tea-forest-Menghai-9"}
    data.update(fields)
    return client.post("/users/new", data=data)


def test_a_county_admin_lists_and_opens_its_countys_users_only(client, county_admin):
    admin, ours, others, _schools = county_admin
    text = client.get("/users").get_data(as_text=True)
    for user in ours.values():
        assert f"/users/{user.id}\"" in text
    for name, user in others.items():
        assert f"/users/{user.id}\"" not in text, name
        assert client.get(f"/users/{user.id}").status_code == 404, name
        assert client.post(f"/users/{user.id}", data={"display_name": "x", "role": "clerk"}).status_code == 404
        assert client.post(f"/users/{user.id}/unlock").status_code == 404, name
        assert client.post(f"/users/{user.id}/active", data={"active": "0"}).status_code == 404, name
        db.session.refresh(user)
        assert user.active and user.display_name == name
    assert client.get(f"/users/{ours['jh_school'].id}").status_code == 200


def test_a_county_admin_creates_users_of_its_county_at_or_below_its_level(client, county_admin):
    admin, _ours, _others, schools = county_admin
    # another county's township, school or division: not offered, refused, nothing created
    form = client.get("/users/new").text
    assert "勐罕镇" in form and "勐遮镇" not in form and "华山小学" not in form and "532822" not in form
    assert _new(client, role="township", township_id=schools["532822"].township_id).status_code == 200
    assert _new(client, role="school", school_id=schools["530102"].id).status_code == 200
    assert "只能管理本县的用户" in _new(client, division_code="532822").text
    # above the county: refused
    assert "不能设置高于本县层级的用户" in _new(client, role="province", division_code="530000").text
    assert "不能设置高于本县层级的用户" in _new(client, role="prefecture", division_code="532800").text
    assert db.session.execute(sa.select(User).where(User.username == "yan")).first() is None
    # a county clerk with no county chosen gets the admin's: it never sees every county
    assert _new(client).status_code == 302
    made = db.session.execute(sa.select(User).where(User.username == "yan")).scalar_one()
    assert made.division_code == "532801"


def test_a_county_admin_cannot_raise_its_user_above_the_county(client, county_admin):
    _admin, ours, _others, _schools = county_admin
    clerk = ours["jh_clerk"]
    answer = client.post(f"/users/{clerk.id}", data={"display_name": "clerk", "role": "province",
                                                      "division_code": "530000", "township_id": "", "school_id": ""})
    assert "不能设置高于本县层级的用户" in answer.text
    db.session.refresh(clerk)
    assert clerk.role == "clerk" and clerk.division_code == "532801"


def test_an_admin_without_a_county_manages_everyone(client, login, county_admin, make_user):
    _admin, ours, others, _schools = county_admin
    login(make_user("admin", username="root_admin"))
    text = client.get("/users").get_data(as_text=True)
    for user in [*ours.values(), *others.values()]:
        assert f"/users/{user.id}\"" in text
        assert client.get(f"/users/{user.id}").status_code == 200


def test_a_county_admin_reads_its_countys_audit_rows_only(client, login, county_admin, make_user):
    """One audit row by 景洪市's clerk (child 9101) and one by 勐海县's (child 9202): the
    admin of 景洪市 reads the first only; an admin without a county reads both."""
    from edu_guard.auth.models import AuditLog

    admin, ours, others, _schools = county_admin
    db.session.add_all([AuditLog(user_id=ours["jh_clerk"].id, action="update", entity="child", entity_id=9101),
                        AuditLog(user_id=others["mh_clerk"].id, action="update", entity="child", entity_id=9202)])
    db.session.commit()
    text = client.get("/audit?entity=child").get_data(as_text=True)
    assert "9101" in text and "9202" not in text
    login(make_user("admin", username="root_admin"))
    text = client.get("/audit?entity=child").get_data(as_text=True)
    assert "9101" in text and "9202" in text


def test_the_service_refuses_another_countys_township_or_school(county_admin):
    """Past the form (a script, a plugin): the service itself keeps the admin's users in
    its county."""
    from edu_guard.auth import services
    from edu_guard.auth.services import UserInputError

    admin, _ours, _others, schools = county_admin
    base = {"username": "yan", "display_name": "岩温", "password": "Tea-forest-Menghai-9"}
    for data, field in (({"role": "township", "township_id": schools["532822"].township_id}, "township_id"),
                        ({"role": "school", "school_id": schools["530102"].id}, "school_id")):
        with pytest.raises(UserInputError) as refused:
            services.create_user({**base, **data}, by=admin)
        assert refused.value.field == field
    made = services.create_user({**base, "role": "school", "school_id": schools["532801"].id}, by=admin)
    assert made.school_id == schools["532801"].id


# --- runs made from the CLI carry the instance's county ------------------------------


def test_cli_runs_are_seen_by_the_instances_county_only(app, province, make_user):  # noqa: F811
    """An import and a comparison run with no user (the CLI) in an instance whose
    EDU_GUARD_COUNTY_CODE is 532801 (景洪市): recorded for 景洪市, seen by its clerk, not by
    勐海县's. A run made by 勐海县's clerk is recorded for 勐海县."""
    from flask_login import login_user

    from edu_guard.comparisons.models import ComparisonRun
    from edu_guard.comparisons.services import run_comparison
    from edu_guard.registry.models import ImportRun
    from edu_guard.registry.services import import_file

    users, _objects = province
    app.config["EDU_GUARD_COUNTY_CODE"] = "532801"
    menghai = make_user("clerk", username="mh_clerk")
    menghai.division_code = "532822"
    db.session.commit()
    csv = "学校标识码,学校名称,学段,乡镇（街道）,行政区划代码\n2153280102,勐罕第二小学,小学,勐罕镇,532801\n".encode()
    cli_import = import_file("schools", csv, "schools.csv").import_run_id
    cli_run, _ = run_comparison("disabled", as_of=date(2021, 3, 1))
    their_run, _ = run_comparison("disabled", as_of=date(2021, 3, 1), user=menghai)
    db.session.commit()
    assert db.session.get(ImportRun, cli_import).county_code == "532801"
    assert (cli_run.county_code, their_run.county_code) == ("532801", "532822")
    ids = (cli_run.id, their_run.id)
    for user_id, imports, runs in ((users["clerk"].id, {cli_import}, {ids[0]}), (menghai.id, set(), {ids[1]})):
        db.session.expunge_all()
        with app.test_request_context("/"):
            login_user(db.session.get(User, user_id))
            assert set(db.session.execute(sa.select(ImportRun.id)).scalars()) == imports
            assert set(db.session.execute(sa.select(ComparisonRun.id)).scalars()) & set(ids) == runs
