"""A teacher on a phone (390 px wide): the navigation, the child page, the visit form,
the 送教上门 session form and the case page fit the screen without sideways scrolling.
A screenshot of the case page on a phone is kept in docs/ (written by this test)."""

from datetime import date
from pathlib import Path

from edu_guard.cases import services
from edu_guard.db import db
from edu_guard.homebound import services as homebound
from edu_guard.registry.models import Child, Enrollment, Guardian, School, Township

DOCS = Path(__file__).resolve().parents[2] / "docs"


def _county():
    town = Township(county_code="532801", name="勐罕镇")
    school = School(code="2153280177", name="勐罕中心小学", stage="小学", township=town, county_code="532801")
    kids = []
    for name, idno in (("岩温", "532801200901142694"), ("玉香", "532801201201010027")):
        child = Child(id_number=idno, name=name, sex="男" if int(idno[16]) % 2 else "女",
                      birth_date=date(int(idno[6:10]), int(idno[10:12]), int(idno[12:14])), ethnicity="傣族",
                      township=town, address="勐罕镇曼听村委会曼听村民小组")
        child.guardians.append(Guardian(name=f"{name}之母", relation="母亲", phone="13800000000"))
        db.session.add_all([child, Enrollment(child=child, school=school, grade="六年级", class_name="1班",
                                              status="在读")])
        kids.append(child)
    db.session.add(school)
    db.session.flush()
    case = services.open_case(kids[0], reason="外出务工", opened_on=date(2021, 3, 1), reason_note="随父母在昆明务工",
                              assignments=[{"role": "class_teacher", "name": "李老师", "phone": "13900000000"},
                                           {"role": "village_cadre", "name": "岩罕", "phone": "13700000000"}])
    services.log_home_visit(kids[0], visited_on=date(2021, 3, 2), visitors="李老师、岩罕", form="入户",
                            findings="监护人称孩子随其在昆明务工，同意月底前送回学校")
    placement = homebound.place(school=school, child=kids[1], assessed_on=date(2021, 3, 1),
                                assessment="肢体残疾二级，经专家委员会评估不能到校就读", teachers="李老师、王老师",
                                starts_on=date(2021, 3, 8))
    db.session.commit()
    return school, kids, case, placement


def _fits(pg, path: str) -> None:
    pg.goto(path)
    pg.wait_for_load_state("networkidle")
    width = pg.evaluate("document.documentElement.scrollWidth")
    if width > 390:
        wide = pg.evaluate("""() => [...document.querySelectorAll('body *')]
            .filter(e => e.getBoundingClientRect().right > 391)
            .slice(0, 8).map(e => e.tagName + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right))""")
        raise AssertionError(f"{path}: page is {width}px wide on a 390px phone; too wide: {wide}")


def test_teacher_pages_fit_a_phone(app_ctx, make_user, phone, sign_in, tmp_path):
    school, kids, case, placement = _county()
    make_user("school", username="teacher", school=school)
    sign_in(phone, "teacher")
    for path in ("/", f"/children/{kids[0].id}", f"/children/{kids[0].id}/visits", f"/cases/{case.id}",
                 f"/homebound/{placement.id}", "/cases", "/children"):
        _fits(phone, path)

    # The navigation is reachable on the phone: every menu entry is visible or behind the menu button.
    phone.goto(f"/cases/{case.id}")
    nav_links = phone.locator("header nav a")
    if not nav_links.first.is_visible():
        phone.click("header .menu-toggle")
    assert nav_links.first.is_visible()
    phone.click("header nav a:has-text('学生名册')")
    assert phone.url.endswith("/children")

    # A visit logged on the phone, from the child's page, lands on the case.
    phone.goto(f"/children/{kids[0].id}/visits")
    phone.fill("input[name=visited_on]", "2021-03-05")
    phone.fill("input[name=visitors]", "李老师")
    phone.fill("textarea[name=findings]", "孩子已回到家中，答应下周一返校")
    phone.click("button:has-text('登记家访')")
    assert "已登记家访" in phone.inner_text("main")
    _fits(phone, f"/cases/{case.id}")
    assert "家访记录（2 人次）" in phone.inner_text("main")

    # The docs' screenshot is refreshed on request only (EDU_GUARD_SCREENSHOTS=1), so a
    # test run leaves the work tree clean.
    import os

    folder = DOCS if os.environ.get("EDU_GUARD_SCREENSHOTS") else tmp_path
    phone.screenshot(path=str(folder / "screenshot-phone-case.png"), full_page=False)
