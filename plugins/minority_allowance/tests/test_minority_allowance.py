"""较少民族学生生活补助: by the county's list of groups, a set amount a term."""

from decimal import Decimal

from edu_guard_minority_allowance import plugin


def test_is_registered(app):
    from edu_guard.toolkit import schemes

    assert schemes(app)["minority_allowance"].plugin == "minority_allowance"
    assert "基诺族" in schemes(app)["minority_allowance"].groups


def test_decides_by_ethnicity(plugin_app, make_candidate, aid_term):
    from edu_guard.toolkit import schemes

    scheme = schemes(plugin_app([("minority_allowance", plugin)]))["minority_allowance"]
    assert scheme.decide(make_candidate(ethnicity="基诺族"), aid_term).amount == Decimal("500.00")
    assert scheme.decide(make_candidate(ethnicity="布朗"), aid_term).eligible  # written without 族
    refused = scheme.decide(make_candidate(ethnicity="傣族"), aid_term)
    assert not refused.eligible and "不在本县较少民族名单内" in refused.reason


def test_county_list_amount_and_exclusions_are_settings(plugin_app, make_candidate, aid_term):
    from edu_guard.toolkit import schemes

    app = plugin_app([("minority_allowance", plugin)],
                     settings={"minority_allowance": {"groups": ["傣族"], "per_term": "300", "excludes": ["compulsory_living"]}})
    scheme = schemes(app)["minority_allowance"]
    assert scheme.decide(make_candidate(ethnicity="傣族"), aid_term).amount == Decimal("300.00")
    assert not scheme.decide(make_candidate(ethnicity="基诺族"), aid_term).eligible
    assert scheme.excludes == {"compulsory_living"}
