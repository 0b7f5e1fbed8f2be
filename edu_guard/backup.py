"""Backup and restore of an instance (备份与恢复): ``edu-guard backup PATH`` and
``edu-guard restore PATH``.

A backup is a folder (0700, files 0600: whole ID numbers inside) holding

* the database: ``database.sqlite3`` (SQLite's online backup API,
  :meth:`sqlite3.Connection.backup`, safe while the web and queue workers write) or
  ``database.pgdump`` (``pg_dump -Fc`` of the instance's schema, taken in an exported
  snapshot so the row counts are of the very same state);
* the instance's ``letters/``, ``attachments/`` and ``uploads/`` folders, copied after
  the database snapshot (so every file the snapshot names is there; files written
  later are extra, never missing), and ``config.py`` (the secret key and the county's
  settings);
* ``manifest.json``: each file's sha256 and size, the row count of every table in the
  snapshot, the schema revision.

A job is one transaction (:mod:`edu_guard.jobs.services`), so an import running while
the snapshot is taken is either wholly in it or wholly out of it. Jobs queued or
running in the snapshot belong to the old queue: the restore marks them failed with a
reason, and a clerk runs them again.

``restore`` checks every file against the manifest before it writes anything (a
mismatch refuses the restore, naming the file), refuses an instance that already holds
data unless forced, restores the database in one step (SQLite's backup API; on
PostgreSQL ``pg_restore`` piped to ``psql --single-transaction`` after dropping the
schema), copies the folders, and checks the restored row counts against the manifest.
Both are audited (``backup`` in the source, ``restore`` in the target). docs/deploy.md
says how a bureau uses them.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import sqlite3
import subprocess
import tempfile
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import sqlalchemy as sa
from flask import current_app

from edu_guard.auth import audit
from edu_guard.auth.models import AuditLog
from edu_guard.db import db, private_sqlite_file, utcnow, write_or_defer
from edu_guard.paths import MIGRATIONS_DIR

#: Format of the manifest; a restore refuses a backup of a format it does not know.
FORMAT = 1
MANIFEST = "manifest.json"
#: The instance folders a backup keeps (letters' PDFs, 送教上门 photos, raw imports).
FOLDERS = ("letters", "attachments", "uploads")
#: The instance files a backup keeps.
FILES = ("config.py",)
SQLITE_FILE = "database.sqlite3"
PG_FILE = "database.pgdump"
#: Tables left out of the emptiness check: the schema's revision, sign-in counters.
_SCHEMA_TABLES = {"alembic_version", "rate_limit_counter"}
#: Why a queued or running job of the snapshot is failed by the restore.
RESTORED_JOB_ERROR = "该任务在备份时尚未完成，其数据不在备份中（未写入任何数据）。恢复后可重新运行。"


class BackupError(Exception):
    """A backup or restore that cannot be done (message in Chinese, for the operator)."""


@dataclass
class Outcome:
    """What a backup or restore did: the folder, the manifest, notes for the operator."""

    path: Path
    manifest: dict
    notes: list[str] = field(default_factory=list)


# --- helpers -------------------------------------------------------------------------


def _sha256_file(path: Path) -> tuple[str, int]:
    digest, size = hashlib.sha256(), 0
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def _copy_hashed(src: Path, dst: Path) -> tuple[str, int]:
    """Copy ``src`` to ``dst`` (0600, through a temporary file renamed into place);
    return the sha256 and size of the bytes written."""
    dst.parent.mkdir(parents=True, exist_ok=True)
    digest, size = hashlib.sha256(), 0
    fd, tmp = tempfile.mkstemp(dir=dst.parent, prefix=".part-")
    try:
        with src.open("rb") as fh, os.fdopen(fd, "wb") as out:
            while chunk := fh.read(1 << 20):
                digest.update(chunk)
                size += len(chunk)
                out.write(chunk)
        os.chmod(tmp, 0o600)
        os.replace(tmp, dst)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return digest.hexdigest(), size


def copy_file(src: Path, dst: Path) -> str:
    """Copy ``src`` to ``dst`` readable by its owner only (0600); return its sha256."""
    return _copy_hashed(src, dst)[0]


def _private_dirs(root: Path) -> None:
    for folder in [root, *(p for p in root.rglob("*") if p.is_dir())]:
        folder.chmod(0o700)


def _tool(name: str) -> str:
    path = shutil.which(name)
    if not path:
        raise BackupError(f"找不到 {name}：请安装与数据库服务器同一主版本（或更新）的 PostgreSQL 客户端（postgresql-client）。")
    return path


def _tool_major(path: str) -> int:
    out = subprocess.run([path, "--version"], capture_output=True, text=True, check=True).stdout
    match = re.search(r"(\d+)(?:\.\d+)?", out)
    return int(match.group(1)) if match else 0


def _libpq(engine) -> tuple[str, dict]:
    """The engine's database as a libpq connection string (no password) and the
    environment that carries the password and the engine's ``options`` (search_path)."""
    url = engine.url
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    options = (current_app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {}).get("connect_args", {}).get("options")
    if options:
        env["PGOPTIONS"] = options
    plain = url.set(drivername="postgresql", password=None)
    return plain.render_as_string(hide_password=False), env


