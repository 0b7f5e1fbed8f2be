"""``edu-guard children show|list`` within the user's scope, and typed numbers and names
normalised the same way everywhere (CLI, search, the aid 增补 form)."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from edu_guard.cli import cli
from edu_guard.db import db
from edu_guard.registry.models import Child, Enrollment, FamilyStatus, Guardian, School, Township

from .conftest import valid_id

YANWEN = valid_id("53280120090114269")
YUXIANG = valid_id("53280120100305002")


@pytest.fixture
def county(app_ctx):
    menghan = Township(county_code="532801", name="勐罕镇")
    gasa = Township(county_code="532801", name="嘎洒镇")
    s1 = School(code="2153280177", name="勐罕中心小学", stage="小学", township=menghan, county_code="532801")
    s2 = School(code="2153280181", name="嘎洒中心小学", stage="小学", township=gasa, county_code="532801")
    from stdnum.cn import ric

    def child(name, number, town, school, grade, student_number):
        made = Child(id_number=number, name=name, sex="男" if int(number[16]) % 2 else "女",
                     birth_date=ric.get_birth_date(number), township=town)
        made.guardians.append(Guardian(name=f"{name}之母", relation="母亲", phone="13900000000"))
        db.session.add(made)
        db.session.add(Enrollment(child=made, school=school, grade=grade, class_name="1班",
                                  student_number=student_number, status="在读"))
        return made

    child("岩温", YANWEN, menghan, s1, "六年级", "G" + YANWEN)
    child("玉香·岩罕", YUXIANG, gasa, s2, "五年级", "L532801201003050001")
    db.session.add(FamilyStatus(id_number=YANWEN, name="岩温", kind="脱贫户", source="monitoring_households"))
    db.session.commit()
    return {"menghan": menghan, "gasa": gasa, "s1": s1, "s2": s2}


def invoke(app, *args):
    return app.test_cli_runner().invoke(cli, list(args), catch_exceptions=False)


def fullwidth(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if c.isascii() and c.isalnum() else c for c in text)


def test_children_show_json(app, county):
    typed = fullwidth(YANWEN[:6]) + " " + YANWEN[6:]  # full-width digits and a space, as pasted
    result = invoke(app, "children", "show", typed, "--json")
    assert result.exit_code == 0, result.output
    record = json.loads(result.stdout)
    assert record["name"] == "岩温"
    assert (record["id_type"], record["id_number"], record["sex"]) == ("居民身份证", YANWEN, "男")
    assert record["birth_date"] == "2009-01-14"
    assert (record["township"], record["village"]) == ("勐罕镇", None)
    assert [s["kind"] for s in record["family_statuses"]] == ["脱贫户"]
    assert record["guardians"] == [{"name": "岩温之母", "relation": "母亲", "phone": "13900000000"}]
    assert record["enrollments"] == [{"school": "勐罕中心小学", "school_code": "2153280177", "grade": "六年级",
                                      "class": "1班", "student_number": "G" + YANWEN, "status": "在读"}]
    assert record["open_cases"] == []


def test_children_show_by_student_number_and_scope(app, county, make_user):
    school_user = make_user("school", school=county["s1"])
    found = invoke(app, "children", "show", "l532801201003050001", "--json")
    assert json.loads(found.stdout)["name"] == "玉香·岩罕"
    hidden = invoke(app, "children", "show", YUXIANG, "--as", school_user.username)
    assert hidden.exit_code != 0 and "不在您的数据范围内" in hidden.output


def test_children_list_filters_and_scope(app, county, make_user):
    def names(*args):
        result = invoke(app, "children", "list", "--json", *args)
        assert result.exit_code == 0, result.output
        return [r["name"] for r in json.loads(result.stdout)]

    assert names() == ["岩温", "玉香·岩罕"]
    assert names("--school", "2153280181") == ["玉香·岩罕"]
    assert names("--school", "勐罕中心小学") == ["岩温"]
    assert names("--township", "嘎洒镇") == ["玉香·岩罕"]
    township_user = make_user("township", township=county["menghan"])
    assert names("--as", township_user.username) == ["岩温"]
    assert names("--as", township_user.username, "--school", "2153280181") == []


def test_cases_open_takes_a_full_width_number(app, county):
    result = invoke(app, "cases", "open", fullwidth(YANWEN), "--reason", "厌学", "--on", "2021-03-01")
    assert result.exit_code == 0, result.output
    assert "没有" not in result.output


@pytest.mark.parametrize("q", ["玉香·岩罕", "玉香岩罕", "玉香•岩罕", "玉香・岩罕", "玉香．岩罕", "玉香‧岩罕", "岩罕"])
def test_search_finds_a_name_with_or_without_its_dot(county, q):
    from edu_guard.registry.search import child_condition

    found = db.session.execute(sa.select(Child.name).where(child_condition(q))).scalars().all()
    assert found == ["玉香·岩罕"]


def test_number_search_normalises_as_the_importers(county):
    from edu_guard.registry.search import child_condition

    lower = YUXIANG[:-1] + YUXIANG[-1].lower()
    for q in (fullwidth(YUXIANG), " ".join([YUXIANG[:6], YUXIANG[6:14], YUXIANG[14:]]), lower):
        assert db.session.execute(sa.select(Child.name).where(child_condition(q))).scalars().all() == ["玉香·岩罕"]


def test_aid_addition_form_normalises_the_number(app):
    from werkzeug.datastructures import MultiDict

    from edu_guard.aid.forms import AddEntryForm

    typed = fullwidth(YANWEN[:9]) + "  " + YANWEN[9:]
    with app.test_request_context("/", method="POST"):
        form = AddEntryForm(formdata=MultiDict({"id_number": typed, "reason": "新转入"}))
        assert form.validate(), form.errors
        assert form.id_number.data == YANWEN


def test_names_get_one_dot_on_import():
    from edu_guard.registry.normalize import clean_person_name

    for typed in ("玉香·岩罕", "玉香•岩罕", "玉香・岩罕", "玉香．岩罕", "玉香‧岩罕", "玉香 · 岩罕", "玉香.岩罕"):
        assert clean_person_name(typed) == "玉香\u00b7岩罕"


def test_child_page_of_a_pupil_without_a_document_and_a_nameless_guardian(county, client, make_user, login):
    from datetime import date

    pupil = Child(id_number=None, id_type="无证件", name="无证生", sex="男", birth_date=date(2012, 2, 2))
    pupil.guardians.append(Guardian(name=None, phone="13900003333"))
    db.session.add(pupil)
    db.session.add(Enrollment(child=pupil, school=county["s1"], student_number="J532801201202020011", status="在读"))
    db.session.commit()
    login(make_user("clerk"))
    page = client.get(f"/children/{pupil.id}").text
    assert "无证件（仅有学籍号），请跟进办理" in page
    assert "（未填姓名）" in page and "13900003333" in page
    listing = client.get("/children", query_string={"q": "j532801201202020011"}).text
    assert "无证生" in listing
