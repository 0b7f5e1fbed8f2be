"""pytest fixtures shared by the core and plugin test suites (entry point ``pytest11``).

The database is SQLite in a temporary folder unless ``EDU_GUARD_TEST_DATABASE_URL``
names another (``make test`` runs the suite once more on PostgreSQL that way). A
configured database that cannot be reached fails the tests; it is never skipped.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa
from edu_guard.app import create_app
from edu_guard.cli import register
from edu_guard.db import db
from edu_guard.auth.models import User
from edu_guard.cases.models import DropoutCase
from edu_guard.schemes.base import TermInfo
from edu_guard.schemes.base import Candidate
from edu_guard.registry.services import load_demo

DEMO_DIR = Path(__file__).resolve().parent / "demo" / "county_2021"
#: The ``edu-guard`` command of the environment running the tests.
EDU_GUARD = Path(sys.executable).parent / "edu-guard"


def speak(client, lang: str) -> None:
    """Choose the interface language of ``client`` as a user does (the header's switch:
    ``?lang=``, kept in a cookie). The locale a request leaves on a test's shared app
    context is dropped, so what the test renders itself, outside a request, is Chinese
    again."""
    from flask import g

    g.pop("_flask_babel", None)
    client.get(f"/login?lang={lang}")
    g.pop("_flask_babel", None)


# --- a case carried through its pages (控辍保学个案, as a clerk does it) ------------


def act_through_page(client, case, event: str, on: str, **fields):
    """Post act ``event`` (``"issue_order"`` …) of ``case`` dated ``on`` (ISO) through the
    case page's form, with the case's current version; returns the page it leads to."""
    db.session.refresh(case)
    return client.post(f"/cases/{case.id}/act", data={"event": event, "version": case.version, "on": on, **fields},
                       follow_redirects=True)


def serve_through_page(client, case, letter, on: str):
    """Record the direct service (直接送达) of ``letter`` on ``on`` (ISO) to the
    guardian through the case page; returns the page it leads to."""
    db.session.refresh(case)
    return client.post(f"/cases/{case.id}/service", data={"version": case.version, "letter_id": letter.id,
                                                         "served_on": on, "manner": "直接送达",
                                                         "served_to": "岩温之父", "served_by": "刀建华"},
                       follow_redirects=True)


def case_with_order_through_page(client, child):
    """Open a case of ``child`` on 1 March 2021 through the pages, log a home visit on
    2 March and issue the order (责令改正) on 9 March, not served.

    :return: ``(case, order letter)``.
    """
    client.post(f"/children/{child.id}/cases/new", data={"reason": "厌学", "opened_on": "2021-03-01"})
    case = db.session.execute(sa.select(DropoutCase).where(DropoutCase.child_id == child.id)).scalar_one()
    client.post(f"/cases/{case.id}/visits", data={"visited_on": "2021-03-02", "visitors": "李老师", "form": "入户",
                                                 "findings": "x", "version": case.version})
    act_through_page(client, case, "escalate_to_order", "2021-03-09")
    act_through_page(client, case, "issue_order", "2021-03-09")
    return case, case.letters[0]


# --- instances run as a deployment runs them (processes of ``edu-guard``) ----------


def write_instance_config(app, *lines: str) -> None:
    """Write the ``config.py`` of ``app``'s instance folder naming its database and
    queue, as a deployment's does, so ``edu-guard`` processes started on that folder
    use them; ``lines`` are further settings (``"NAME = value"``)."""
    options = app.config["SQLALCHEMY_ENGINE_OPTIONS"]
    text = [
        f"SECRET_KEY = {app.config['SECRET_KEY']!r}",
        f"EDU_GUARD_DATABASE_URL = {app.config['SQLALCHEMY_DATABASE_URI']!r}",
        f"SQLALCHEMY_ENGINE_OPTIONS = {{'connect_args': {dict(options.get('connect_args') or {})!r}}}",
        f"EDU_GUARD_QUEUE_URL = {app.config.get('EDU_GUARD_QUEUE_URL') or ''!r}",
        f"EDU_GUARD_QUEUE_NAME = {app.config.get('EDU_GUARD_QUEUE_NAME') or 'edu_guard'!r}",
        "EDU_GUARD_JOB_HEARTBEAT_SECONDS = 1",
        *lines,
    ]
    (Path(app.instance_path) / "config.py").write_text("\n".join(text) + "\n", encoding="utf-8")


def instance_env(instance: Path) -> dict[str, str]:
    """The environment of an ``edu-guard`` process on ``instance``: its config.py names
    the database, never the test run's variables."""
    env = {**os.environ, "EDU_GUARD_INSTANCE_PATH": str(instance)}
    for name in ("EDU_GUARD_TEST_DATABASE_URL", "EDU_GUARD_DATABASE_URL"):
        env.pop(name, None)
    return env


