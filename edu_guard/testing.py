"""pytest fixtures shared by the core and plugin test suites (entry point ``pytest11``).

The database is SQLite in a temporary folder unless ``EDU_GUARD_TEST_DATABASE_URL``
names another (``make test`` runs the suite once more on PostgreSQL that way). A
configured database that cannot be reached fails the tests; it is never skipped.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

DEMO_DIR = Path(__file__).resolve().parent / "demo" / "county_2021"


@pytest.fixture
def app(tmp_path):
    """A fresh app on an empty database with every table created; dropped afterwards."""
    from edu_guard import create_app
    from edu_guard.db import db

    url = os.environ.get("EDU_GUARD_TEST_DATABASE_URL") or f"sqlite:///{tmp_path / 'test.sqlite3'}"
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test-secret",
            "WTF_CSRF_ENABLED": False,
            "INSTANCE_PATH": str(tmp_path / "instance"),
            "EDU_GUARD_DATABASE_URL": url,
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
