"""pytest fixtures shared by the core and plugin test suites (entry point ``pytest11``).

The database is SQLite in a temporary folder unless ``EDU_GUARD_TEST_DATABASE_URL``
names another (``make test`` runs the suite once more on PostgreSQL that way). A
configured database that cannot be reached fails the tests; it is never skipped.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest

DEMO_DIR = Path(__file__).resolve().parent / "demo" / "county_2021"


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


@pytest.fixture
def app(tmp_path, database_url):
    """A fresh app on an empty database with every table created; dropped afterwards."""
    from edu_guard import create_app
    from edu_guard.db import db

    url, engine_options = database_url
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test-secret",
            "WTF_CSRF_ENABLED": False,
            "INSTANCE_PATH": str(tmp_path / "instance"),
            "EDU_GUARD_DATABASE_URL": url or f"sqlite:///{tmp_path / 'test.sqlite3'}",
            "SQLALCHEMY_ENGINE_OPTIONS": dict(engine_options),
        }
    )
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    with app.app_context():
        db.drop_all()
        db.create_all()
    yield app
    with app.app_context():
        db.session.remove()
        db.drop_all()
        db.engine.dispose()


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
    from edu_guard.auth.models import User
    from edu_guard.db import db

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
