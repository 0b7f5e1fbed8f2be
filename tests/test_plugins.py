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
