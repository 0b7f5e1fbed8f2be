"""No request fails because another one writes: while a 100,000-row roster import holds
the database (one transaction, in another process), 20 concurrent sign-ins succeed
without waiting for it and a home visit is saved once the import commits; a write that
still finds the database locked is answered 503 "系统繁忙，请稍后重试", never 500."""

from __future__ import annotations

import csv
import json
import os
import sqlite3
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from edu_guard import clock
from edu_guard.auth.models import AuditLog, User
from edu_guard.cases.models import HomeVisit
from edu_guard.db import db, wait_for_deferred_writes
from edu_guard.registry.models import Child
from edu_guard.testing import DEMO_DIR, _drop, _fresh_app

ROWS = 100_000
SIGN_INS = 20
#: The default busy timeout (config.EDU_GUARD_SQLITE_BUSY_TIMEOUT): a sign-in must be done within it.
DEFAULT_BUSY_TIMEOUT = 30
WEIGHTS = [2 ** (17 - i) % 11 for i in range(17)]


def check_char(first17: str) -> str:
    """GB 11643 MOD 11-2 check character."""
    return "10X98765432"[sum(int(d) * w for d, w in zip(first17, WEIGHTS)) % 11]


def write_roster(path: Path, rows: int) -> None:
    """A roster CSV of ``rows`` distinct pupils of the sample county's 勐罕中心小学."""
    start = date(2008, 9, 1)
    with path.open("w", encoding="utf-8", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(["姓名", "性别", "出生日期", "民族", "身份证号", "学籍号", "学校名称", "年级", "班级", "是否寄宿", "家庭类型"])
        for i in range(rows):
            born = start + timedelta(days=i % 2000)
            odd = i % 2
            first17 = f"532801{born:%Y%m%d}{(i // 2000) % 100:02d}{(i // 200_000) * 2 + odd}"
            number = first17 + check_char(first17)
            out.writerow(["玉" + "罕温香叫应坎南光明华"[i % 10] + "梅秀雨涵子"[i // 10 % 5], "男" if odd else "女",
                          born.strftime("%Y/%m/%d"), "傣族", number, "G" + number, "勐罕中心小学", "六年级", "1班", "否", ""])


IMPORT = """
import json, sys
from edu_guard.app import create_app
from edu_guard.db import db
from edu_guard.registry.services import import_file
config = json.loads(sys.argv[1])
app = create_app(config)
with app.app_context():
    result = import_file("roster", sys.argv[2])
    db.session.commit()
    print(json.dumps({"created": result.created, "rejected": len(result.rejects)}))
"""


def writer_active(app) -> bool:
    """Whether another connection holds a write on the database (the import)."""
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    if url.startswith("sqlite"):
        conn = sqlite3.connect(url.removeprefix("sqlite:///"), timeout=0)
        try:
            conn.execute("BEGIN IMMEDIATE")
            conn.rollback()
            return False
        except sqlite3.OperationalError as exc:
            return "locked" in str(exc)
        finally:
            conn.close()
    with db.engine.connect() as conn:
        return bool(conn.execute(sa.text(
            "SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation "
            "WHERE c.relname = 'enrollment' AND l.mode = 'RowExclusiveLock' AND l.pid <> pg_backend_pid()"
        )).scalar())


@pytest.fixture
def busy_app(tmp_path, database_url):
    # Writers wait up to 300 s here so the home visit outlasts the import on a loaded machine.
    app = _fresh_app(tmp_path, database_url, EDU_GUARD_SQLITE_BUSY_TIMEOUT=300)
    yield app
    _drop(app)


def test_sign_ins_and_a_home_visit_while_a_100000_row_import_runs(busy_app, tmp_path):
    from edu_guard.auth.models import User
    from edu_guard.cases import services as cases
    from edu_guard.registry.services import import_file

    app = busy_app
    with app.app_context():
        import_file("schools", DEMO_DIR / "schools.csv")
        db.session.commit()
        users = []
        for n in range(SIGN_INS):
            user = User(username=f"clerk{n}", display_name=f"办事员{n}", role="clerk")
            user.set_password(f"pw-{n}-secret")
            users.append(user)
        db.session.add_all(users)
        from edu_guard.registry.models import Enrollment, School

        school = db.session.execute(sa.select(School).where(School.name == "勐罕中心小学")).scalar_one()
        child = Child(id_number="532801200901142694", name="岩温", sex="男", birth_date=date(2009, 1, 14),
                      ethnicity="傣族", township=school.township)
        db.session.add_all([child, Enrollment(child=child, school=school, grade="六年级", class_name="1班", status="在读")])
        db.session.flush()
        case = cases.open_case(child, reason="厌学", opened_on=clock.today(),
                               assignments=[{"role": "class_teacher", "name": "李老师", "phone": "139"}])
        db.session.commit()
        case_id, clerk_id = case.id, users[0].id
    roster = tmp_path / "roster.csv"
    write_roster(roster, ROWS)

    engine_options = app.config["SQLALCHEMY_ENGINE_OPTIONS"]
    config = {"SECRET_KEY": "test-secret", "INSTANCE_PATH": app.instance_path,
              "EDU_GUARD_DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
              "SQLALCHEMY_ENGINE_OPTIONS": {"connect_args": engine_options.get("connect_args", {})}}
    importer = subprocess.Popen([sys.executable, "-c", IMPORT, json.dumps(config), str(roster)],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        with app.app_context():
            deadline = time.monotonic() + 300
            while not writer_active(app):  # wait until the import holds the write lock
                assert importer.poll() is None, importer.communicate()
                assert time.monotonic() < deadline, "the import never started writing"
                time.sleep(0.05)

            def sign_in(n: int):
                client = app.test_client()
                started = time.monotonic()
                response = client.post("/login", data={"username": f"clerk{n}", "password": f"pw-{n}-secret"})
                elapsed = time.monotonic() - started
                signed_in = client.get("/children").status_code
                return response.status_code, response.headers.get("Location"), signed_in, elapsed

            def save_visit():
                with app.app_context():  # a read: the import's lock does not stop it
                    session_id = db.session.get(User, clerk_id).get_id()  # "<id>:<session token>"
                client = app.test_client()
                with client.session_transaction() as session:
                    session["_user_id"] = session_id
                    session["_fresh"] = True
                return client.post(f"/cases/{case_id}/visits", data={
                    "visited_on": clock.today().isoformat(), "visitors": "李老师", "form": "入户", "findings": "家长同意劝返"})

            with ThreadPoolExecutor(max_workers=SIGN_INS + 1) as pool:
                visit = pool.submit(save_visit)
                results = list(pool.map(sign_in, range(SIGN_INS)))
                # The sign-ins did not wait for the import: it still holds the database.
                still_writing = writer_active(app)
                visit_response = visit.result(timeout=600)
    finally:
        out, err = importer.communicate(timeout=600)
    assert importer.returncode == 0, err
    assert still_writing, "the import finished before the sign-ins did; the test proved nothing"
    assert [(code, where, page) for code, where, page, _ in results] == [(302, "/", 200)] * SIGN_INS
    assert max(elapsed for *_, elapsed in results) < DEFAULT_BUSY_TIMEOUT
    assert visit_response.status_code == 302, visit_response.text
    assert json.loads(out.strip().splitlines()[-1]) == {"created": ROWS, "rejected": 0}

    with app.app_context():
        assert wait_for_deferred_writes(120)
        count = lambda stmt: db.session.execute(stmt).scalar()  # noqa: E731
        assert count(sa.select(sa.func.count()).select_from(Child)) == ROWS + 1
        assert count(sa.select(sa.func.count()).select_from(HomeVisit)) == 1
        logins = db.session.execute(sa.select(AuditLog.after).where(AuditLog.action == "login")).scalars().all()
        assert sorted(a["username"] for a in logins) == sorted(f"clerk{n}" for n in range(SIGN_INS))


@pytest.mark.skipif(bool(os.environ.get("EDU_GUARD_TEST_DATABASE_URL", "").startswith("postgresql")),
                    reason="SQLite's busy timeout; PostgreSQL's lock_timeout is the same handler")
def test_a_write_that_stays_locked_is_answered_503_in_chinese(tmp_path, database_url):
    app = _fresh_app(tmp_path, database_url, EDU_GUARD_SQLITE_BUSY_TIMEOUT=0.2)
    try:
        with app.app_context():
            from edu_guard.auth.models import User

            user = User(username="admin", display_name="管理员", role="admin")
            user.set_password("pw")
            db.session.add(user)
            db.session.commit()
            user_id = user.id
        holder = sqlite3.connect(app.config["SQLALCHEMY_DATABASE_URI"].removeprefix("sqlite:///"))
        holder.execute("BEGIN IMMEDIATE")  # another writer holds the lock
        try:
            client = app.test_client()
            with app.app_context():
                session_id = db.session.get(User, user_id).get_id()  # "<id>:<session token>"
            with client.session_transaction() as session:
                session["_user_id"] = session_id
            # a write by the administrator: creating a user
            form = {"username": "new1", "display_name": "新", "role": "clerk", "password": "longenough-pw"}
            page = client.post("/users/new", data=form)
            assert page.status_code == 503
            assert "系统繁忙，请稍后重试" in page.text and page.headers["Retry-After"] == "10"
            api = client.post("/users/new", data=form, headers={"Accept": "application/json"})
            assert api.status_code == 503 and api.json["error"] == "busy" and "系统繁忙" in api.json["message"]
            # Sign-in still works: it only reads, its audit row waits for the lock.
            signin = app.test_client().post("/login", data={"username": "admin", "password": "pw"})
            assert signin.status_code == 302 and signin.headers["Location"] == "/"
        finally:
            holder.rollback()
            holder.close()
        with app.app_context():
            assert wait_for_deferred_writes(30)
            assert db.session.execute(sa.select(sa.func.count()).select_from(AuditLog)
                                      .where(AuditLog.action == "login")).scalar() == 1
            assert db.session.execute(sa.select(sa.func.count()).select_from(User)).scalar() == 1  # nothing saved
    finally:
        _drop(app)
