"""The one place a request or a command commits (docs/architecture.md, "The request and
command boundary"): a view that returns is committed once, whatever way it wrote; a view
that raises leaves nothing; a refusal rolls back and is flashed; work queued for after
the commit runs only once the change is saved; a command is the same unit of work."""

from __future__ import annotations

import click
import sqlalchemy as sa

from edu_guard.cli_util import requires_init, run_or_fail
from edu_guard.db import db
from edu_guard.registry.models import Township
from edu_guard.transaction import after_commit
from edu_guard.web import refusals


class Refused(Exception):
    pass


def _names() -> list[str]:
    db.session.remove()
    return db.session.execute(sa.select(Township.name).order_by(Township.name)).scalars().all()


def test_a_request_is_one_unit_of_work(app, client, make_user, login):
    seen = []

    def add_orm():  # flushed ORM object, never committed by the view
        db.session.add(Township(county_code="532801", name="勐罕镇"))
        db.session.flush()
        after_commit(lambda: seen.append(_names_now()))
        return "ok"

    def add_bulk():  # a bulk write on the session's connection (as the importers do)
        db.session.connection().execute(sa.insert(Township.__table__).values(county_code="532801", name="勐龙镇"))
        return "ok"

    def add_then_fail():
        db.session.add(Township(county_code="532801", name="嘎洒镇"))
        db.session.flush()
        after_commit(lambda: seen.append("never"))
        raise RuntimeError("boom")

    def add_then_refuse():
        with refusals(Refused) as outcome:
            db.session.add(Township(county_code="532801", name="景讷乡"))
            db.session.flush()
            raise Refused("不能新增该乡镇")
        return "refused" if not outcome.ok else "ok"

    def _names_now():
        with db.engine.connect() as other:  # what another connection sees: the committed rows
            return other.execute(sa.select(Township.name)).scalars().all()

    for name, view in (("orm", add_orm), ("bulk", add_bulk), ("fail", add_then_fail), ("refuse", add_then_refuse)):
        app.add_url_rule(f"/_test/{name}", f"test_{name}", view, methods=["POST"])
    app.config["PROPAGATE_EXCEPTIONS"] = False
    login(make_user("clerk"))
    assert client.post("/_test/orm").status_code == 200
    assert seen == [["勐罕镇"]]  # the callback ran after the commit: another connection saw the row
    assert client.post("/_test/bulk").status_code == 200
    assert client.post("/_test/fail").status_code == 500
    refused = client.post("/_test/refuse", follow_redirects=False)
    assert refused.get_data(as_text=True) == "refused"
    with client.session_transaction() as session:
        assert ("error", "不能新增该乡镇") in session["_flashes"]
    assert _names() == ["勐罕镇", "勐龙镇"]
    assert seen == [["勐罕镇"]]


def test_a_command_is_one_unit_of_work(app, app_ctx):
    @click.command("add-township")
    @click.argument("name")
    @click.option("--refuse", is_flag=True)
    @requires_init
    def add_township(name, refuse):
        db.session.add(Township(county_code="532801", name=name))
        db.session.flush()

        def refuse_it():
            raise Refused(f"不能新增{name}")

        if refuse:
            run_or_fail(refuse_it, Refused)

    runner = app.test_cli_runner()
    assert runner.invoke(add_township, ["勐罕镇"]).exit_code == 0
    result = runner.invoke(add_township, ["勐龙镇", "--refuse"])
    assert result.exit_code == 1 and "不能新增勐龙镇" in result.output
    assert _names() == ["勐罕镇"]
