"""Backup and restore (issue 11 §6): ``edu-guard backup`` while a queue worker imports a
roster, ``edu-guard restore`` into a fresh instance: the import wholly out of the first
backup and wholly in the second, every table's row count as in the snapshot, the files
byte for byte; a changed file refuses the restore naming it; an instance with data is
kept unless forced; both audited. Runs on SQLite and, with
``EDU_GUARD_TEST_DATABASE_URL``, on PostgreSQL (the target a fresh database)."""

from __future__ import annotations

import gc
import hashlib
import io
import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa

from edu_guard import backup as backups
from edu_guard.app import create_app
from edu_guard.auth.models import AuditLog, User
from edu_guard.db import db, wait_for_deferred_writes
from edu_guard.jobs.models import Job
from edu_guard.registry.models import Child, ImportRun, School
from edu_guard.registry.services import import_file
from edu_guard.testing import DEMO_DIR, EDU_GUARD, _drop, _fresh_app, instance_env, start, stop, write_instance_config
from edu_guard.transaction import finish

ROOT = Path(__file__).resolve().parents[1]
KEY = "backup-test-key-of-more-than-thirty-two-characters"
LETTER = "letters/2021/景教〔2021〕1号.pdf"
LETTER_BYTES = b"%PDF-1.7\n% a stand-in for a printed letter\n"
PHOTO_BYTES = b"\xff\xd8\xff\xe0 a stand-in for a home-visit photo"


def write_config(app) -> None:
    """The instance's config.py naming the app's database and queue, as a deployment's does."""
    write_instance_config(app, f"SECRET_KEY = {KEY!r}", "EDU_GUARD_ACCEPT_SAMPLE_CHECK_DIGITS = True")


