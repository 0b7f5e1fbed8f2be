"""A comparison plugin written as an outside author would, from docs/plugins.md alone
(tests/plugins/outside_comparison): a registry-only comparison with a category that is
only counted and one from which cases may be opened."""

from datetime import date, datetime

import pytest

from edu_guard.toolkit import (
    Child,
    Enrollment,
    PluginLoadError,
    School,
    Township,
    comparison_kinds,
    db,
    hookimpl,
    run_comparison,
    run_rows,
)
from tests.plugins.outside_comparison import plugin


def _pupil(school, id_number, name, status, since):
    child = Child(id_number=id_number, name=name, sex="女", birth_date=date(2010, 1, 1))
    db.session.add(Enrollment(child=child, school=school, status=status, updated_at=since))
    return child


def test_flags_a_suspension_of_a_year_or_more(plugin_app):
    app = plugin_app([("outside_comparison", plugin)])
    with app.app_context():
        kinds = comparison_kinds()
        assert list(kinds)[-1] == "long_suspension" and kinds["long_suspension"].label == "休学超期核查"
        town = Township(county_code="532801", name="勐罕镇")
        school = School(code="2153280177", name="勐罕中心小学", stage="小学", township=town, county_code="532801")
        _pupil(school, "532801201001010011", "玉香", "休学", datetime(2020, 4, 30))   # exactly a year before
        _pupil(school, "532801201001020022", "岩温", "休学", datetime(2020, 5, 1))    # a day short of a year
        _pupil(school, "532801201001030033", "玉罕", "在读", datetime(2019, 9, 1))    # not on 休学
        db.session.commit()
        run, outcome = run_comparison("long_suspension", as_of=date(2021, 4, 30))
        db.session.commit()
        assert run.counts == {"within": 1, "overdue": 1}
        assert [(r["name"], r["category"]) for r in outcome.rows] == [("玉香", "overdue"), ("岩温", "within")]
        assert outcome.rows[0]["reason"] == "勐罕中心小学休学，自2020-04-30起已满一年"
        # only the flagged category's rows are kept with the run ("stored=False": counted only)
        assert [r.id_number for r in db.session.scalars(run_rows(run))] == ["532801201001010011"]


def test_a_class_instead_of_an_instance_stops_start_up_naming_the_plugin(plugin_app):
    class Careless:
        @hookimpl
        def comparison_kinds(self):
            return [plugin.LongSuspension]

    with pytest.raises(PluginLoadError, match=r"plugin 'careless': comparison_kinds must return Comparison instances"):
        plugin_app([("careless", Careless())])