def _table_counts(conn, dialect: str, schema: str | None = None) -> dict[str, int]:
    if dialect == "sqlite":
        names = [r[0] for r in conn.execute(
            sa.text("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"))]
    else:
        names = [r[0] for r in conn.execute(sa.text(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = :s AND table_type = 'BASE TABLE' "
            "ORDER BY table_name"), {"s": schema})]
    quote = conn.dialect.identifier_preparer.quote
    return {name: conn.execute(sa.text(f"SELECT count(*) FROM {quote(name)}")).scalar() for name in names}


def _sqlite_counts(path: Path) -> tuple[dict[str, int], str | None]:
    """Row counts of every table of the SQLite file ``path`` and its schema revision,
    read with :mod:`sqlite3` itself (SQLAlchemy's connect hook would turn WAL on)."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        names = [r[0] for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")]
        counts = {n: conn.execute('SELECT count(*) FROM "' + n.replace('"', '""') + '"').fetchone()[0] for n in names}
        revision = conn.execute("SELECT version_num FROM alembic_version").fetchone() if "alembic_version" in counts else None
    finally:
        conn.close()
    return counts, revision[0] if revision else None


def _sqlite_path(engine) -> Path:
    database = engine.url.database
    if not database or database == ":memory:":
        raise BackupError("内存中的 SQLite 数据库无法备份。")
    return Path(database)


# --- backup --------------------------------------------------------------------------


def backup(path: Path | str, user=None) -> Outcome:
    """Back the current app's instance up into the new folder ``path`` while the app runs.

    :param path: a folder that does not exist yet, or an empty one.
    :param user: who backs up (audited); ``None`` from the command line.
    :return: the :class:`Outcome` with the manifest written to ``path/manifest.json``.
    :raises BackupError: ``path`` holds files; PostgreSQL's ``pg_dump`` is missing or
        older than the server; the dump failed.
    """
    target = Path(path).resolve()
    if target.exists() and any(target.iterdir()):
        raise BackupError(f"备份目录 {target} 不是空目录，请指定新目录。")
    target.mkdir(parents=True, exist_ok=True)
    target.chmod(0o700)
    instance = Path(current_app.instance_path)
    engine = db.engine
    started = datetime.now(timezone.utc)
    files: dict[str, dict] = {}
    notes: list[str] = []
    if engine.dialect.name == "sqlite":
        database = _backup_sqlite(engine, target / SQLITE_FILE)
    elif engine.dialect.name == "postgresql":
        database = _backup_postgresql(engine, target / PG_FILE)
    else:  # pragma: no cover - the product runs on these two
        raise BackupError(f"不支持备份 {engine.dialect.name} 数据库。")
    digest, size = _sha256_file(target / database["file"])
    files[database["file"]] = {"sha256": digest, "bytes": size}
    # The folders after the snapshot: every file it names is already written.
    for name in FOLDERS:
        source = instance / name
        if not source.is_dir():
            continue
        for src in sorted(p for p in source.rglob("*") if p.is_file() and not p.name.startswith(".part-")):
            rel = src.relative_to(instance).as_posix()
            try:
                digest, size = _copy_hashed(src, target / rel)
            except FileNotFoundError:  # deleted meanwhile (a purge): not in the snapshot's time either
                continue
            files[rel] = {"sha256": digest, "bytes": size}
    for name in FILES:
        if (instance / name).is_file():
            digest, size = _copy_hashed(instance / name, target / name)
            files[name] = {"sha256": digest, "bytes": size}
    _private_dirs(target)
    manifest = {
        "format": FORMAT,
        "product": "edu_guard",
        "created_at": started.isoformat(),
        "database": database,
        "files": files,
    }
    with (target / MANIFEST).open("w", encoding="utf-8") as fh:
        json.dump(manifest, fh, ensure_ascii=False, indent=1, sort_keys=True)
    (target / MANIFEST).chmod(0o600)
    manifest_sha = _sha256_file(target / MANIFEST)[0]
    detail = {
        "path": str(target), "database": database["kind"], "files": len(files),
        "bytes": sum(f["bytes"] for f in files.values()), "manifest_sha256": manifest_sha,
        "rows": sum(database["counts"].values()),
    }
    row = {"user_id": audit.acting_user_id(user), "action": "backup", "entity": "instance", "entity_id": None,
           "before": None, "after": detail, "at": utcnow()}
    # Not in the caller's session: on SQLite an import job may hold the write lock for a
    # while; the audit row then waits in the background (wait_for_deferred_writes).
    audited = write_or_defer(lambda conn: conn.execute(sa.insert(AuditLog.__table__).values(**row)))
    if not audited:
        notes.append("数据库正被导入任务写入，备份审计记录将在其完成后写入。")
    return Outcome(target, manifest, notes)


def _backup_sqlite(engine, out: Path) -> dict:
    source = _sqlite_path(engine)
    timeout = float(current_app.config.get("EDU_GUARD_SQLITE_BUSY_TIMEOUT") or 30)
    src = sqlite3.connect(source, timeout=timeout)
    fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    os.close(fd)
    dst = sqlite3.connect(out)
    try:
        # pages=-1: the whole database in one step, under one read transaction: one
        # committed state, whatever the other connections write meanwhile.
        src.backup(dst, pages=-1)
        dst.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
    finally:
        dst.close()
        src.close()
    counts, revision = _sqlite_counts(out)
    return {"kind": "sqlite", "file": out.name, "counts": counts, "revision": revision}


def _backup_postgresql(engine, out: Path) -> dict:
    pg_dump = _tool("pg_dump")
    with engine.connect() as conn:
        server = int(conn.execute(sa.text("SHOW server_version_num")).scalar()) // 10000
    dump_major = _tool_major(pg_dump)
    if dump_major < server:
        raise BackupError(f"pg_dump 版本 {dump_major} 低于数据库服务器版本 {server}，无法备份：请安装 "
                          f"postgresql-client-{server}（或更新版本）。")
    # One snapshot for the counts and the dump: exported by a repeatable-read
    # transaction kept open while pg_dump runs in it (``--snapshot``).
    with engine.connect().execution_options(isolation_level="REPEATABLE READ") as conn:
        snapshot = conn.execute(sa.text("SELECT pg_export_snapshot()")).scalar()
        schema = conn.execute(sa.text("SELECT current_schema()")).scalar()
        counts = _table_counts(conn, "postgresql", schema)
        revision = conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar() \
            if "alembic_version" in counts else None
        dsn, env = _libpq(engine)
        fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        os.close(fd)
        run = subprocess.run([pg_dump, "--format=custom", f"--snapshot={snapshot}", f"--schema={schema}",
                              f"--file={out}", f"--dbname={dsn}"], env=env, capture_output=True, text=True)
        conn.rollback()
    if run.returncode != 0:
        raise BackupError(f"pg_dump 失败：{run.stderr.strip()}")
    return {"kind": "postgresql", "file": out.name, "counts": counts, "revision": revision, "schema": schema,
            "server_major": server, "pg_dump_major": dump_major}


# --- restore -------------------------------------------------------------------------


def read_manifest(path: Path | str) -> dict:
    """Read and check a backup folder: the manifest's format, and every file listed
    against its sha256 and size; a file in the folder the manifest does not list is
    refused too. Nothing is written.

    :return: the manifest.
    :raises BackupError: naming the first file missing, changed or unlisted.
    """
    root = Path(path).resolve()
    try:
        manifest = json.loads((root / MANIFEST).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BackupError(f"{root} 中没有 {MANIFEST}，不是 edu_guard 的备份。") from None
    except ValueError as exc:
        raise BackupError(f"{root / MANIFEST} 已损坏（{exc}），拒绝恢复。") from None
    if manifest.get("product") != "edu_guard" or manifest.get("format") != FORMAT:
        raise BackupError(f"{root / MANIFEST} 的格式（{manifest.get('format')}）不受支持，拒绝恢复。")
    files = manifest.get("files") or {}
    database = manifest.get("database") or {}
    if database.get("file") not in files:
        raise BackupError(f"{MANIFEST} 未列出数据库文件，拒绝恢复。")
    for rel, meta in sorted(files.items()):
        path_ = (root / rel).resolve()
        if root not in path_.parents:
            raise BackupError(f"{MANIFEST} 列出了备份目录以外的文件 {rel}，拒绝恢复。")
        if not path_.is_file():
            raise BackupError(f"备份中缺少文件 {rel}，拒绝恢复。")
        digest, size = _sha256_file(path_)
        if digest != meta.get("sha256") or size != meta.get("bytes"):
            raise BackupError(f"文件 {rel} 与备份清单记录的 sha256 不符（文件被改动或损坏），拒绝恢复，未写入任何数据。")
        top = rel.split("/", 1)[0]
        name = rel.rsplit("/", 1)[-1]
        if top in ("attachments", "uploads") and re.fullmatch(r"[0-9a-f]{64}", name) and name != digest:
            raise BackupError(f"文件 {rel} 的内容与其 sha256 文件名不符，拒绝恢复。")
    listed = set(files) | {MANIFEST}
    for extra in sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()):
        if extra not in listed:
            raise BackupError(f"备份目录中有清单未列出的文件 {extra}，拒绝恢复。")
    return manifest


def instance_contents(engine=None) -> list[str]:
    """What the current instance already holds, for the restore's emptiness check:
    ``["表 child：1194 行", "letters/…"]``; empty for a fresh instance (no tables, or
    only the schema revision and the admin that ``edu-guard init`` created, who has not
    signed in yet)."""
    engine = engine or db.engine
    held = []
    with engine.connect() as conn:
        schema = conn.execute(sa.text("SELECT current_schema()")).scalar() if engine.dialect.name == "postgresql" else None
        counts = _table_counts(conn, engine.dialect.name, schema)
        for name, rows in sorted(counts.items()):
            if not rows or name in _SCHEMA_TABLES:
                continue
            if name == "user" and rows == 1 and conn.execute(
                    sa.text('SELECT count(*) FROM "user" WHERE must_change_password')).scalar() == 1:
                continue  # the admin of `edu-guard init`, password not yet changed
            held.append(f"表 {name}：{rows} 行")
    instance = Path(current_app.instance_path)
    for name in FOLDERS:
        folder = instance / name
        if folder.is_dir():
            held += [p.relative_to(instance).as_posix() for p in sorted(folder.rglob("*")) if p.is_file()][:3]
    return held


def restore(path: Path | str, force: bool = False, user=None) -> Outcome:
    """Restore the backup folder ``path`` into the current app's instance.

    The app must not be serving (stop the web and queue workers). Every file is
    checked against the manifest first (:func:`read_manifest`); then the database is
    restored beside the instance's and its row counts compared with the manifest's
    before it replaces the instance's in one step (SQLite: a temporary file moved over
    the instance's; PostgreSQL: checked inside the restore's single transaction), so
    a backup whose counts do not match leaves the instance as it was; the folders are copied (the instance's own files in them
    removed first when forced), the restored row counts are compared with the
    manifest's, and jobs left queued or running by the snapshot are marked failed.

    :param force: replace an instance that already holds data.
    :param user: who restores (audited in the restored database).
    :raises BackupError: a file does not match the manifest (named); the instance holds
        data and ``force`` is off; the database kinds differ; PostgreSQL's tools are
        missing or too old; the restored counts differ from the manifest's.
    """
    root = Path(path).resolve()
    manifest = read_manifest(root)
    database = manifest["database"]
    engine = db.engine
    notes: list[str] = []
    if database["kind"] != engine.dialect.name:
        raise BackupError(f"备份的数据库是 {database['kind']}，本实例使用 {engine.dialect.name}，无法直接恢复。")
    held = instance_contents(engine)
    if held and not force:
        raise BackupError("本实例已有数据（" + "；".join(held[:5]) + "），拒绝覆盖。确认要用备份替换全部数据时加 --force。")
    if database["kind"] == "postgresql":
        _check_postgresql_restore(engine, database)
    db.session.remove()
    engine.dispose()
    if database["kind"] == "sqlite":
        _restore_sqlite(engine, root / database["file"], database["counts"])
    else:
        _restore_postgresql(engine, root / database["file"], database["schema"], database["counts"])
    engine.dispose()
    with engine.connect() as conn:
        schema = conn.execute(sa.text("SELECT current_schema()")).scalar() if engine.dialect.name == "postgresql" else None
        counts = _table_counts(conn, engine.dialect.name, schema)
    _check_counts(counts, database["counts"], "（数据库已替换）")
    instance = Path(current_app.instance_path)
    instance.mkdir(parents=True, exist_ok=True)
    for name in FOLDERS:
        folder = instance / name
        if force and folder.is_dir():
            shutil.rmtree(folder)
        folder.mkdir(parents=True, exist_ok=True)
        folder.chmod(0o700)
    for rel, meta in sorted(manifest["files"].items()):
        if rel.split("/", 1)[0] not in FOLDERS:
            continue
        digest, _ = _copy_hashed(root / rel, instance / rel)
        if digest != meta["sha256"]:  # changed between the check and the copy
            raise BackupError(f"文件 {rel} 在恢复过程中被改动，请重新恢复。")
    for name in FOLDERS:
        _private_dirs(instance / name)
    for name in FILES:
        if name not in manifest["files"]:
            continue
        if not (instance / name).exists():
            _copy_hashed(root / name, instance / name)
            notes.append(f"已恢复 {name}（密钥与本县设置）。")
        elif _sha256_file(instance / name)[0] != manifest["files"][name]["sha256"]:
            _copy_hashed(root / name, instance / f"{name}.from-backup")
            notes.append(f"本实例已有 {name}，未覆盖；备份中的版本已写入 {name}.from-backup，请核对其中的本县设置。")
    failed = _fail_unfinished_jobs()
    if failed:
        notes.append(f"备份时有 {failed} 个任务未完成，已标记为失败，可重新运行。")
    if database.get("revision") and database["revision"] != _head_revision():
        notes.append(f"备份的数据库版本为 {database['revision']}，请运行 edu-guard db upgrade。")
    if database["kind"] == "postgresql":
        notes.append("数据库权限未随备份恢复：如使用只读审计角色，请按 docs/security.md 重新授权。")
    audit.record_access("restore", "instance", None, {
        "path": str(root), "database": database["kind"], "files": len(manifest["files"]),
        "created_at": manifest["created_at"], "forced": bool(force and held),
        "rows": sum(database["counts"].values()),
    }, user=user)
    return Outcome(root, manifest, notes)


def _head_revision() -> str | None:
    # Alembic only here: commands start without it (tests/test_migrations.py).
    from alembic.config import Config as AlembicConfig
    from alembic.script import ScriptDirectory

    try:
        config = AlembicConfig()
        config.set_main_option("script_location", str(MIGRATIONS_DIR))
        return ScriptDirectory.from_config(config).get_current_head()
    except Exception:  # noqa: BLE001 - a note only
        return None


def _fail_unfinished_jobs() -> int:
    table = sa.table("job", sa.column("state"), sa.column("error"))
    result = db.session.execute(
        sa.update(table).where(table.c.state.in_(("queued", "running")))
        .values(state="failed", error=RESTORED_JOB_ERROR))
    return result.rowcount or 0


def _check_counts(counts: dict[str, int], expected: dict[str, int], state: str) -> None:
    """Refuse counts that differ from the manifest's (``state``: what became of the
    instance's database, for the message)."""
    if counts == expected:
        return
    differ = sorted(t for t in set(counts) | set(expected) if counts.get(t) != expected.get(t))
    raise BackupError(f"恢复的行数与备份清单不符{state}：" + "，".join(
        f"{t} {counts.get(t)}≠{expected.get(t)}" for t in differ[:10]))


