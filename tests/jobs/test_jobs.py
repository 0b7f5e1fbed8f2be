"""Jobs on a real queue: a web import runs as a job; a worker process (Huey on its
SQLite storage, and on Redis) runs it; a killed worker's job is shown failed, left
nothing written, and runs again; a clerk sees only the jobs of their area."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from edu_guard.auth.models import User
from edu_guard.db import db, utcnow
from edu_guard.jobs import services as jobs
from edu_guard.jobs.models import Job
from edu_guard.registry.models import Child, School, Township
from edu_guard.testing import DEMO_DIR, _drop, _fresh_app
from edu_guard.transaction import finish

ROOT = Path(__file__).resolve().parents[2]
#: The Redis the queue tests use; a developer running several checkouts at once gives each its own db.
REDIS_URL = os.environ.get("EDU_GUARD_TEST_REDIS_URL", "redis://127.0.0.1:6379/5")


def post_import(client, kind: str, name: str, data: bytes) -> int:
    response = client.post("/imports", data={"kind": kind, "file": (io.BytesIO(data), name)},
                           content_type="multipart/form-data")
    assert response.status_code == 302, response.text
    return int(response.headers["Location"].rsplit("/", 1)[1])


def sign_in(app, user_id: int):
    with app.app_context():
        session_id = db.session.get(User, user_id).get_id()  # "<id>:<session token>"
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = session_id
        session["_fresh"] = True
    return client


def wait_for(client, job_id: int, states=("done", "failed"), timeout: float = 240) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        state = client.get(f"/imports/jobs/{job_id}.json").get_json()
        if state["state"] in states:
            return state
        assert time.monotonic() < deadline, state
        time.sleep(0.2)


def test_stale_job_is_shown_failed_and_runs_again(app, client, make_user, login):
    clerk = make_user("clerk")
    login(clerk)
    uploads = jobs.uploads_dir()
    uploads.mkdir(parents=True, exist_ok=True)
    data = (DEMO_DIR / "schools.csv").read_bytes()
    import hashlib

    digest = hashlib.sha256(data).hexdigest()
    (uploads / digest).write_bytes(data)
    stale = app.config["EDU_GUARD_JOB_STALE_SECONDS"]
    beat = utcnow() - timedelta(seconds=stale + 5)
    job = Job(kind="import", owner_id=clerk.id, state="running", started_at=beat, heartbeat_at=beat,
              params={"import_kind": "schools", "filename": "schools.csv", "sha256": digest})
    db.session.add(job)
    db.session.commit()
    state = client.get(f"/imports/jobs/{job.id}.json").get_json()
    assert state["state"] == "failed" and "工作进程已停止" in state["error"] and "可重新运行" in state["error"]
    page = client.get(f"/imports/jobs/{job.id}").text
    assert "重新运行" in page
    response = client.post(f"/imports/jobs/{job.id}/rerun")
    assert response.status_code == 302
    state = client.get(f"/imports/jobs/{job.id}.json").get_json()
    assert state["state"] == "done"
    rows = len((DEMO_DIR / "schools.csv").read_text(encoding="utf-8-sig").strip().splitlines()) - 1
    assert db.session.execute(sa.select(sa.func.count()).select_from(School)).scalar() == rows
    db.session.refresh(job)
    assert job.attempts == 1 and job.result["rows"] == rows


def test_a_job_that_runs_out_of_memory_fails_and_writes_nothing(app, client, make_user, login, monkeypatch):
    clerk = make_user("clerk")
    login(clerk)

    def greedy(job, progress):
        db.session.add(Township(county_code="532801", name="不应写入的乡镇"))
        db.session.flush()
        raise MemoryError

    monkeypatch.setitem(jobs.KINDS, "greedy", jobs.JobKind("测试", greedy))
    job = jobs.submit("greedy", {}, clerk)
    finish(ok=True)  # the unit of work commits: the job is queued, and runs (immediate mode)
    db.session.refresh(job)
    assert job.state == "failed" and "内存" in job.error
    assert db.session.execute(sa.select(sa.func.count()).select_from(Township)).scalar() == 0


def test_memory_limit_makes_a_big_allocation_fail_in_the_worker():
    code = ("from edu_guard.jobs.queue import set_memory_limit\n"
            "set_memory_limit(1024)\n"
            "try:\n    bytearray(2 * 1024 ** 3)\nexcept MemoryError:\n    print('MemoryError')\n")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert run.stdout.strip() == "MemoryError", run.stderr


def test_jobs_are_scoped_to_the_users_area(app_ctx, make_user):
    from edu_guard.auth import scoping

    towns = [Township(county_code="532801", name=n) for n in ("勐罕镇", "嘎洒镇")]
    db.session.add_all(towns)
    db.session.commit()
    a, b = (make_user("township", township=t) for t in towns)
    clerk = make_user("clerk")
    for user in (a, b, clerk):
        db.session.add(Job(kind="import", owner_id=user.id, township_id=user.township_id, params={}))
    db.session.commit()
    seen = lambda user: sorted(j.owner_id for j in db.session.execute(scoping.scope(sa.select(Job), Job, user)).scalars())  # noqa: E731
    assert seen(a) == [a.id] and seen(b) == [b.id]
    assert seen(clerk) == sorted([a.id, b.id, clerk.id])


# --- a real worker process ----------------------------------------------------------


def start_worker(app) -> subprocess.Popen:
    """``edu-guard worker`` on the test app's instance, database and queue."""
    instance = Path(app.instance_path)
    options = app.config["SQLALCHEMY_ENGINE_OPTIONS"]
    lines = [
        "SECRET_KEY = 'worker-test-key-of-more-than-thirty-two-characters'",
        f"EDU_GUARD_DATABASE_URL = {app.config['SQLALCHEMY_DATABASE_URI']!r}",
        f"SQLALCHEMY_ENGINE_OPTIONS = {{'connect_args': {dict(options.get('connect_args') or {})!r}}}",
        f"EDU_GUARD_QUEUE_URL = {app.config['EDU_GUARD_QUEUE_URL']!r}",
        f"EDU_GUARD_QUEUE_NAME = {app.config['EDU_GUARD_QUEUE_NAME']!r}",
        "EDU_GUARD_JOB_HEARTBEAT_SECONDS = 1",
    ]
    (instance / "config.py").write_text("\n".join(lines) + "\n", encoding="utf-8")
    env = {**os.environ, "EDU_GUARD_INSTANCE_PATH": str(instance)}
    env.pop("EDU_GUARD_TEST_DATABASE_URL", None)
    with open(instance.parent / f"worker-{time.monotonic_ns()}.log", "w") as log:  # the worker's output, if it fails
        return subprocess.Popen([str(Path(sys.executable).parent / "edu-guard"), "worker"], env=env, cwd=ROOT,
                                stdout=log, stderr=subprocess.STDOUT, text=True, start_new_session=True)


