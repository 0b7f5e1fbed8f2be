"""Factories for case tests: a township, a school and children made directly."""

from datetime import date

import pytest

from edu_guard.db import db
from edu_guard.registry.models import Child, Enrollment, Guardian, School, Township


@pytest.fixture
def make_child(app_ctx):
    """Factory: ``make_child(name, id_number, school=None)`` → an enrolled child with a
    guardian. Without ``school`` a default township 勐罕镇 and school 勐罕中心小学 are used."""
    made = {}

    def default_school():
        if "school" not in made:
            town = Township(county_code="532801", name="勐罕镇")
            made["school"] = School(code="2153280177", name="勐罕中心小学", stage="小学", township=town, county_code="532801")
            db.session.add(made["school"])
            db.session.flush()
        return made["school"]

    def make(name="岩温", id_number="532801200901142690", school=None, birth=None, sex=None,
             address="景洪市勐罕镇曼听村委会曼听村12号"):
        from stdnum.cn import ric

        school = school or default_school()
        child = Child(id_number=id_number, name=name, sex=sex or ("男" if int(id_number[16]) % 2 else "女"),
                      birth_date=birth or ric.get_birth_date(id_number), ethnicity="傣族", township=school.township,
                      address=address)
        # The father's ID number: born 1 Jan 1980 in 勐海县 (532822; 景洪市's 532801 dates
        # from 1993), with its GB 11643 check character (calc_check_digit reads the first 17).
        father = "53282219800101" + id_number[14:16] + "1"
        father += ric.calc_check_digit(father + "0")
        child.guardians.append(Guardian(name=f"{name}之父", relation="父亲", phone="13800000000", address=address,
                                        id_number=father))
        db.session.add(child)
        db.session.add(Enrollment(child=child, school=school, grade="六年级", class_name="1班", status="在读"))
        db.session.commit()
        return child

    return make


@pytest.fixture
def today_is(monkeypatch):
    """Set the clock's idea of today: ``today_is(date(2021, 3, 1))``."""
    from edu_guard import clock

    def set_today(day: date):
        monkeypatch.setattr(clock, "today", lambda: day)

    return set_today


@pytest.fixture
def login(client):
    """Sign ``user`` in on the test client (Flask-Login's session key): ``login(user)``."""

    def sign_in(user):
        from flask import g

        # Requests reuse the test's pushed app context, so drop Flask-Login's cached user.
        g.pop("_login_user", None)
        with client.session_transaction() as session:
            session["_user_id"] = user.get_id()
            session["_fresh"] = True
        return client

    return sign_in




@pytest.fixture
def letters_ready(app_ctx):
    """An app context that prints letters (the system fonts, through fontconfig)."""
    return app_ctx