def command(instance: Path, *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    """Run ``edu-guard ARGS`` on ``instance`` (its config.py names the database)."""
    return subprocess.run([str(EDU_GUARD), *args], env=instance_env(instance), cwd=ROOT, capture_output=True, text=True,
                          timeout=timeout)


@pytest.fixture
def target(tmp_path, database_url):
    """A fresh instance to restore into: its own folder and an empty database (on
    PostgreSQL a new database with the empty schema the connection names)."""
    url, options = database_url
    made = None
    if url:
        made = f"eg_restore_{os.getpid()}_{uuid.uuid4().hex[:8]}"
        admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(sa.text(f"CREATE DATABASE {made}"))
        target_url = sa.engine.make_url(url).set(database=made).render_as_string(hide_password=False)
        schema = options["connect_args"]["options"].removeprefix("-csearch_path=")
        engine = sa.create_engine(target_url)
        with engine.begin() as conn:
            conn.execute(sa.text(f"CREATE SCHEMA {schema}"))
        engine.dispose()
    else:
        target_url = f"sqlite:///{tmp_path / 'restored' / 'edu_guard.sqlite3'}"
    instance = tmp_path / "restored" / "instance"
    instance.mkdir(parents=True)
    app = create_app({"TESTING": True, "SECRET_KEY": KEY, "INSTANCE_PATH": str(instance),
                      "EDU_GUARD_DATABASE_URL": target_url, "SQLALCHEMY_ENGINE_OPTIONS": dict(options)})
    write_config(app)
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    if made:
        with admin.connect() as conn:
            conn.execute(sa.text(f"DROP DATABASE {made} WITH (FORCE)"))
        admin.dispose()


def counts(app) -> dict[str, int]:
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
        with db.engine.connect() as conn:
            schema = conn.execute(sa.text("SELECT current_schema()")).scalar() if conn.dialect.name == "postgresql" else None
            return backups._table_counts(conn, conn.dialect.name, schema)


def seed_files(app) -> None:
    """A printed letter and a 送教上门 photo in the instance's folders."""
    instance = Path(app.instance_path)
    (instance / LETTER).parent.mkdir(parents=True, exist_ok=True)
    (instance / LETTER).write_bytes(LETTER_BYTES)
    photo = instance / "attachments" / hashlib.sha256(PHOTO_BYTES).hexdigest()
    photo.parent.mkdir(parents=True, exist_ok=True)
    photo.write_bytes(PHOTO_BYTES)


def sign_in(app, user_id: int):
    with app.app_context():
        session_id = db.session.get(User, user_id).get_id()
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = session_id
        session["_fresh"] = True
    return client


def job_state(app, job_id: int) -> Job:
    with app.app_context():
        job = db.session.get(Job, job_id)
        db.session.expunge(job)
        return job


@pytest.fixture
def source(tmp_path, database_url):
    """The running instance: schools imported, a letter and a photo on disk, a clerk;
    the queue in its SQLite file, run by a worker process the test starts."""
    app = _fresh_app(tmp_path / "source", database_url, EDU_GUARD_QUEUE_IMMEDIATE=False, EDU_GUARD_QUEUE_URL="",
                     EDU_GUARD_QUEUE_NAME=f"edu_guard_backup_{uuid.uuid4().hex[:8]}",
                     EDU_GUARD_ACCEPT_SAMPLE_CHECK_DIGITS=True)
    with app.app_context():
        import_file("schools", DEMO_DIR / "schools.csv", "schools.csv")
        clerk = User(username="clerk", display_name="办事员", role="clerk")
        clerk.set_password("pw")
        db.session.add(clerk)
        finish(ok=True)
        app.config["clerk_id"] = clerk.id
    seed_files(app)
    write_config(app)
    yield app
    _drop(app)


# Werkzeug's test client spools a request body over 500 kB to a temporary file it never
# closes (werkzeug/test.py, stream_encode_multipart): the big upload trips it.
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_backup_during_an_import_job_restores_whole_into_a_fresh_instance(source, target, tmp_path):
    sys.path.insert(0, str(ROOT / "bench"))
    import import_roster as bench

    roster = tmp_path / "roster.xlsx"
    bench.generate(roster, 30_000)
    client = sign_in(source, source.config["clerk_id"])
    response = client.post("/imports", data={"kind": "roster", "file": (io.BytesIO(roster.read_bytes()), "roster.xlsx")},
                           content_type="multipart/form-data")
    assert response.status_code == 302, response.text
    job_id = int(response.headers["Location"].rsplit("/", 1)[1])
    del response
    gc.collect()
    uploads = Path(source.instance_path) / "uploads"  # the raw file: whole ID numbers inside
    assert uploads.stat().st_mode & 0o777 == 0o700
    assert (uploads / hashlib.sha256(roster.read_bytes()).hexdigest()).stat().st_mode & 0o777 == 0o600  # the spooled upload (above) is closed inside the test, where the warning is ignored
    before = counts(source)
    assert before["child"] == 0 and before["school"] > 0

    instance = Path(source.instance_path)
    worker = start(instance, tmp_path / "worker.log", "worker")
    try:
        # 1. While the worker imports (its transaction open, nothing committed): a backup,
        #    in-process in the web app, the worker writing meanwhile.
        deadline = time.monotonic() + 300
        while (state := job_state(source, job_id).state) == "queued":
            assert time.monotonic() < deadline, (tmp_path / "worker.log").read_text()
            time.sleep(0.02)
        assert state == "running", (tmp_path / "worker.log").read_text()
        started = time.monotonic()
        with source.app_context():
            first = backups.backup(tmp_path / "backup-1")
            finish(ok=True)
        took = time.monotonic() - started
        print(f"backup during the import: {took:.2f} s")
        assert job_state(source, job_id).state == "running", took  # the import was still going on

        # 2. The import finishes; a second backup by the command.
        deadline = time.monotonic() + 600
        while job_state(source, job_id).state not in ("done", "failed"):
            assert time.monotonic() < deadline, (tmp_path / "worker.log").read_text()
            time.sleep(0.5)
    finally:
        stop(worker)
    done = job_state(source, job_id)
    assert done.state == "done", done.error
    assert wait_for_deferred_writes(60)  # the first backup's audit row, if the import held the lock
    run = command(instance, "backup", str(tmp_path / "backup-2"))
    assert run.returncode == 0, run.stderr
    after = counts(source)
    imported = done.result["rows"]
    assert after["child"] > 25_000 and after["import_run"] == before["import_run"] + 1

    # The first backup: the import wholly out, everything else in, files byte for byte.
    manifest = first.manifest
    assert manifest["database"]["counts"]["child"] == 0
    assert {t: n for t, n in manifest["database"]["counts"].items() if t != "audit_log"} == \
        {t: n for t, n in before.items() if t != "audit_log"}
    assert set(manifest["files"]) >= {LETTER, f"uploads/{hashlib.sha256(roster.read_bytes()).hexdigest()}", "config.py"}
    restored_instance = Path(target.instance_path)
    run = command(restored_instance, "restore", str(tmp_path / "backup-1"))
    assert run.returncode == 0, run.stderr + run.stdout
    assert "已从" in run.stdout and "1 个任务未完成" in run.stdout
    restored = counts(target)
    assert {t: n for t, n in restored.items() if t != "audit_log"} == \
        {t: n for t, n in manifest["database"]["counts"].items() if t != "audit_log"}
    assert restored["audit_log"] == manifest["database"]["counts"]["audit_log"] + 1  # the restore itself
    with target.app_context():
        assert db.session.execute(sa.select(sa.func.count()).select_from(Child)).scalar() == 0
        job = db.session.get(Job, job_id)
        assert job.state == "failed" and job.error == backups.RESTORED_JOB_ERROR  # run it again
        assert db.session.execute(sa.select(sa.func.count()).select_from(ImportRun)
                                  .where(ImportRun.kind == "roster")).scalar() == 0
        last = db.session.execute(sa.select(AuditLog).order_by(AuditLog.id.desc()).limit(1)).scalar_one()
        assert (last.action, last.entity) == ("restore", "instance")
    assert (restored_instance / LETTER).read_bytes() == LETTER_BYTES
    photo = restored_instance / "attachments" / hashlib.sha256(PHOTO_BYTES).hexdigest()
    assert photo.read_bytes() == PHOTO_BYTES
    for folder in backups.FOLDERS:
        assert (restored_instance / folder).stat().st_mode & 0o777 == 0o700
    assert (restored_instance / "config.py.from-backup").stat().st_mode & 0o777 == 0o600
    if target.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        assert Path(sa.engine.make_url(target.config["SQLALCHEMY_DATABASE_URI"]).database).stat().st_mode & 0o777 == 0o600

    # The target now holds data: the second backup is refused unless forced.
    run = command(restored_instance, "restore", str(tmp_path / "backup-2"))
    assert run.returncode == 1 and "本实例已有数据" in run.stderr and "--force" in run.stderr
    run = command(restored_instance, "restore", "--force", str(tmp_path / "backup-2"))
    assert run.returncode == 0, run.stderr + run.stdout
    second = json.loads((tmp_path / "backup-2" / backups.MANIFEST).read_text(encoding="utf-8"))
    restored = counts(target)
    assert {t: n for t, n in restored.items() if t != "audit_log"} == \
        {t: n for t, n in after.items() if t != "audit_log"}  # the import wholly in
    assert second["database"]["counts"]["audit_log"] == after["audit_log"] - 1  # the source audited its backup
    with target.app_context():
        assert db.session.execute(sa.select(sa.func.count()).select_from(Child)).scalar() == after["child"]
        job = db.session.get(Job, job_id)
        assert job.state == "done" and job.result["rows"] == imported
    with source.app_context():
        rows = db.session.execute(sa.select(AuditLog).where(AuditLog.action == "backup")
                                  .order_by(AuditLog.id)).scalars().all()
        assert [r.after["path"] for r in rows] == [str(tmp_path / "backup-1"), str(tmp_path / "backup-2")]
        assert rows[0].after["rows"] == sum(manifest["database"]["counts"].values())


def test_a_changed_file_refuses_the_restore_naming_it(source, target, tmp_path):
    with source.app_context():
        outcome = backups.backup(tmp_path / "backup")
        finish(ok=True)
    root = outcome.path
    assert root.stat().st_mode & 0o777 == 0o700
    assert all((root / rel).stat().st_mode & 0o777 == 0o600 for rel in outcome.manifest["files"])
    with source.app_context():
        assert db.session.execute(sa.select(sa.func.count()).select_from(School)).scalar() == \
            outcome.manifest["database"]["counts"]["school"] > 0
    restored_instance = Path(target.instance_path)
    empty = counts(target)

    # A letter altered in the backup: refused, naming it; nothing written.
    letter = root / LETTER
    letter.write_bytes(LETTER_BYTES.replace(b"letter", b"LETTER"))
    run = command(restored_instance, "restore", str(root))
    assert run.returncode == 1
    assert LETTER in run.stderr and "sha256 不符" in run.stderr
    assert counts(target) == empty
    assert not (restored_instance / "letters").exists()
    letter.write_bytes(LETTER_BYTES)

    # The database file altered: refused, naming it.
    database = root / outcome.manifest["database"]["file"]
    data = bytearray(database.read_bytes())
    data[-1] ^= 0xFF
    database.write_bytes(bytes(data))
    run = command(restored_instance, "restore", str(root))
    assert run.returncode == 1 and outcome.manifest["database"]["file"] in run.stderr
    data[-1] ^= 0xFF
    database.write_bytes(bytes(data))

    # A file slipped into the backup: refused, naming it.
    (root / "uploads").mkdir(exist_ok=True)
    (root / "uploads" / "extra.xlsx").write_bytes(b"not from the backup")
    run = command(restored_instance, "restore", str(root))
    assert run.returncode == 1 and "uploads/extra.xlsx" in run.stderr
    (root / "uploads" / "extra.xlsx").unlink()

    assert counts(target) == empty
    run = command(restored_instance, "restore", str(root))
    assert run.returncode == 0, run.stderr
    assert counts(target)["school"] == outcome.manifest["database"]["counts"]["school"]


def test_backup_refuses_a_folder_that_holds_files(source, tmp_path):
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x").write_text("x")
    with source.app_context(), pytest.raises(backups.BackupError, match="不是空目录"):
        backups.backup(tmp_path / "full")


def test_a_backup_whose_counts_do_not_match_leaves_the_instance_as_it_was(source, target, tmp_path):
    """The manifest says one school more than the database file holds (tampered): the
    restore refuses before the swap, naming the table, and the instance keeps its own
    data (a school fewer than the backup, from a change made after a first restore)."""
    with source.app_context():
        outcome = backups.backup(tmp_path / "backup")
        finish(ok=True)
    root, restored_instance = outcome.path, Path(target.instance_path)
    run = command(restored_instance, "restore", str(root))
    assert run.returncode == 0, run.stderr
    schools = outcome.manifest["database"]["counts"]["school"]
    with target.app_context():
        db.session.execute(sa.delete(School).where(School.id == db.session.execute(
            sa.select(sa.func.max(School.id))).scalar()))
        finish(ok=True)
    before = counts(target)
    assert before["school"] == schools - 1
    manifest = json.loads((root / backups.MANIFEST).read_text(encoding="utf-8"))
    manifest["database"]["counts"]["school"] = schools + 1
    (root / backups.MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False), encoding="utf-8")
    run = command(restored_instance, "restore", "--force", str(root))
    assert run.returncode == 1
    assert "未改动" in run.stderr and f"school {schools}" in run.stderr and str(schools + 1) in run.stderr
    assert counts(target) == before  # not replaced
    database = sa.engine.make_url(target.config["SQLALCHEMY_DATABASE_URI"]).database
    if target.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        assert not Path(database + ".restoring").exists()
