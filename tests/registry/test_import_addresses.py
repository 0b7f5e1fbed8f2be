"""The roster's 家庭住址 fills the child's and the guardians' addresses — for existing
guardians too — when they are empty, and never replaces an address on record (typed on
a form or from the household register) silently: the clerk is told (行政处罚法 Art.
59 (一): the decision names the party's address)."""

import sqlalchemy as sa

from edu_guard.db import db
from edu_guard.registry.models import Child, Guardian
from edu_guard.registry.services import import_file

from .conftest import ROSTER_HEADER, valid_id, xlsx_bytes

NUMBER = valid_id("53280120120523301")


def _roster(address: str | None) -> bytes:
    header = [*ROSTER_HEADER, "家庭住址"]
    row = [1, "岩温", "男", "2012-05-23", "傣族", NUMBER, "", "2153280177", "勐罕中心小学", "四年级", "1班", "走读",
           "勐罕镇", "曼么村委会", "", "岩温之父", "13800000001", address or ""]
    return xlsx_bytes([header, row])


def _child() -> Child:
    db.session.expire_all()
    return db.session.execute(sa.select(Child).where(Child.id_number == NUMBER)).scalar_one()


def test_an_existing_guardian_gets_the_roster_address_when_empty(school):
    import_file("roster", _roster(None), "first.xlsx")
    db.session.commit()
    child = _child()
    assert child.address is None and child.guardians[0].address is None
    import_file("roster", _roster("景洪市勐罕镇曼么村5号"), "second.xlsx")
    db.session.commit()
    child = _child()
    assert child.address == "景洪市勐罕镇曼么村5号"
    assert [g.address for g in child.guardians] == ["景洪市勐罕镇曼么村5号"]
    assert db.session.scalar(sa.select(sa.func.count(Guardian.id))) == 1


def test_an_address_on_record_is_not_overwritten_silently(school):
    import_file("roster", _roster("景洪市勐罕镇曼么村5号"), "first.xlsx")
    db.session.commit()
    child = _child()
    child.address = "景洪市勐罕镇曼听村12号"  # typed by the clerk
    child.guardians[0].address = "景洪市嘎洒镇曼达村3号"
    db.session.commit()
    result = import_file("roster", _roster("景洪市勐罕镇曼么村6号"), "second.xlsx")
    db.session.commit()
    child = _child()
    assert child.address == "景洪市勐罕镇曼听村12号"
    assert child.guardians[0].address == "景洪市嘎洒镇曼达村3号"
    said = [w for w in result.warnings if "未覆盖" in str(w)]
    assert len(said) == 1 and "景洪市勐罕镇曼么村6号" in str(said[0]) and "景洪市勐罕镇曼听村12号" in str(said[0])