def stop(proc: subprocess.Popen, sig=signal.SIGINT) -> str:
    if proc.poll() is None:
        os.killpg(proc.pid, sig)
    try:
        proc.wait(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    return proc.returncode


@pytest.fixture
def worker_app(tmp_path, database_url, request):
    queue_url = request.param
    app = _fresh_app(tmp_path, database_url, EDU_GUARD_QUEUE_IMMEDIATE=False, EDU_GUARD_QUEUE_URL=queue_url,
                     EDU_GUARD_QUEUE_NAME=f"edu_guard_test_{uuid.uuid4().hex[:8]}", EDU_GUARD_JOB_STALE_SECONDS=3,
                     EDU_GUARD_ACCEPT_SAMPLE_CHECK_DIGITS=True)
    yield app
    with app.app_context():
        from edu_guard.jobs.queue import queue_of

        queue_of().flush()
    _drop(app)


# Werkzeug's test client spools a request body over 500 kB to a temporary file it never
# closes (werkzeug/test.py, stream_encode_multipart): the 20,000-row upload trips it.
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
@pytest.mark.parametrize("worker_app", ["", REDIS_URL], ids=["sqlite-queue", "redis-queue"], indirect=True)
def test_worker_process_runs_web_imports_and_a_killed_one_leaves_nothing(worker_app, tmp_path):
    from edu_guard.auth.models import User

    app = worker_app
    with app.app_context():
        clerk = User(username="clerk", display_name="办事员", role="clerk")
        clerk.set_password("pw")
        db.session.add(clerk)
        db.session.commit()
        clerk_id = clerk.id
    client = sign_in(app, clerk_id)  # requests outside an app context: each has its own session, as in production

    def children() -> int:
        with app.app_context():
            return db.session.execute(sa.select(sa.func.count()).select_from(Child)).scalar()

    schools_job = post_import(client, "schools", "schools.csv", (DEMO_DIR / "schools.csv").read_bytes())
    queued = client.get(f"/imports/jobs/{schools_job}.json").get_json()
    assert queued["state"] == "queued"  # no worker yet: the web process did not run it

    worker = start_worker(app)
    try:
        assert wait_for(client, schools_job)["state"] == "done"
        roster = (DEMO_DIR / "roster_2021_spring.xlsx").read_bytes()
        roster_job = post_import(client, "roster", "roster_2021_spring.xlsx", roster)
        state = wait_for(client, roster_job)
        assert state["state"] == "done" and state["done"] == state["total"] == 1202
        assert children() == 1194
    finally:
        stop(worker)

    # A worker killed in the middle of an import: the job is shown failed, nothing written.
    sys.path.insert(0, str(ROOT / "bench"))
    import import_roster as bench

    big = tmp_path / "big.xlsx"
    bench.generate(big, 20_000)
    big_job = post_import(client, "roster", "big.xlsx", big.read_bytes())
    worker = start_worker(app)
    try:
        wait_for(client, big_job, states=("running",))
        deadline = time.monotonic() + 240
        while not client.get(f"/imports/jobs/{big_job}.json").get_json()["done"]:
            assert time.monotonic() < deadline
            time.sleep(0.1)
    finally:
        stop(worker, signal.SIGKILL)
    state = wait_for(client, big_job, states=("failed",), timeout=60)
    assert "工作进程已停止" in state["error"]
    assert children() == 1194  # nothing half-written
    assert client.post(f"/imports/jobs/{big_job}/rerun").status_code == 302
    worker = start_worker(app)
    try:
        state = wait_for(client, big_job, timeout=400)
        assert state["state"] == "done", state
        with app.app_context():
            job = db.session.get(Job, big_job)
            assert job.attempts == 2 and job.result["rows"] == 20_000
    finally:
        stop(worker)


# --- a hostile household register fails its job, not the web server ---------------------


def _xlsx(sheet: bytes, level: int = 6) -> bytes:
    """A one-sheet workbook around the worksheet part ``sheet`` (raw XML, as no
    spreadsheet program would write it)."""
    ns = "http://schemas.openxmlformats.org/"
    parts = {
        "[Content_Types].xml": f'<Types xmlns="{ns}package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>',
        "_rels/.rels": f'<Relationships xmlns="{ns}package/2006/relationships"><Relationship Id="rId1" Type="{ns}officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>',
        "xl/workbook.xml": f'<workbook xmlns="{ns}spreadsheetml/2006/main" xmlns:r="{ns}officeDocument/2006/relationships"><sheets><sheet name="户籍" sheetId="1" r:id="rId1"/></sheets></workbook>',
        "xl/_rels/workbook.xml.rels": f'<Relationships xmlns="{ns}package/2006/relationships"><Relationship Id="rId1" Type="{ns}officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>',
    }
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=level) as z:
        for name, text in parts.items():
            z.writestr(name, text)
        z.writestr("xl/worksheets/sheet1.xml", sheet)
    return buf.getvalue()


