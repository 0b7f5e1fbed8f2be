"""The case list and the roster in the browser read as clerks read them: township →
school (学校标识码) → grade (school order, 三年级 before 十…: not the text order) → class →
name; and the bulk letter's date follows the cases' own time (entered after the fact)."""

from datetime import date

from edu_guard.cases import services
from edu_guard.db import db
from edu_guard.registry.models import Child, Enrollment, School, Township


def _pupils():
    """Five pupils whose insertion order is the reverse of the clerk's order."""
    a = Township(county_code="532801", name="勐罕镇")
    b = Township(county_code="532801", name="景哈哈尼族乡")
    s1 = School(code="2153280177", name="勐罕中心小学", stage="小学", township=a, county_code="532801")
    s2 = School(code="2153280189", name="景哈中心小学", stage="小学", township=b, county_code="532801")
    db.session.add_all([s1, s2])
    # (school, grade, class, name, id number), listed last-first.
    rows = [(s1, "六年级", "1班", "岩温", "532801200901142694"),
            (s1, "三年级", "2班", "玉香", "532801201301121487"),
            (s1, "三年级", "1班", "岩罕", "532801201301124035"),
            (s2, "五年级", "1班", "宋桐馨", "532822201002236569"),
            (s2, "四年级", "1班", "白云", "532801201103071824")]
    children = []
    for school, grade, cls, name, idno in rows:
        child = Child(id_number=idno, name=name, sex="男", birth_date=date(int(idno[6:10]), int(idno[10:12]),
                                                                             int(idno[12:14])), township=school.township)
        db.session.add_all([child, Enrollment(child=child, school=school, grade=grade, class_name=cls, status="在读")])
        children.append(child)
    db.session.flush()
    return children


def test_case_list_in_the_clerks_order(app_ctx, make_user, page, sign_in):
    for n, child in enumerate(_pupils()):
        services.open_case(child, reason="厌学", opened_on=date(2021, 3, 1 + n))
    db.session.commit()
    make_user("clerk", username="clerk")
    sign_in(page, "clerk")
    page.goto("/cases")
    names = page.eval_on_selector_all("table.data tbody tr td:nth-child(3)", "tds => tds.map(t => t.innerText)")
    # Townships by name as the database sorts them (勐 U+52D0 before 景 U+666F), then school,
    # grade in school order, class, name.
    assert names == ["岩罕", "玉香", "岩温", "白云", "宋桐馨"]
    # The bulk 劝返联系函 is dated on the cases' latest act (opened 5 March 2021), not today.
    assert page.input_value("input[name=on]") == "2021-03-05"


def test_roster_in_the_clerks_order(app_ctx, make_user, page, sign_in):
    _pupils()
    db.session.commit()
    make_user("clerk", username="clerk")
    sign_in(page, "clerk")
    page.goto("/children")
    text = page.inner_text("table.data tbody")
    order = [text.index(n) for n in ("岩罕", "玉香", "岩温", "白云", "宋桐馨")]
    assert order == sorted(order)
