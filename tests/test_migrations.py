"""The Alembic migrations build exactly the schema the models declare."""

import flask_migrate
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from edu_guard.app import init_migrations
from edu_guard.db import db


def test_migrations_match_models(app):
    with app.app_context():
        db.drop_all()
        with db.engine.begin() as conn:
            conn.exec_driver_sql("DROP TABLE IF EXISTS alembic_version")
        flask_migrate.upgrade(directory=init_migrations(app).directory)
        with db.engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), db.metadata)
        assert diff == [], f"models and migrations differ; run `edu-guard db migrate`: {diff}"
        db.drop_all()
        with db.engine.begin() as conn:
            conn.exec_driver_sql("DROP TABLE alembic_version")


def test_alembic_is_loaded_only_for_migration_commands(tmp_path):
    """Every command and worker starts without importing Alembic (0.3–0.6 s); the ``db``
    group still lists Flask-Migrate's commands."""
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from edu_guard.app import create_app\n"
        f"app = create_app({{'SECRET_KEY': 'k', 'INSTANCE_PATH': {str(tmp_path)!r}}})\n"
        "assert 'alembic' not in sys.modules and 'flask_migrate' not in sys.modules\n"
        "from click.testing import CliRunner\n"
        "from edu_guard.cli import main\n"
        f"result = CliRunner().invoke(main, ['db', 'heads'], env={{'EDU_GUARD_INSTANCE_PATH': {str(tmp_path)!r}, 'EDU_GUARD_SECRET_KEY': 'k' * 64}})\n"
        "assert result.exit_code == 0 and '(head)' in result.output, result.output\n"
        "print('ok')\n"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert run.stdout.strip() == "ok", run.stderr


def test_the_migrations_are_one_chain(app):
    """Branches merged side by side must not leave two heads: `edu-guard db upgrade`
    on an existing county would stop with "Multiple head revisions"."""
    from alembic.script import ScriptDirectory

    with app.app_context():
        config = init_migrations(app).migrate.get_config(init_migrations(app).directory)
        script = ScriptDirectory.from_config(config)
    assert len(script.get_heads()) == 1, script.get_heads()
    assert len(script.get_bases()) == 1