def start(instance: Path, log: Path, *args: str) -> subprocess.Popen:
    """Start ``edu-guard ARGS`` (``"worker"``, ``"serve", "--port", …``) on ``instance``
    in its own process group, its output in ``log``; stop it with :func:`stop`."""
    with open(log, "w") as out:
        return subprocess.Popen([str(EDU_GUARD), *args], env=instance_env(instance), stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True)


def stop(proc: subprocess.Popen, timeout: float = 60) -> None:
    """Stop a process :func:`start` started as Ctrl-C would (SIGINT to its group),
    killing it if it has not ended within ``timeout`` seconds."""
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGINT)
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


@pytest.fixture(scope="session")
def database_url():
    """The test database: ``EDU_GUARD_TEST_DATABASE_URL`` or ``None`` for SQLite.

    On PostgreSQL every test session works in a schema of its own (dropped at the
    end), so parallel runs on one server never see each other's tables.
    """
    url = os.environ.get("EDU_GUARD_TEST_DATABASE_URL")
    if not url or not url.startswith("postgresql"):
        yield url, {}
        return
    import sqlalchemy as sa

    schema = f"eg_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text(f"CREATE SCHEMA {schema}"))
    yield url, {"connect_args": {"options": f"-csearch_path={schema}"}}
    with engine.begin() as conn:
        conn.execute(sa.text(f"DROP SCHEMA {schema} CASCADE"))
    engine.dispose()


#: The sample penalty basis, fine range, payment account and contact the tests use.
TEST_PENALTY_SETTINGS = {
    "EDU_GUARD_PENALTY_BASIS": "《云南省义务教育条例》第四十二条",
    "EDU_GUARD_FINE_MIN": "50",
    "EDU_GUARD_FINE_MAX": "500",
    "EDU_GUARD_FINE_PAYMENT_ACCOUNT": {"bank": "中国农业银行景洪市分行", "account_name": "景洪市财政局非税收入专户",
                                       "account_number": "24500101040000001"},
    "EDU_GUARD_BUREAU_CONTACT": {"person": "李明", "phone": "0691-2120000", "address": "景洪市宣慰大道1号"},
}


def _fresh_app(folder: Path, database_url, **config):
    """Build a test app in ``folder`` on the test database, with every table created."""

    url, engine_options = database_url
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test-secret",
            "WTF_CSRF_ENABLED": False,
            "INSTANCE_PATH": str(folder / "instance"),
            "EDU_GUARD_DATABASE_URL": url or f"sqlite:///{folder / 'test.sqlite3'}",
            "SQLALCHEMY_ENGINE_OPTIONS": dict(engine_options),
            "EDU_GUARD_QUEUE_IMMEDIATE": True,  # jobs run at once in the test's process
            # The county's penalty settings have no default (edu_guard.config); tests
            # use a sample set, as the demo does. Tests of the refusal unset them.
            **TEST_PENALTY_SETTINGS,
            **config,
        }
    )
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    register(app)  # ``flask edu-guard …`` on app.cli, as before
    with app.app_context():
        db.drop_all()
        db.create_all()
    return app


def _drop(app) -> None:
    with app.app_context():
        db.session.remove()
        db.drop_all()
        db.engine.dispose()


@pytest.fixture
def app(tmp_path, database_url):
    """A fresh app on an empty database with every table created; dropped afterwards."""
    app = _fresh_app(tmp_path, database_url)
    yield app
    _drop(app)


@pytest.fixture
def app_ctx(app):
    """An application context pushed for the test (for services and models)."""
    with app.app_context():
        yield app


@pytest.fixture
def client(app):
    """A test client of :func:`app`."""
    return app.test_client()


@pytest.fixture
def demo_dir() -> Path:
    """The sample county's files (景洪市, 2021 spring term)."""
    return DEMO_DIR


@pytest.fixture
def make_user(app_ctx):
    """Factory: ``make_user(role="clerk", username=None, password="pw", township=None,
    school=None)`` → a committed :class:`edu_guard.auth.models.User`."""

    counter = iter(range(1, 10_000))

    def make(role: str = "clerk", username: str | None = None, password: str = "pw", township=None, school=None):
        user = User(
            username=username or f"{role}{next(counter)}",
            display_name=username or role,
            role=role,
            township_id=getattr(township, "id", None),
            school_id=getattr(school, "id", None),
        )
        user.set_password(password)
        db.session.add(user)
        db.session.commit()
        return user

    return make


