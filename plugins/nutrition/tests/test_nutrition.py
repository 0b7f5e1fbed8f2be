"""营养改善计划: per school day, 4 yuan before and 5 yuan from the 2021 autumn term."""

from datetime import date
from decimal import Decimal

from edu_guard_nutrition import plugin

from edu_guard.toolkit import TermInfo

AUTUMN_2021 = TermInfo("2021-autumn", "2021年秋季学期", date(2021, 9, 1), date(2022, 1, 14), 88)


def test_is_registered(app):
    from edu_guard.toolkit import schemes

    assert schemes(app)["nutrition"].plugin == "nutrition"
    assert schemes(app)["nutrition"].unit == "school_day"


def test_pays_every_school_day_at_the_rate_of_the_term(plugin_app, make_candidate, aid_term):
    from edu_guard.toolkit import schemes

    scheme = schemes(plugin_app([("nutrition", plugin)]))["nutrition"]
    pupil = make_candidate(stage="初中", grade="七年级")
    assert scheme.decide(pupil, aid_term).amount == Decimal("360.00")  # 90 days × 4 yuan
    assert scheme.decide(pupil, AUTUMN_2021).amount == Decimal("440.00")  # 88 days × 5 yuan
    assert not scheme.decide(make_candidate(stage="高中"), aid_term).eligible


def test_only_pilot_schools_when_listed(plugin_app, make_candidate, aid_term):
    import pytest

    from edu_guard.toolkit import PluginLoadError, schemes

    app = plugin_app([("nutrition", plugin)], settings={"nutrition": {"pilot_schools": ["2153280171"]}})
    scheme = schemes(app)["nutrition"]
    assert scheme.decide(make_candidate(school_code="2153280171"), aid_term).eligible
    refused = scheme.decide(make_candidate(school_code="2153280177"), aid_term)
    assert not refused.eligible and "不是营养改善计划试点学校" in refused.reason
    with pytest.raises(PluginLoadError, match="pilot_schools"):
        plugin_app([("nutrition", plugin)], settings={"nutrition": {"pilot_schools": ["215328"]}})
