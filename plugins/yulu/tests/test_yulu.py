"""雨露计划: vocational pupils of 脱贫/监测 families, 1,500 yuan a term."""

from decimal import Decimal

from edu_guard_yulu import plugin


def test_is_registered(app):
    from edu_guard.toolkit import schemes

    assert schemes(app)["yulu"].plugin == "yulu"


def test_decides(plugin_app, make_candidate, aid_term):
    from edu_guard.toolkit import schemes

    scheme = schemes(plugin_app([("yulu", plugin)]))["yulu"]
    yes = scheme.decide(make_candidate(stage="中职", grade="一年级", family_kinds={"监测户"}), aid_term)
    assert (yes.eligible, yes.amount) == (True, Decimal("1500.00"))
    assert "非脱贫户" in scheme.decide(make_candidate(stage="中职", family_kinds={"低保"}), aid_term).reason
    assert "中职、高职" in scheme.decide(make_candidate(family_kinds={"脱贫户"}), aid_term).reason


def test_amount_is_a_validated_setting(plugin_app, make_candidate, aid_term):
    import pytest

    from edu_guard.toolkit import PluginLoadError, schemes

    app = plugin_app([("yulu", plugin)], settings={"yulu": {"per_term": "1750"}})
    d = schemes(app)["yulu"].decide(make_candidate(stage="高职", family_kinds={"脱贫户"}), aid_term)
    assert d.amount == Decimal("1750.00")
    with pytest.raises(PluginLoadError, match="per_term"):
        plugin_app([("yulu", plugin)], settings={"yulu": {"per_term": "-1"}})