def _restore_sqlite(engine, backup_file: Path, expected: dict[str, int]) -> None:
    """Copy the backup into a temporary file beside the instance's database, check its
    row counts against ``expected`` (the manifest's), then move it over the instance's
    file in one step (:func:`os.replace`); a mismatch leaves the instance's file as it was.

    :raises BackupError: the counts differ (the temporary file is removed).
    """
    target = _sqlite_path(engine)
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(target.name + ".restoring")
    for stale in (temporary, Path(f"{temporary}-wal"), Path(f"{temporary}-shm"), Path(f"{temporary}-journal")):
        stale.unlink(missing_ok=True)
    os.close(os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    src = sqlite3.connect(f"file:{backup_file}?mode=ro", uri=True)
    dst = sqlite3.connect(temporary)
    try:
        src.backup(dst, pages=-1)
        dst.execute("PRAGMA journal_mode=WAL")  # persistent in the file's header; its -wal goes on close
    finally:
        dst.close()
        src.close()
    try:
        _check_counts(_sqlite_counts(temporary)[0], expected, "，本实例的数据库未改动")
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    if target.exists():
        # Fold the instance's write-ahead log into its file and drop it: a -wal left
        # beside the restored file would be replayed into it.
        timeout = float(current_app.config.get("EDU_GUARD_SQLITE_BUSY_TIMEOUT") or 30)
        old = sqlite3.connect(target, timeout=timeout)
        try:
            old.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            old.close()
    for side in ("-wal", "-shm"):
        Path(f"{target}{side}").unlink(missing_ok=True)
    os.replace(temporary, target)
    target.chmod(0o600)


def _check_postgresql_restore(engine, database: dict) -> None:
    _tool("psql")
    pg_restore = _tool("pg_restore")
    major = _tool_major(pg_restore)
    if major < int(database.get("pg_dump_major") or 0):
        raise BackupError(f"pg_restore 版本 {major} 低于制作备份的 pg_dump 版本 {database['pg_dump_major']}，"
                          "请安装更新的 postgresql-client。")
    with engine.connect() as conn:
        schema = conn.execute(sa.text("SELECT current_schema()")).scalar()
    if schema != database["schema"]:
        raise BackupError(f"备份的数据在模式 {database['schema']} 中，本实例的连接使用模式 {schema}，"
                          "恢复后将看不到数据：请让连接的 search_path 指向同名模式。")


def _count_check_sql(schema: str, expected: dict[str, int]) -> bytes:
    """A PL/pgSQL block that raises (aborting the restore's single transaction) when a
    table of ``schema`` has a row count other than ``expected``'s, or the schema's
    tables are not ``expected``'s."""
    def literal(text: str) -> str:
        return "'" + text.replace("'", "''") + "'"

    quoted = '"' + schema.replace('"', '""') + '"'
    names = ", ".join(literal(t) for t in sorted(expected)) or "NULL"
    lines = ["DO $edu_guard$ DECLARE n bigint; extra text; BEGIN",
             "SELECT string_agg(table_name, ', ') INTO extra FROM information_schema.tables "
             f"WHERE table_schema = {literal(schema)} AND table_type = 'BASE TABLE' AND table_name NOT IN ({names});",
             "IF extra IS NOT NULL THEN RAISE EXCEPTION 'edu_guard counts: tables not in the manifest: %', extra; END IF;"]
    for table, rows in sorted(expected.items()):
        ident = '"' + table.replace('"', '""') + '"'
        lines.append(f"SELECT count(*) INTO n FROM {quoted}.{ident};")
        lines.append(f"IF n <> {int(rows)} THEN RAISE EXCEPTION 'edu_guard counts: % % <> %', "
                     f"{literal(table)}, n, {int(rows)}; END IF;")
    lines.append("END $edu_guard$;")
    return ("\n".join(lines) + "\n").encode()


def _restore_postgresql(engine, dump: Path, schema: str, expected: dict[str, int]) -> None:
    """Replace ``schema`` with the dump in one transaction (``psql --single-transaction``)
    that also checks the restored row counts against ``expected`` (the manifest's)
    before it commits: a mismatch rolls it all back.

    :raises BackupError: the dump is unreadable, the restore fails, or the counts differ
        (the database unchanged in each case).
    """
    dsn, env = _libpq(engine)
    script = subprocess.run([_tool("pg_restore"), "--no-owner", "--no-privileges", "--file=-", str(dump)],
                            capture_output=True, env=env)
    if script.returncode != 0:
        raise BackupError(f"pg_restore 无法读取备份：{script.stderr.decode(errors='replace').strip()}")
    quoted = '"' + schema.replace('"', '""') + '"'
    sql = f"DROP SCHEMA IF EXISTS {quoted} CASCADE;\n".encode() + script.stdout + b"\n" + _count_check_sql(schema, expected)
    run = subprocess.run([_tool("psql"), "--no-psqlrc", "--quiet", "--single-transaction", "-v", "ON_ERROR_STOP=1",
                          f"--dbname={dsn}"], input=sql, capture_output=True, env=env)
    if run.returncode != 0:
        stderr = run.stderr.decode(errors="replace")
        found = re.search(r"edu_guard counts: ([^\n]*)", stderr)
        if found:
            raise BackupError("恢复的行数与备份清单不符，本实例的数据库未改动：" + found.group(1))
        raise BackupError("恢复数据库失败，数据库未改动：" + run.stderr.decode(errors="replace").strip()[-2000:])
