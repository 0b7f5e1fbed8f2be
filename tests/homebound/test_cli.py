"""``edu-guard homebound list [--json]`` and ``edu-guard homebound compliance``."""

import json
from datetime import date, time

from edu_guard.cli import cli
from edu_guard.db import db
from edu_guard.homebound import services


def invoke(app, *args):
    return app.test_cli_runner().invoke(cli, list(args), catch_exceptions=False)


def test_list_and_compliance(app, two_schools, make_placement, make_user):
    a = make_placement(two_schools[0], date(2021, 3, 1))
    make_placement(two_schools[1], date(2021, 3, 1), name="岩坎", id_number="532801201407271133")
    for day in (date(2021, 3, 2), date(2021, 3, 4)):
        services.log_session(a, held_on=day, starts_at=time(9), ends_at=time(11), teachers="李老师",
                             content_areas=["认知"], progress="好", guardian_confirmed=True, guardian_name="父")
    db.session.commit()

    out = json.loads(invoke(app, "homebound", "list", "--json").stdout)
    assert [(p["name"], p["school"], p["sessions"]) for p in out] == [("邹天", "勐罕中心小学", 2), ("岩坎", "嘎洒中心小学", 0)]
    assert out[0]["id_number"] == "532801********1487"
    text = invoke(app, "homebound", "list").stdout
    assert "共 2 人" in text
    school_user = make_user("school", username="mh", school=two_schools[0])
    assert [p["name"] for p in json.loads(invoke(app, "homebound", "list", "--json", "--as", school_user.username).stdout)] == ["邹天"]

    # 03-01 … 03-07: 7 days → 2 visits, 6 periods each; 邹天 gave 2 × 3, 岩坎 none.
    result = invoke(app, "homebound", "compliance", "--from", "2021-03-01", "--to", "2021-03-07", "--json")
    data = json.loads(result.stdout)
    kids = {c["name"]: c for c in data["children"]}
    assert (kids["邹天"]["compliant"], kids["岩坎"]["compliant"]) == (True, False)
    assert (kids["岩坎"]["visit_shortfall"], kids["岩坎"]["period_shortfall"]) == (2, 6)
    assert data["schools"][-1] == {"name": "合计", "children": 2, "compliant": 1, "sessions": 2, "periods": 6,
                                   "hours": "4.0", "rate": "50.0%"}
    text = invoke(app, "homebound", "compliance", "--from", "2021-03-01", "--to", "2021-03-07").stdout
    assert "岩坎  嘎洒中心小学  送教 0/2 次，0/6 课时  未达标，差 2 次、6 课时" in text

    bad = app.test_cli_runner().invoke(cli, ["homebound", "compliance", "--from", "2021-03-07", "--to", "2021-03-01"])
    assert bad.exit_code != 0 and "早于起日" in bad.output
