"""Consistency between a term's lists: a removal for a reason that applies to every list
(转出, 死亡) and a 送教上门 placement are flagged on the child's other lists."""

from datetime import date

import sqlalchemy as sa

from edu_guard.aid import services
from edu_guard.aid.consistency import applies_to_all
from edu_guard.aid.models import AidList, AidListEntry
from edu_guard.db import db


def test_removal_for_all_and_placement_are_flagged_on_other_lists(county, spring, make_user, login, client):
    services.propose(spring, "compulsory_living")
    services.propose(spring, "nutrition")
    db.session.commit()
    living = db.session.execute(sa.select(AidList).where(AidList.scheme_code == "compulsory_living")
                                .order_by(AidList.id)).scalars().first()
    nutrition = db.session.execute(sa.select(AidList).where(AidList.scheme_code == "nutrition",
                                                            AidList.school_id == living.school_id)).scalar_one()
    on_both = [e for e in living.entries if e.included]
    gone, placed, kept = on_both[0].child, on_both[1].child, on_both[2].child
    meals = {e.child_id: e for e in nutrition.entries}
    services.set_included(meals[gone.id], False, "已转出至勐海县")
    services.set_included(meals[kept.id], False, "本人申请不参加")  # a reason for this scheme only
    from edu_guard.homebound.services import place

    place(school=living.school, child=placed, assessed_on=date(2021, 3, 1), assessment="经评估不能到校",
          teachers="李老师", starts_on=date(2021, 3, 8))
    db.session.commit()

    login(make_user("clerk"))
    page = client.get(f"/aid/lists/{living.id}").text
    assert "2 名学生在本学期其他名单或送教上门中有需核对的情况" in page
    assert "已从“农村义务教育学生营养改善计划膳食补助”名单移出（已转出至勐海县），请核对是否仍应列入本名单" in page
    assert f"本学期自 2021-03-08 起由{living.school.name}送教上门：计为在读" in page
    assert "本人申请不参加" not in page  # not a reason for every list


def test_reasons_that_apply_to_all_lists():
    assert applies_to_all("已转出") and applies_to_all("学生死亡") and applies_to_all("转学到昆明")
    assert not applies_to_all("家庭经济好转") and not applies_to_all(None)


def test_registry_departures_and_short_placements_are_flagged(county, spring, make_user, login, client):
    """A 转出 recorded in the registry during the term after the lists were proposed,
    and a placement that starts and ends inside the term (13 April – 14 May 2021, on
    neither the first nor the last day), are flagged on the child's list."""
    from edu_guard.homebound.services import place
    from edu_guard.registry.models import StatusChange

    services.propose(spring, "compulsory_living")
    db.session.commit()
    living = db.session.execute(sa.select(AidList).where(AidList.scheme_code == "compulsory_living")
                                .order_by(AidList.id)).scalars().first()
    on_list = [e.child for e in living.entries if e.included]
    left, placed = on_list[0], on_list[1]
    db.session.add(StatusChange(id_number=left.id_number, child_id=left.id, name=left.name, kind="转出",
                                changed_on=date(2021, 4, 6), from_school=living.school.name, to_school="勐海县第一小学"))
    place(school=living.school, child=placed, assessed_on=date(2021, 4, 12), assessment="经评估不能到校",
          teachers="李老师", starts_on=date(2021, 4, 13), ends_on=date(2021, 5, 14))
    db.session.commit()

    login(make_user("clerk"))
    page = client.get(f"/aid/lists/{living.id}").text
    assert "学籍于 2021-04-06 转出（去向：勐海县第一小学），请核对是否仍应列入本名单" in page
    assert "2021-04-13" in page and "送教上门：计为在读" in page
