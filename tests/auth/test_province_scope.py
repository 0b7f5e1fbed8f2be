"""Several counties in one database, and the users above them (docs/domain.md §6 "Above
the county").

Three counties: 景洪市 (532801) and 勐海县 (532822) under 西双版纳州 (532800), and 五华区
(530102) under 昆明市 (530100), all under 云南省 (530000); a school, a child and every
kind of object in each (the objects of tests/auth/test_scope_matrix.py). A county clerk
of 景洪市 opens every page that names an object of 勐海县: never the object. A prefecture
and a province user open every page that names any object: never the object (they see
aggregates only), and their two pages show the sums of their counties and no other's.
"""

from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa

from edu_guard.aid.models import Term
from edu_guard.auth import scoping
from edu_guard.auth.models import User
from edu_guard.db import db
from edu_guard.registry.models import Child, Division, School, Township
from tests.auth.test_scope_matrix import OTHER_KEYS, OWN_PAGES, _school_objects, _url

COUNTIES = {  # code → (name, prefecture, school code, township, school, child, ID number)
    "532801": ("景洪市", "532800", "2153280101", "勐罕镇", "勐罕中心小学", "岩温", "532801200901142694"),
    "532822": ("勐海县", "532800", "2153282201", "勐遮镇", "勐遮中心小学", "玉香", "532822200902031220"),
    "530102": ("五华区", "530100", "2153010201", "华山街道", "华山小学", "张明", "530102200903051234"),
}


def _id(first17: str) -> str:
    """The ID number with its GB 11643 check character."""
    weights = [pow(2, 17 - i, 11) for i in range(17)]
    return first17 + "10X98765432"[sum(int(c) * w for c, w in zip(first17, weights)) % 11]


@pytest.fixture
def province(app_ctx, make_child, make_user, today_is):
    """The tree, the three counties with their objects, and their users."""
    today_is(date(2021, 3, 5))
    db.session.add_all([
        Division(code="530000", name="云南省", level="province"),
        Division(code="532800", name="西双版纳州", level="prefecture", parent_code="530000"),
        Division(code="530100", name="昆明市", level="prefecture", parent_code="530000"),
    ])
    db.session.flush()
    for code, (name, pref, *_rest) in COUNTIES.items():
        db.session.add(Division(code=code, name=name, level="county", parent_code=pref))
    term = Term(code="2021-spring", name="2021年春季学期", start=date(2021, 3, 1), end=date(2021, 7, 9), school_days=90)
    db.session.add(term)
    db.session.commit()
    objects, n = {}, 0
    for code, (_name, _pref, school_code, town, school_name, child_name, id_number) in COUNTIES.items():
        n += 1
        school = School(code=school_code, name=school_name, stage="小学", county_code=code,
                        township=Township(county_code=code, name=town))
        db.session.add(school)
        db.session.commit()
        child = make_child(child_name, _id(id_number[:17]), school=school)
        child.township_id = school.township_id
        objects[code] = _school_objects(school, child, term, n)

    def user(role, division):
        u = make_user(role)
        u.division_code = division
        db.session.commit()
        return u

    users = {"clerk": user("clerk", "532801"), "prefecture": user("prefecture", "532800"),
             "province": user("province", "530000")}
    return users, objects


def test_every_scoped_model_has_a_county_rule():
    assert set(scoping.scoped_models()) <= set(scoping.county_scoped_models())


@pytest.mark.parametrize("role", ["clerk", "prefecture", "province"])
def test_no_object_outside_the_county_and_none_above_it(app, client, login, province, role):
    """A county clerk sees its county's objects and never another county's; a
    prefecture or province user sees no object at all (403 or 404 on every route)."""
    users, objects = province
    login(users[role])
    theirs = [objects["532822"], objects["530102"]] if role == "clerk" else list(objects.values())
    checked = 0
    for rule in app.url_map.iter_rules():
        if not rule.arguments or rule.endpoint in OTHER_KEYS:
            continue
        for ids in theirs:
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                answer = client.open(_url(rule, ids), method=method, data={})
                if rule.endpoint == "auth.user_edit" or rule.endpoint == "auth.user_set_active":
                    continue  # user 1 is no county's object (tests/auth/test_users.py)
                assert answer.status_code in (403, 404), f"{role} {method} {rule.endpoint}: {answer.status_code}"
                checked += 1
        if role == "clerk" and rule.endpoint in OWN_PAGES:
            mine = client.get(_url(rule, objects["532801"]))
            assert mine.status_code == 200, f"clerk GET {rule.endpoint} of its own county: {mine.status_code}"
    assert checked >= 70


