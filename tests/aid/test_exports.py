"""Excel everywhere a clerk expects it: the roster, the case list, a term's payments and
lists, a school's list and the 应助尽助 check download as workbooks with the page's
filters applied, a title row, IDs as text and 合计 rows."""

import io
from datetime import date

import openpyxl
import sqlalchemy as sa

from edu_guard.aid import services
from edu_guard.aid.models import AidList, Payment
from edu_guard.db import db
from edu_guard.registry.models import Child, School, Township


def _sheet(resp):
    assert resp.status_code == 200, resp.text[:300]
    assert resp.mimetype.endswith("spreadsheetml.sheet")
    return [[c.value for c in row] for row in openpyxl.load_workbook(io.BytesIO(resp.data)).active.iter_rows()]


def test_roster_and_case_list_exports_follow_the_filters(county, make_user, login, client):
    menghan = db.session.execute(sa.select(Township).where(Township.name == "勐罕镇")).scalar_one()
    login(make_user("clerk"))
    rows = _sheet(client.get(f"/children?township={menghan.id}&format=xlsx"))
    in_menghan = db.session.execute(sa.select(sa.func.count(sa.distinct(Child.id))).where(sa.or_(
        Child.township_id == menghan.id,
        Child.id.in_(sa.select(Child.id).join(Child.enrollments).join(School).where(School.township_id == menghan.id))
    ))).scalar()
    assert rows[0][0] == f"景洪市学生名册（{in_menghan}人）"
    assert rows[1][:3] == ["序号", "姓名", "身份证号"]
    assert rows[-1][:2] == ["合计", f"{in_menghan}人"]
    body = rows[2:-1]
    assert all(isinstance(r[2], str) and len(r[2]) == 18 for r in body)  # a clerk sees full IDs: text, never a number
    # Sorted as clerks read: 学校所在乡镇, then 学校 … (township names never go backwards).
    towns = [r[5] for r in body if r[5]]
    assert towns == sorted(towns)

    from edu_guard.cases import services as cases

    child = db.session.execute(sa.select(Child).where(Child.township_id == menghan.id)).scalars().first()
    cases.open_case(child, reason="厌学", opened_on=date(2021, 3, 1))
    db.session.commit()
    rows = _sheet(client.get("/cases?state=open&format=xlsx"))
    assert rows[0][0] == "景洪市控辍保学个案（1件）" and rows[2][2] == child.name and rows[-1][:2] == ["合计", "1件"]
    assert _sheet(client.get("/cases?state=closed&format=xlsx"))[-1][:2] == ["合计", "0件"]
    # Above EDU_GUARD_EXPORT_JOB_ROWS the case list is made by a job (immediate in tests),
    # the same workbook downloaded from the job's page by its owner.
    client.application.config["EDU_GUARD_EXPORT_JOB_ROWS"] = 0
    resp = client.get("/cases?state=open&format=xlsx")
    assert resp.status_code == 302 and resp.location.startswith("/jobs/")
    state = client.get(resp.location + ".json").get_json()
    assert state["state"] == "done", state
    file = client.get(state["download"])
    assert _sheet(file) == rows
    file.close()


def test_aid_exports(county, spring, make_user, login, client):
    services.propose(spring, "compulsory_living")
    db.session.commit()
    lst = db.session.execute(sa.select(AidList).order_by(AidList.id)).scalars().first()
    services.post(lst, on=date(2021, 3, 10))
    services.approve(lst, on=date(2021, 3, 18))
    db.session.commit()
    login(make_user("clerk"))
    included = [e for e in lst.entries if e.included]
    amount = sum(e.amount_fen for e in included) / 100

    rows = _sheet(client.get(f"/aid/lists/{lst.id}?format=xlsx"))
    assert rows[0][0] == f"2021年春季学期{lst.school.name}义务教育家庭经济困难学生生活补助名单"
    assert rows[-1][0] == "合计" and rows[-1][1] == f"{len(included)}人" and float(rows[-1][7]) == amount
    assert "default" not in str(rows)

    rows = _sheet(client.get("/aid/terms/2021-spring/lists?scheme=compulsory_living&format=xlsx"))
    lists = db.session.execute(sa.select(AidList)).scalars().all()
    assert rows[-1][3] == f"{len(lists)}份"
    assert rows[-1][5] == sum(sum(e.included for e in x.entries) for x in lists)

    rows = _sheet(client.get("/aid/terms/2021-spring/payments?format=xlsx"))
    paid = db.session.execute(sa.select(Payment)).scalars().all()
    assert rows[-1][:2] == ["合计", f"{len(paid)}人次"] and float(rows[-1][7]) == sum(p.amount_fen for p in paid) / 100
    first = paid[0].child.name
    only = _sheet(client.get(f"/aid/terms/2021-spring/payments?q={first}&format=xlsx"))
    assert {r[1] for r in only[2:-1]} == {first}

    rows = _sheet(client.get("/aid/gaps?term=2021-spring&format=xlsx"))
    assert rows[0][0].startswith("2021年春季学期应助尽助核查") and rows[1] == ["序号", "类别", "姓名", "身份证号", "学校", "原因"]
