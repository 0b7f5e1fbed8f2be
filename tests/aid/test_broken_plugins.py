"""A broken plugin breaks only itself at run time (start-up validation stays fail-fast,
tests/test_plugins.py): a scheme whose ``decide`` raises leaves the other schemes'
proposals whole, and a ``report_sections`` implementation that raises leaves the other
sections; the page and the CLI name the plugin and the error, the log has the traceback."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa

from edu_guard.aid import eligibility, services
from edu_guard.aid.models import AidList, AidListEntry
from edu_guard.cli import cli
from edu_guard.db import db
from edu_guard.hookspecs import hookimpl
from edu_guard.plugins import manager
from edu_guard.schemes.base import AidScheme, Decision, Rate
from edu_guard.toolkit import schemes as all_schemes
from tests.aid.conftest import SPRING_2021


class Fragile(AidScheme):
    """A county scheme whose rule breaks on the first junior-secondary pupil."""

    def decide(self, c, term):
        if c.stage == "初中":
            raise KeyError("初中标准未配置")
        return Decision(True, "全体", self.amount("default", term), "default")


class FragilePlugin:
    @hookimpl
    def aid_schemes(self):
        from decimal import Decimal

        return [Fragile(code="fragile", name="县级易错补助", stages=("小学", "初中"), funding_level="县级", unit="term",
                        rates=(Rate(date(2020, 1, 1), {"default": Decimal("100")}),))]


def _load_county(demo_dir):
    from edu_guard.registry.services import import_file

    for kind, name in (("schools", "schools.csv"), ("roster", "roster_2021_spring.xlsx"),
                       ("families", "monitoring_households_2021.xlsx")):
        import_file(kind, demo_dir / name)
        db.session.commit()


def _entries(term) -> dict[str, set[int]]:
    rows = db.session.execute(sa.select(AidList.scheme_code, AidListEntry.child_id)
                              .join(AidListEntry, AidListEntry.list_id == AidList.id).where(AidList.term_id == term.id))
    out: dict[str, set[int]] = {}
    for code, child_id in rows:
        out.setdefault(code, set()).add(child_id)
    return out


def test_propose_all_proposes_the_other_schemes_and_names_the_broken_plugin(plugin_app, demo_dir, caplog):
    from edu_guard.auth.models import User

    app = plugin_app([("fragile_county", FragilePlugin())])
    with app.app_context():
        _load_county(demo_dir)
        term = services.add_term(**SPRING_2021)
        user = User(username="clerk", display_name="clerk", role="clerk")
        user.set_password("pw")
        db.session.add(user)
        db.session.commit()
        uid = user.get_id()
        # What the national schemes should propose: each one's eligible children.
        info = eligibility.term_info(term)
        cands = eligibility.candidates(info).candidates.values()
        expected = {code: {c.child_id for c in cands if s.decide(c, info).eligible}
                    for code, s in all_schemes(app).items() if code != "fragile"}
        expected = {code: ids for code, ids in expected.items() if ids}
        assert expected["compulsory_living"]
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = uid
        session["_fresh"] = True
    resp = client.post("/aid/terms/2021-spring/propose", data={"scheme": ""}, follow_redirects=True)
    # a job (run at once in the tests): its page says what was proposed and links to the lists
    assert resp.request.path.startswith("/jobs/")
    page = resp.text
    assert 'href="/aid/terms/2021-spring/lists"' in page
    assert "义务教育家庭经济困难学生生活补助" in page and "份名单" in page
    assert "县级易错补助未能生成名单" in page and "插件“fragile_county”出错" in page and "初中标准未配置" in page
    with app.app_context():
        assert _entries(term) == expected  # every other scheme whole, nothing of the broken one
    logged = [r for r in caplog.records if "fragile" in r.getMessage()]
    assert logged and logged[0].exc_info[0] is KeyError

    result = app.test_cli_runner().invoke(cli, ["aid", "propose", "--term", "2021-spring", "--all"])
    assert result.exit_code == 1
    assert "compulsory_living: 0 份名单" in result.output  # proposed above: the schools are kept as they are
    assert "fragile: 插件“fragile_county”出错（fragile.decide）：KeyError: '初中标准未配置'" in result.output


class GoodSection:
    @hookimpl
    def report_sections(self, report, figures):
        return [{"title": "乡村振兴部门口径", "lines": [f"统计学期：{figures['term']}"]}]


class BrokenSection:
    @hookimpl
    def report_sections(self, report, figures):
        return [{"title": "坏", "lines": [figures["no_such_figure"]]}]


def test_a_broken_report_section_leaves_the_others_and_is_named(app, spring, make_user, login, client, caplog):
    pm = manager(app)
    pm.register(GoodSection(), name="good_section")
    pm.register(BrokenSection(), name="broken_section")
    try:
        login(make_user("clerk"))
        page = client.get("/aid/report?term=2021-spring")
        assert page.status_code == 200
        assert "乡村振兴部门口径" in page.text and "统计学期：2021-spring" in page.text
        assert "插件“broken_section”出错（report_sections）：KeyError: &#39;no_such_figure&#39;" in page.text
        result = app.test_cli_runner().invoke(cli, ["aid", "report", "--term", "2021-spring"])
        assert result.exit_code == 0, result.output
        assert "乡村振兴部门口径\n统计学期：2021-spring" in result.stdout
        assert "插件“broken_section”出错（report_sections）：KeyError: 'no_such_figure'" in result.stderr
        as_json = app.test_cli_runner().invoke(cli, ["aid", "report", "--term", "2021-spring", "--json"])
        import json

        data = json.loads(as_json.stdout)
        assert data["sections"] == [{"title": "乡村振兴部门口径", "lines": ["统计学期：2021-spring"]}]
        assert data["section_errors"] == [{"plugin": "broken_section", "error": "KeyError: 'no_such_figure'"}]
    finally:
        pm.unregister(name="good_section")
        pm.unregister(name="broken_section")
    logged = [r for r in caplog.records if "broken_section" in r.getMessage()]
    assert logged and logged[0].exc_info[0] is KeyError
