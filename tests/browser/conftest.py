"""Browser tests: the fixtures (``browser``, ``live_server``, ``page``, ``phone``,
``sign_in``) are in :mod:`edu_guard.testing`, so any folder's tests may use them."""

from datetime import date

import pytest

from edu_guard.cases import services
from edu_guard.db import db
from edu_guard.homebound import services as homebound
from edu_guard.registry.models import Child, Enrollment, Guardian, School, Township


@pytest.fixture
def small_county(app_ctx):
    """A township, a school, two pupils: 岩温 with an open case (two responsible people,
    a home visit) and 玉香 taught at home (送教上门). Returns
    ``(school, [岩温, 玉香], case, placement)``."""
    return _county()


def _county():
    """Build :func:`small_county`'s data and commit it."""
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