def _sheet(rows: str, dimension: str = "", tail: bytes = b"") -> bytes:
    dim = f'<dimension ref="{dimension}"/>' if dimension else ""
    return (f'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">{dim}<sheetData>{rows}'
            "</sheetData>").encode() + tail + b"</worksheet>"


def _cell(ref: str, text: str) -> str:
    return f'<c r="{ref}" t="inlineStr"><is><t>{text}</t></is></c>'


HEADER = f'<row r="1">{_cell("A1", "姓名")}{_cell("B1", "公民身份号码")}{_cell("C1", "户籍地址")}</row>'
#: The attack files of issue 14: the lone far cell XFD1048576 under a register's header
#: (the reader would allocate the declared 1,048,576 × 16,384 sheet), and a 200 MB
#: sheet of blanks zipped to a few hundred kilobytes.
HOSTILE = {
    "far-cell": lambda: _xlsx(_sheet(HEADER + f'<row r="1048576">{_cell("XFD1048576", "x")}</row>', "A1:XFD1048576")),
    "zip-bomb": lambda: _xlsx(_sheet(HEADER, tail=b" " * (200 * 1024 * 1024)), level=9),
}
#: What each is refused for (edu_guard.uploads, in Chinese).
REASONS = {"far-cell": "列数过多", "zip-bomb": "压缩比异常"}