@pytest.fixture
def plugin_app(tmp_path, database_url):
    """Factory: ``plugin_app(plugins, settings=None, enabled=())`` → an app (tables created,
    dropped afterwards) with only the chosen plugins.

    :param plugins: plugin objects to register, as modules (named by their last dotted
        part) or ``(name, object)`` pairs — a plugin under test need not be installed.
    :param settings: ``EDU_GUARD_PLUGIN_SETTINGS`` for the app (by plugin name).
    :param enabled: installed plugins to enable by entry-point name as well.

    The built-in national schemes are always there, as in production.
    """
    import itertools

    made, numbers = [], itertools.count()

    def make(plugins=(), settings=None, enabled=()):
        objects = [p if isinstance(p, tuple) else (p.__name__.rsplit(".", 1)[-1], p) for p in plugins]
        folder = tmp_path / f"plugin_app{next(numbers)}"
        folder.mkdir()
        app = _fresh_app(folder, database_url, EDU_GUARD_PLUGINS=list(enabled), EDU_GUARD_PLUGIN_OBJECTS=objects,
                         EDU_GUARD_PLUGIN_SETTINGS=dict(settings or {}))
        made.append(app)
        return app

    yield make
    for app in made:
        _drop(app)


@pytest.fixture
def aid_term():
    """The sample county's term: 2021年春季学期, 1 March to 9 July 2021, 90 school days
    (a :class:`edu_guard.schemes.base.TermInfo`)."""
    from datetime import date

    return TermInfo("2021-spring", "2021年春季学期", date(2021, 3, 1), date(2021, 7, 9), 90)


@pytest.fixture
def make_candidate():
    """Factory: ``make_candidate(**fields)`` → a :class:`edu_guard.schemes.base.Candidate`
    (default: a day pupil of 勐罕中心小学, 小学 三年级, 傣族, no family status)."""

    def make(**fields):
        values = {
            "child_id": 1, "id_number": "532801201201010011", "name": "玉香", "school_code": "2153280177",
            "school_name": "勐罕中心小学", "stage": "小学", "grade": "三年级", "boarding": False,
            "ethnicity": "傣族", "family_kinds": frozenset(), "disabled": False, "township": "勐罕镇",
        }
        values.update(fields)
        values["family_kinds"] = frozenset(values["family_kinds"])
        return Candidate(**values)

    return make


@pytest.fixture
def county(app_ctx):
    """The sample county (schools, roster, 勐罕镇 CSV, status changes, families, disabled)
    loaded into the app's database; returns the app."""

    load_demo()
    db.session.commit()
    return app_ctx


# --- browser tests ------------------------------------------------------------------
# The app served on a random localhost port, driven by Playwright in Debian's
# ``chromium`` (``/usr/bin/chromium``, installed by ``tools/system-packages.sh``;
# Playwright's own browser downloads are never used). A missing chromium or Playwright
# fails the tests with the command to fix it: nothing is skipped silently.

CHROMIUM = os.environ.get("EDU_GUARD_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
PHONE = {"width": 390, "height": 844}


def pytest_collection_modifyitems(items):
    """Every test using the browser carries the ``browser`` mark (``pytest -m browser``)."""
    for item in items:
        if "browser" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def browser():
    """One headless chromium for the session (Playwright's sync API)."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:  # pragma: no cover - a set-up fault, said plainly
        pytest.fail("Playwright is not installed: run `make setup` (it installs the test extra)", pytrace=False)
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(f"{CHROMIUM} is missing: run `make setup` as root or `apt-get install chromium`", pytrace=False)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture
def live_server(app):
    """The test ``app`` (fresh database) served by werkzeug in a thread on a random port;
    returns its base URL (``http://127.0.0.1:<port>``). Stopped after the test."""
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)
    server.server_close()


@pytest.fixture
def page(browser, live_server):
    """A fresh browser page (own cookies) at desktop size; ``page.base`` is the server URL."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN", base_url=live_server)
    context.set_default_timeout(15_000)
    pg = context.new_page()
    yield pg
    context.close()


@pytest.fixture
def phone(browser, live_server):
    """A fresh browser page 390 px wide, as a teacher's phone."""
    context = browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True,
                                  locale="zh-CN", base_url=live_server)
    context.set_default_timeout(15_000)
    pg = context.new_page()
    yield pg
    context.close()


@pytest.fixture
def sign_in():
    """``sign_in(page, username, password="pw")``: fill the login form and wait for home."""

    def do(pg, username: str, password: str = "pw"):
        pg.goto("/login")
        pg.fill("input[name=username]", username)
        pg.fill("input[name=password]", password)
        pg.click("button[type=submit]")
        pg.wait_for_load_state()
        assert "/login" not in pg.url, pg.inner_text("main")

    return do