@pytest.mark.parametrize("role", ["clerk", "prefecture", "province"])
def test_lists_show_the_county_or_nothing(client, login, province, role):
    users, objects = province
    login(users[role])
    for page in ("/children", "/cases", "/children?q=岩温", "/children?q=玉香"):
        kind = "cases" if page == "/cases" else "children"
        links = {code: f'href="/{kind}/{o[kind[:-1] if kind == "cases" else "child"]}"' for code, o in objects.items()}
        text = client.get(page).get_data(as_text=True)
        assert links["532822"] not in text and links["530102"] not in text, page
        if role == "clerk" and "玉香" not in page:
            assert links["532801"] in text, page
        elif role != "clerk":
            assert links["532801"] not in text, page


def test_reads_in_a_county_clerks_request_are_the_countys(app, province):
    from flask_login import login_user

    users, _objects = province
    user_id = users["clerk"].id
    db.session.expunge_all()
    with app.test_request_context("/"):
        login_user(db.session.get(User, user_id))
        assert db.session.execute(sa.select(Child.name)).scalars().all() == ["岩温"]
        from edu_guard.aid.models import Payment

        assert db.session.execute(sa.select(sa.func.count(Payment.id))).scalar_one() == 1


@pytest.mark.parametrize("role", ["clerk", "township", "school", "auditor"])
def test_the_aggregate_pages_are_for_prefecture_and_province_users_only(client, login, make_user, province, role):
    users, _objects = province
    login(users["clerk"] if role == "clerk" else make_user(role))
    assert client.get("/province/aid?year=2021").status_code == 403
    assert client.get("/province/monthly?month=2021-03").status_code == 403


def _unreversed(objects, codes=None) -> None:
    """Take back the reversal that tests/auth/test_scope_matrix.py makes of each county's
    payment (its reversal pages need one), so that the payment counts in the aid figures."""
    from edu_guard.aid.models import PaymentReversal

    for code, ids in objects.items():
        if codes is None or code in codes:
            db.session.execute(sa.delete(PaymentReversal).where(PaymentReversal.payment_id == ids["payment"]))
    db.session.commit()


def test_the_province_sees_the_aid_of_each_of_its_counties(client, login, province):
    """One payment of 500.00 yuan (50,000 fen) in each county's 2021 spring term: 1 人次
    and 0.0500 万元 a county, 3 and 0.1500 in total."""
    users, objects = province
    _unreversed(objects)
    login(users["province"])
    text = client.get("/province/aid?year=2021").get_data(as_text=True)
    for name in ("景洪市", "勐海县", "五华区"):
        assert f"<td>{name}</td>" in text
    assert text.count("<td>0.0500</td>") == 6  # the scheme's and the county's total, per county
    assert "<td>3</td><td>0.1500</td>" in text
    assert "岩温" not in text and "532801200901142694" not in text


def test_the_prefecture_sees_its_counties_and_no_other(client, login, province):
    users, objects = province
    _unreversed(objects)
    login(users["prefecture"])
    aid = client.get("/province/aid?year=2021").get_data(as_text=True)
    assert "景洪市" in aid and "勐海县" in aid and "五华区" not in aid
    assert "<td>2</td><td>0.1000</td>" in aid
    monthly = client.get("/province/monthly?month=2021-03").get_data(as_text=True)
    assert "景洪市" in monthly and "五华区" not in monthly


def test_the_monthly_report_counts_each_countys_cases(app_ctx, province):
    """Each county's case was opened on 2021-03-02 and is open at the end of March: a
    new case and one open at the month's end per county; none open at its start."""
    from edu_guard.reports import province as figures

    report = figures.monthly_by_county("530000", "2021-03")
    assert [r["name"] for r in report["rows"]] == ["五华区", "景洪市", "勐海县"]
    for row in report["rows"]:
        assert (row["open_at_start"], row["new"], row["closed"], row["open_at_end"]) == (0, 1, 0, 1)
    assert report["total"]["open_at_end"] == 3
    before = figures.monthly_by_county("532800", "2021-02")
    assert [r["new"] for r in before["rows"]] == [0, 0]


def test_the_home_page_sends_a_province_user_to_its_aggregates(client, login, province):
    users, _objects = province
    login(users["province"])
    answer = client.get("/")
    assert answer.status_code == 302 and answer.headers["Location"].endswith("/province/aid")


def test_a_superior_user_needs_a_division_of_its_level(app_ctx, province):
    from edu_guard.auth.services import UserInputError, create_user

    base = {"username": "yunnan", "display_name": "省厅", "password": "Xq7-mountain-river-42"}
    for role, code in (("province", None), ("province", "532800"), ("prefecture", "530000"), ("clerk", "532800")):
        with pytest.raises(UserInputError) as refused:
            create_user({**base, "role": role, "division_code": code})
        assert refused.value.field == "division_code"
    assert create_user({**base, "role": "prefecture", "division_code": "532800"}).division_code == "532800"
    assert create_user({**base, "username": "jh", "role": "clerk", "division_code": None}).division_code is None
