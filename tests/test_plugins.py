"""The plugin manager: loading, failing fast, and the case_transitioned event."""

from datetime import date

import pytest

from edu_guard import hookimpl
from edu_guard.app import create_app
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


def test_letter_types_print_a_plugin_letter_with_a_number(plugin_app):
    from datetime import date

    import io

    from pypdf import PdfReader

    from edu_guard.letters.services import issue_letter, letter_pdf

    app = plugin_app([("letters", sp.LetterPlugin())])
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


# --- pluggy's call path: wrappers, tryfirst/trylast, firstresult, isolated failures -----------


class Sections:
    """A report_sections plugin answering one section titled with its own name."""

    def __init__(self, title):
        self.title = title

    @hookimpl
    def report_sections(self, report, figures):
        return [{"title": self.title, "lines": []}]


class FirstSections(Sections):
    @hookimpl(tryfirst=True)
    def report_sections(self, report, figures):
        return [{"title": self.title, "lines": []}]


class LastSections(Sections):
    @hookimpl(trylast=True)
    def report_sections(self, report, figures):
        return [{"title": self.title, "lines": []}]


def _titles(app):
    from edu_guard.plugins import collect, manager

    results, failures = collect(manager(app), "report_sections", report="aid", figures={})
    assert failures == []
    return [s["title"] for sections in results for s in sections]


def test_hooks_are_called_in_plugin_order_with_tryfirst_and_trylast_as_pluggy_documents(plugin_app):
    from edu_guard.plugins import contributions

    plain = plugin_app([("a", Sections("a")), ("b", Sections("b")), ("c", Sections("c"))])
    assert _titles(plain) == ["a", "b", "c"]  # plugin order, as docs/plugins.md says
    moved = plugin_app([("last", LastSections("last")), ("a", Sections("a")), ("first", FirstSections("first")),
                        ("b", Sections("b"))])
    assert _titles(moved) == ["first", "a", "b", "last"]
    # start-up hooks too: the built-in schemes come first, a plugin's after them
    codes = list(contributions(plugin_app([("flat", sp.SchemePlugin())], settings={"flat": {"per_term": "1"}})).schemes)
    assert codes[:6] == ["compulsory_living", "preschool", "high_school_grant", "high_school_fee_waiver",
                         "vocational_tuition_waiver", "vocational_grant"] and codes[6:] == ["flat"]


class AddingWrapper:
    """A new-style wrapper (``wrapper=True``) that sees every plugin's schemes and adds one."""

    def __init__(self):
        self.seen = []

    @hookimpl(wrapper=True)
    def aid_schemes(self):
        result = yield
        self.seen = sorted(s.code for schemes in result for s in schemes)
        return [*result, [sp.FlatScheme(code="wrapped", name="包装添加", stages=("小学",), funding_level="县级",
                                        unit="term", rates=())]]


class DroppingWrapper:
    """An old-style wrapper (``hookwrapper=True``) that removes the ``flat`` plugin's schemes."""

    @hookimpl(hookwrapper=True)
    def aid_schemes(self):
        outcome = yield
        outcome.force_result([s for s in outcome.get_result() if all(x.code != "flat" for x in s)])


class Neutral:
    """A wrapper that passes the result on unchanged."""

    @hookimpl(wrapper=True)
    def aid_schemes(self):
        return (yield)


def test_a_wrapper_sees_and_changes_the_aid_schemes_result(plugin_app):
    from edu_guard.plugins import contributions

    wrapper = AddingWrapper()
    app = plugin_app([("flat", sp.SchemePlugin()), ("adds", wrapper)], settings={"flat": {"per_term": "5"}})
    schemes = contributions(app).schemes
    assert wrapper.seen == sorted(["compulsory_living", "preschool", "high_school_grant", "high_school_fee_waiver",
                                   "vocational_tuition_waiver", "vocational_grant", "flat"])
    assert schemes["wrapped"].plugin == "adds" and schemes["flat"].plugin == "flat"
    assert contributions(app).owners["scheme:wrapped"] == "adds"

    dropped = plugin_app([("flat", sp.SchemePlugin()), ("drops", DroppingWrapper())], settings={"flat": {"per_term": "5"}})
    assert "flat" not in contributions(dropped).schemes and "compulsory_living" in contributions(dropped).schemes


