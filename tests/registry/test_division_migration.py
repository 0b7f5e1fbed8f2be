"""The migration to the organisation tree keeps a county deployed alone working: its
county becomes a division of level ``county`` with no parent, its users keep an empty
division and see every row of the database (their county's)."""

import flask_migrate
import sqlalchemy as sa

from edu_guard.app import init_migrations
from edu_guard.db import db


def test_the_one_county_becomes_a_county_with_no_parent(app):
    with app.app_context():
        db.drop_all()
        with db.engine.begin() as conn:
            conn.exec_driver_sql("DROP TABLE IF EXISTS alembic_version")
        directory = init_migrations(app).directory
        flask_migrate.upgrade(directory=directory, revision="c3a1e5f7b9d2")
        with db.engine.begin() as conn:
            conn.execute(sa.text("INSERT INTO township (id, county_code, name) VALUES (1, '532801', '勐罕镇')"))
            conn.execute(sa.text("INSERT INTO school (id, code, name, stage, township_id, county_code) "
                                 "VALUES (1, '2153280101', '勐罕中心小学', '小学', 1, '532801')"))
        flask_migrate.upgrade(directory=directory, revision="d4e5f6a7b8c9")
        with db.engine.connect() as conn:
            rows = conn.execute(sa.text("SELECT code, level, parent_code FROM division")).all()
            users = conn.execute(sa.text("SELECT count(*) FROM \"user\" WHERE division_code IS NOT NULL")).scalar_one()
        assert [tuple(r) for r in rows] == [("532801", "county", None)]
        assert users == 0
        flask_migrate.downgrade(directory=directory, revision="c3a1e5f7b9d2")
        with db.engine.connect() as conn:
            assert "division" not in sa.inspect(conn).get_table_names()
        db.drop_all()
        with db.engine.begin() as conn:
            conn.exec_driver_sql("DROP TABLE alembic_version")
