"""The printed report as superiors expect it: landscape A4, every township listed even
with no case, a total row, the 填报 lines."""

from datetime import date

from edu_guard.cases import services
from edu_guard.db import db
from edu_guard.registry.models import Township
from edu_guard.reports.services import periodic_report


def test_every_township_is_listed_and_the_print_has_the_sign_lines(make_child, make_user, login, today_is):
    today_is(date(2021, 3, 31))
    db.session.add_all([Township(county_code="532801", name="嘎洒镇"), Township(county_code="532801", name="景哈乡")])
    db.session.commit()
    services.open_case(make_child(), reason="厌学", opened_on=date(2021, 3, 1))  # in 勐罕镇
    db.session.commit()
    report = periodic_report(date(2021, 3, 1), date(2021, 3, 31))
    rows = {r["name"]: r for r in report["rows"]}
    assert set(rows) == {"勐罕镇", "嘎洒镇", "景哈乡"}
    assert (rows["勐罕镇"]["new"], rows["嘎洒镇"]["new"], rows["景哈乡"]["new"]) == (1, 0, 0)
    assert report["total"]["new"] == 1

    user = make_user("clerk", username="王芳")
    page = login(user).get("/reports?period=month&date=2021-03-15&print=1").text
    assert "size: A4 landscape" in page
    for expected in ("嘎洒镇", "景哈乡", "合计", "填报单位：景洪市教育体育局", "填报人：王芳", "审核人", "联系电话",
                     "填报日期：2021年3月31日"):
        assert expected in page, expected