def test_a_start_up_error_in_what_a_wrapper_added_names_the_wrapper(plugin_app):
    class BadWrapper:
        @hookimpl(wrapper=True)
        def aid_schemes(self):
            return [*(yield), ["not a scheme"]]

    with pytest.raises(PluginLoadError, match=r"plugin 'badwrap': aid_schemes returned 'not a scheme'"):
        plugin_app([("badwrap", BadWrapper())])
    # and a plugin's own error is still its own, with a wrapper around the call
    with pytest.raises(PluginLoadError, match=r"plugin 'bad': aid_schemes must return a list"):
        plugin_app([("bad", sp.NotAList()), ("neutral", Neutral())])


def test_firstresult_hooks_give_the_first_answer_and_its_plugin(plugin_app):
    import pluggy

    from edu_guard.plugins import answers, manager

    class Specs:
        @pluggy.HookspecMarker("edu_guard")(firstresult=True)
        def letter_seal(self):
            """Which seal to print (a test-only hook)."""

    class Seal:
        def __init__(self, seal):
            self.seal = seal

        @hookimpl
        def letter_seal(self):
            return self.seal

    pm = manager(plugin_app([]))
    pm.add_hookspecs(Specs)
    pm.register(Seal(None), name="abstains")  # None: pluggy asks the next one
    pm.register(Seal("县教育体育局"), name="county")
    pm.register(Seal("县人民政府"), name="government")  # registered last: called first
    assert pm.hook.letter_seal() == "县人民政府"
    assert answers(pm, "letter_seal") == [("government", "县人民政府")]
    pm.unregister(name="government")
    assert answers(pm, "letter_seal") == [("county", "县教育体育局")]


def test_a_raising_notifier_stops_neither_the_others_nor_the_caller(app_ctx, caplog):
    from edu_guard.plugins import EXTENSION_KEY, notify

    calls = []

    class Recorder:
        def __init__(self, name):
            self.name = name

        @hookimpl
        def payment_batch_approved(self, batch, user):
            calls.append((self.name, batch))

    class Broken:
        @hookimpl
        def payment_batch_approved(self, batch, user):
            raise RuntimeError("SMS gateway down")

    class Watching:
        """A wrapper around the event: it still sees the call complete."""

        @hookimpl(wrapper=True)
        def payment_batch_approved(self, batch, user):
            result = yield
            calls.append(("wrapper", result))
            return result

    pm = app_ctx.extensions[EXTENSION_KEY]
    names = ["before", "broken", "after", "watching"]
    for name, plugin in zip(names, [Recorder("before"), Broken(), Recorder("after"), Watching()]):
        pm.register(plugin, name=name)
    try:
        failures = notify(pm, "payment_batch_approved", batch="batch-1", user=None)
    finally:
        for name in names:
            pm.unregister(name=name)
    assert calls == [("after", "batch-1"), ("before", "batch-1"), ("wrapper", [])]  # last registered first
    assert [(f.plugin, f.hook, str(f.error)) for f in failures] == [("broken", "payment_batch_approved", "SMS gateway down")]
    assert "插件“broken”出错" in failures[0].message
    logged = [r for r in caplog.records if r.name == "edu_guard.plugins" and "broken" in r.getMessage()]
    assert logged and logged[0].exc_info[0] is RuntimeError  # with the traceback


# --- every start-up validation names its plugin, on pluggy's call path ----------------------


def _returning(hook, value):
    """A plugin class whose ``hook`` returns ``value``."""

    def impl(self):
        if isinstance(value, Exception):
            raise value
        return value

    impl.__name__ = hook
    return type(f"Returns_{hook}", (), {hook: hookimpl(impl)})


