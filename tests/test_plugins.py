"""The plugin manager: loading, failing fast, and the case_transitioned event."""

from datetime import date

import pytest

from edu_guard import create_app, hookimpl
from edu_guard.plugins import EXTENSION_KEY, PluginLoadError


def test_missing_enabled_plugin_stops_start_up(tmp_path):
    with pytest.raises(PluginLoadError, match="'no_such_plugin'"):
        create_app({"SECRET_KEY": "k", "INSTANCE_PATH": str(tmp_path), "EDU_GUARD_PLUGINS": "no_such_plugin"})


def test_case_transitioned_is_called_after_commit_and_failures_are_contained(app_ctx, make_child, today_is):
    from edu_guard.cases import services
    from edu_guard.db import db

    calls = []

    class Recorder:
        @hookimpl
        def case_transitioned(self, case, transition, user):
            calls.append((case.id, transition.event, case.state))

    class Broken:
        @hookimpl
        def case_transitioned(self, case, transition, user):
            raise RuntimeError("notifier down")

    pm = app_ctx.extensions[EXTENSION_KEY]
    recorder, broken = Recorder(), Broken()
    pm.register(recorder)
    pm.register(broken)
    try:
        today_is(date(2021, 5, 1))
        case = services.open_case(make_child(), reason="厌学", opened_on=date(2021, 3, 1))
        ev = services.fire(case, "return_to_school", on=date(2021, 3, 3))
        db.session.commit()
        services.notify_transition(case, ev)  # the broken notifier is logged, not raised
    finally:
        pm.unregister(recorder)
        pm.unregister(broken)
    assert calls == [(case.id, "return_to_school", "following_up")]
    assert db.session.get(type(case), case.id).state == "following_up"


# --- start-up: discover, enable, validate ------------------------------------------------

from tests.plugins import sample_plugins as sp  # noqa: E402


def test_national_schemes_are_built_in_and_first_party_plugins_enabled_by_default(app):
    from edu_guard.plugins import contributions

    contrib = contributions(app)
    national = {c for c, s in contrib.schemes.items() if s.plugin == "national_schemes"}
    assert national == {"compulsory_living", "preschool", "high_school_grant", "high_school_fee_waiver",
                        "vocational_tuition_waiver", "vocational_grant"}
    assert {contrib.schemes[c].plugin for c in ("yulu", "nutrition", "minority_allowance")} == {
        "yulu", "nutrition", "minority_allowance"}
    assert contrib.versions["yulu"] == "0.1.0"


def test_a_plugin_with_settings_gives_its_scheme(plugin_app, make_candidate, aid_term):
    from decimal import Decimal

    from edu_guard.plugins import contributions

    app = plugin_app([("flat", sp.SchemePlugin())], settings={"flat": {"per_term": "123.45"}})
    scheme = contributions(app).schemes["flat"]
    decision = scheme.decide(make_candidate(), aid_term)
    assert (decision.eligible, decision.amount, scheme.plugin) == (True, Decimal("123.45"), "flat")
    assert "yulu" not in contributions(app).schemes  # only the chosen plugins


def test_invalid_settings_stop_start_up_naming_plugin_and_field(plugin_app):
    with pytest.raises(PluginLoadError, match=r"'flat'.*per_term"):
        plugin_app([("flat", sp.SchemePlugin())], settings={"flat": {"per_term": "lots"}})
    with pytest.raises(PluginLoadError, match=r"'flat'.*per_term"):
        plugin_app([("flat", sp.SchemePlugin())])  # required, not given


def test_a_scheme_code_taken_twice_names_both_plugins(plugin_app):
    with pytest.raises(PluginLoadError, match=r"'dup'.*compulsory_living.*'national_schemes'"):
        plugin_app([("dup", sp.DuplicateScheme())])


def test_a_hook_returning_the_wrong_shape_stops_start_up(plugin_app):
    with pytest.raises(PluginLoadError, match=r"'bad'.*aid_schemes must return a list"):
        plugin_app([("bad", sp.NotAList())])


def test_an_unknown_hook_stops_start_up(plugin_app):
    with pytest.raises(PluginLoadError, match=r"'typo'.*unknown hook"):
        plugin_app([("typo", sp.Misspelt())])


def test_single_file_plugins_in_the_instance_folder_are_loaded(tmp_path):
    folder = tmp_path / "instance" / "plugins"
    folder.mkdir(parents=True)
    (folder / "county_bonus.py").write_text(
        "from datetime import date\nfrom decimal import Decimal\n"
        "from edu_guard.toolkit import AidScheme, Decision, Rate, hookimpl\n"
        "__version__ = '2.1'\n"
        "class Bonus(AidScheme):\n"
        "    def decide(self, c, term):\n"
        "        return Decision(True, '全体', self.amount('default', term), 'default')\n"
        "@hookimpl\n"
        "def aid_schemes():\n"
        "    return [Bonus(code='county_bonus', name='县级奖励', stages=('小学',), funding_level='县级', unit='term',\n"
        "                  rates=(Rate(date(2020, 1, 1), {'default': Decimal('100')}),))]\n",
        encoding="utf-8",
    )
    from edu_guard.plugins import contributions

    app = create_app({"SECRET_KEY": "k", "INSTANCE_PATH": str(tmp_path / "instance"), "EDU_GUARD_PLUGINS": ""})
    assert contributions(app).schemes["county_bonus"].plugin == "county_bonus"
    assert contributions(app).versions["county_bonus"] == "2.1"

    (folder / "broken.py").write_text("import no_such_module\n", encoding="utf-8")
    with pytest.raises(PluginLoadError, match=r"'broken'.*no_such_module"):
        create_app({"SECRET_KEY": "k", "INSTANCE_PATH": str(tmp_path / "instance"), "EDU_GUARD_PLUGINS": ""})