def _rss_mb(pid: int | str = "self", field: str = "VmRSS") -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(next(line.split()[1] for line in status.splitlines() if line.startswith(field + ":"))) / 1024


class _PeakRSS:
    """Samples this process's resident memory every 5 ms while the block runs."""

    def __enter__(self):
        import threading

        self.base = self.peak = _rss_mb()
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()
        return self

    def _run(self):
        while not self.stopped.wait(0.005):
            self.peak = max(self.peak, _rss_mb())

    def __exit__(self, *exc):
        self.stopped.set()
        self.thread.join()
        self.peak = max(self.peak, _rss_mb())

    @property
    def grown(self) -> float:
        return self.peak - self.base


@pytest.mark.parametrize("worker_app", ["", REDIS_URL], ids=["sqlite-queue", "redis-queue"], indirect=True)
def test_a_hostile_household_register_fails_its_job_and_the_web_process_stays_small(worker_app):
    """The register is stored unread by the web process (its RSS grows by little more
    than the file); the worker checks it before parsing and fails the job with the
    Chinese reason; no run is stored; the worker lives on and stays small."""
    from edu_guard.comparisons.models import ComparisonRun

    app = worker_app
    with app.app_context():
        clerk = User(username="clerk", display_name="办事员", role="clerk")
        clerk.set_password("pw")
        db.session.add(clerk)
        db.session.commit()
        clerk_id = clerk.id
    client = sign_in(app, clerk_id)
    files = {name: make() for name, make in HOSTILE.items()}
    job_ids = {}
    for name, data in files.items():
        assert len(data) < 1024 * 1024  # a small upload …
        with _PeakRSS() as rss:
            resp = client.post("/comparisons", data={"kind": "household", "as_of": "2021-04-30",
                                                     "file": (io.BytesIO(data), f"{name}.xlsx")},
                               content_type="multipart/form-data")
        assert resp.status_code == 302 and resp.location.startswith("/jobs/"), resp.text
        assert rss.grown < 50, f"{name}: the web process grew by {rss.grown:.0f} MB"
        job_ids[name] = int(resp.location.rsplit("/", 1)[1])
        assert client.get(f"/jobs/{job_ids[name]}.json").get_json()["state"] == "queued"

    worker = start_worker(app)
    try:
        for name, job_id in job_ids.items():
            deadline = time.monotonic() + 120
            while (state := client.get(f"/jobs/{job_id}.json").get_json())["state"] not in ("done", "failed"):
                assert time.monotonic() < deadline, state
                time.sleep(0.2)
            assert state["state"] == "failed" and REASONS[name] in state["error"], state
            assert "内部错误" not in state["error"]
            page = client.get(f"/jobs/{job_id}").text
            assert REASONS[name] in page and "重新运行" in page
        assert worker.poll() is None  # the job failed, not the worker
        assert _rss_mb(worker.pid, "VmHWM") < 600  # …and checking the files never inflated them
    finally:
        stop(worker)
    with app.app_context():
        assert db.session.execute(sa.select(sa.func.count(ComparisonRun.id))).scalar() == 0