def _blueprint(name):
    from flask import Blueprint

    return Blueprint(name, __name__)


def _command(name):
    import click

    return click.Command(name)


@pytest.mark.parametrize(("hook", "value", "message"), [
    ("aid_schemes", RuntimeError("数据库不可用"), r"plugin 'p' failed in aid_schemes: 数据库不可用"),
    ("aid_schemes", "flat", r"plugin 'p': aid_schemes must return a list, not str"),
    ("aid_schemes", [42], r"plugin 'p': aid_schemes returned 42, not an AidScheme"),
    ("plugin_settings_schema", {"a": 1}, r"plugin 'p': plugin_settings_schema must return a marshmallow Schema"),
    ("letter_types", [object()], r"plugin 'p': letter_types must return LetterKind objects"),
    ("import_formats", [dict], r"plugin 'p': import_formats must return Importer subclasses"),
    ("comparison_kinds", [sp.orphans_comparison().__class__], r"plugin 'p': comparison_kinds must return Comparison instances"),
    ("web_blueprints", ["/hello"], r"plugin 'p': web_blueprints must return flask.Blueprint objects"),
    ("cli_commands", [print], r"plugin 'p': cli_commands must return click commands"),
    ("web_blueprints", [_blueprint("aid")], r"plugin 'p': blueprint 'aid' is already provided by plugin 'q'"),
    ("cli_commands", [_command("hello")], r"plugin 'p': command 'hello' is already provided by plugin 'q'"),
])
def test_each_start_up_validation_names_the_plugin_through_a_wrapper(plugin_app, hook, value, message):
    class Q:  # an earlier plugin holding the names "aid" and "hello"
        @hookimpl
        def web_blueprints(self):
            return [_blueprint("aid")]

        @hookimpl
        def cli_commands(self):
            return [_command("hello")]

    class Around:  # a neutral wrapper on every hook under test
        pass

    for name in ("aid_schemes", "plugin_settings_schema", "letter_types", "import_formats", "comparison_kinds",
                 "web_blueprints", "cli_commands"):
        def wrap(self):
            return (yield)
        wrap.__name__ = name
        setattr(Around, name, hookimpl(wrapper=True)(wrap))
    with pytest.raises(PluginLoadError, match=message):
        plugin_app([("q", Q()), ("p", _returning(hook, value)()), ("around", Around())])


def test_a_letter_kind_or_import_kind_of_core_cannot_be_taken(plugin_app):
    from dataclasses import replace

    with pytest.raises(PluginLoadError, match=r"plugin 'p': letter 'notice_of_aid' is already provided by plugin 'letters'"):
        plugin_app([("letters", sp.LetterPlugin()), ("p", _returning("letter_types", [sp.letter_kind()])())])
    with pytest.raises(PluginLoadError, match=r"plugin 'p': letter 'order_to_correct' is already provided by plugin 'core'"):
        plugin_app([("p", _returning("letter_types", [replace(sp.letter_kind(), key="order_to_correct")])())])


def test_a_run_time_hook_that_is_not_isolated_names_the_plugin_that_raised(app_ctx):
    from datetime import date

    from edu_guard.plugins import PluginError, manager

    class Broken:
        @hookimpl
        def counted_as_enrolled(self, on, child_id):
            raise LookupError("送教名单不可用")

    pm = manager()
    pm.register(Broken(), name="broken_enrolled")
    try:
        with pytest.raises(PluginError, match=r"plugin 'broken_enrolled' failed in counted_as_enrolled: 送教名单不可用") as caught:
            pm.hook.counted_as_enrolled(on=date(2021, 3, 1), child_id=None)
    finally:
        pm.unregister(name="broken_enrolled")
    assert not isinstance(caught.value, PluginLoadError)  # a run-time error, not a start-up one
    assert isinstance(caught.value.__cause__, LookupError)