# --- each contribution hook reaches the product -------------------------------------------


def test_letter_types_print_a_plugin_letter_with_a_number(plugin_app, letter_font_dir):
    from datetime import date

    import io

    from pypdf import PdfReader

    from edu_guard.letters.services import issue_letter, letter_pdf

    app = plugin_app([("letters", sp.LetterPlugin())])
    app.config["EDU_GUARD_LETTER_FONT_DIR"] = str(letter_font_dir)
    with app.app_context():
        letter = issue_letter("notice_of_aid", {"recipient": "勐罕中心小学", "pupil": "玉香"}, issuer="bureau",
                              issued_on=date(2021, 3, 5))
        assert letter.doc_number == "景教体资告〔2021〕1号"
        pdf = letter_pdf(letter)
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages)
    assert "你校学生玉香已列入本学期资助名单" in text.replace("\n", "").replace(" ", "")


def test_import_formats_add_a_kind_of_file(plugin_app, demo_dir):
    import sqlalchemy as sa

    from edu_guard.db import db
    from edu_guard.registry.models import School
    from edu_guard.registry.services import import_file

    app = plugin_app([("imports", sp.ImportPlugin())])
    with app.app_context():
        result = import_file("bureau_schools", demo_dir / "schools.csv")
        db.session.commit()
        assert result.created == db.session.scalar(sa.select(sa.func.count(School.id))) > 0


def test_web_blueprints_are_served_behind_the_login(plugin_app, make_user):
    app = plugin_app([("web", sp.WebPlugin())])
    client = app.test_client()
    assert client.get("/hello/").status_code == 302  # to the login page
    with app.app_context():
        from edu_guard.auth.models import User
        from edu_guard.db import db

        user = User(username="clerk", display_name="clerk", role="clerk")
        user.set_password("pw")
        db.session.add(user)
        db.session.commit()
        uid = user.get_id()
    with client.session_transaction() as session:
        session["_user_id"] = uid
        session["_fresh"] = True
    response = client.get("/hello/")
    assert response.status_code == 200 and response.get_data(as_text=True) == "你好，插件"


def test_cli_commands_run_under_edu_guard(plugin_app):
    app = plugin_app([("cli", sp.CliPlugin())])
    result = app.test_cli_runner().invoke(args=["hello"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "schemes: 6"  # the national schemes only


def test_comparison_kinds_run_beside_the_built_in_ones(plugin_app, make_candidate):
    from datetime import date

    from edu_guard.comparisons.kinds import kinds
    from edu_guard.comparisons.services import run_comparison
    from edu_guard.db import db

    app = plugin_app([("cmp", sp.ComparisonPlugin())])
    with app.app_context():
        assert list(kinds()) == ["household", "status", "disabled", "orphans"]
        from edu_guard.registry.models import Child

        db.session.add(Child(id_number="532801201201010011", name="玉香", sex="女", birth_date=date(2012, 1, 1)))
        db.session.commit()
        run, outcome = run_comparison("orphans", as_of=date(2021, 4, 30),
                                      data=b"532801201201010011\n532801201305050022\n", filename="孤儿.txt")
        db.session.commit()
        assert run.counts == {"known": 1, "unknown": 1}
        assert [r["category"] for r in outcome.rows] == ["known", "unknown"]


def test_a_comparison_name_taken_twice_stops_start_up(plugin_app):
    class Twice:
        @hookimpl
        def comparison_kinds(self):
            from edu_guard.comparisons.kinds import HouseholdComparison

            return [HouseholdComparison()]

    with pytest.raises(PluginLoadError, match=r"'twice'.*comparison 'household'.*'comparisons'"):
        plugin_app([("twice", Twice())])


def test_plugins_command_lists_versions_hooks_and_schemes(app):
    import json

    result = app.test_cli_runner().invoke(args=["edu-guard", "plugins", "--json"])
    assert result.exit_code == 0, result.output
    rows = {r["name"]: r for r in json.loads(result.output)}
    assert rows["national_schemes"]["builtin"] is True
    assert rows["nutrition"]["version"] == "0.1.0"
    assert rows["nutrition"]["hooks"] == ["aid_schemes", "plugin_settings_schema"]
    assert rows["nutrition"]["schemes"] == [{"code": "nutrition", "name": "农村义务教育学生营养改善计划膳食补助"}]
    assert len(rows["national_schemes"]["schemes"]) == 6


def test_plugin_new_writes_a_plugin_whose_tests_pass(tmp_path):
    import subprocess
    import sys

    from click.testing import CliRunner

    from edu_guard.plugin_cli import plugin_new

    result = CliRunner().invoke(plugin_new, ["county_extra", "--dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    target = tmp_path / "county_extra"
    assert (target / "edu_guard_county_extra" / "plugin.py").is_file()
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"], cwd=target,
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "2 passed" in run.stdout
    again = CliRunner().invoke(plugin_new, ["county_extra", "--dir", str(tmp_path)])
    assert again.exit_code != 0 and "已存在" in again.output
    bad = CliRunner().invoke(plugin_new, ["County-Extra", "--dir", str(tmp_path)])
    assert bad.exit_code != 0
