"""The aid hooks: ``payment_batch_approved`` after the commit (a failing notifier undoes
nothing) and ``report_sections`` appended to the aid report."""

from __future__ import annotations

import sqlalchemy as sa

from edu_guard.aid import services, stats
from edu_guard.aid.models import AidList, Payment
from edu_guard.cli import cli
from edu_guard.db import db
from edu_guard.hookspecs import hookimpl
from edu_guard.plugins import manager


class Recorder:
    """A test plugin: records approved batches (then fails) and adds a report section."""

    def __init__(self):
        self.batches = []

    @hookimpl
    def payment_batch_approved(self, batch, user):
        # The payments are committed by now: another session sees them.
        with db.engine.connect() as conn:
            seen = conn.execute(sa.select(sa.func.count()).select_from(Payment).where(Payment.batch_id == batch.id)).scalar()
        self.batches.append((batch.id, len(batch.payments), seen))
        raise RuntimeError("SMS gateway down")

    @hookimpl
    def report_sections(self, report, figures):
        if report != "aid":
            return []
        first = figures["schemes"][0]
        return [{"title": "测试插件", "lines": [f"{first['code']}共{first['person_times']}人次"]}]


def test_batch_hook_after_commit_and_report_section(app, county, spring, today_is):
    recorder = Recorder()
    pm = manager(app)
    pm.register(recorder, name="aid-test-recorder")
    try:
        services.propose(spring, "compulsory_living")
        db.session.commit()
        runner = app.test_cli_runner()
        assert runner.invoke(cli, ["aid", "post", "--term", "2021-spring", "--scheme", "compulsory_living",
                                   "--on", "2021-03-10"]).exit_code == 0
        result = runner.invoke(cli, ["aid", "approve", "--term", "2021-spring", "--scheme", "compulsory_living",
                                     "--on", "2021-03-18"])
        assert result.exit_code == 0, result.output
        lists = db.session.execute(sa.select(AidList)).scalars().all()
        assert len(recorder.batches) == len(lists)
        assert all(n == seen and n > 0 for _, n, seen in recorder.batches)
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Payment)) == sum(n for _, n, _ in recorder.batches)
        out = runner.invoke(cli, ["aid", "report", "--term", "2021-spring"]).output
        assert "测试插件" in out
        data = stats.report([spring])
        assert stats.plugin_sections(data) == ([{"title": "测试插件",
                                                 "lines": [f"compulsory_living共{data['schemes'][0]['person_times']}人次"]}], [])
    finally:
        pm.unregister(name="aid-test-recorder")
