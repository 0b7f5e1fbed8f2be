"""Exit non-zero with a clear message when the database URL given cannot be reached."""

import sys

import sqlalchemy as sa

url = sys.argv[1]
try:
    with sa.create_engine(url).connect() as conn:
        conn.execute(sa.text("select 1"))
except Exception as exc:  # noqa: BLE001 - any failure is reported
    sys.exit(f"PostgreSQL is configured (PG_URL={url}) but unreachable: {str(exc).splitlines()[0]}\n"
             "Start it, or run `make test PG_URL=` to test on SQLite only.")
