"""Benchmark: the aid statistics over 1,000,000 payment rows (bench/README.md; issue 3: under
1 s on SQLite, with the SQL doing the grouping).

Builds a SQLite database with the aid tables and 1,000,000 payments: 100,000 children,
two terms of one year, five schemes a term, about 1 % reversed, the 其中 flags set as
the sample county has them (~20 % 脱贫家庭). Then, each in a fresh subprocess on the
same file (warm OS cache, cold Python):

(a) ``stats.report`` for the whole year (every one of the 1,000,000 rows: two GROUP BY
    queries, by scheme and by scheme and stage) — the measured figure;
(b) ``stats.report`` for one term (500,000 rows);
(c) the baseline: the same figures computed in Python from the rows fetched with one
    plain SELECT (what the SQL grouping saves).

Prints the times, the peak memory (``ru_maxrss``) of each subprocess and the ratio
(a)/(c).

Usage: ``python bench/aid_stats.py [--rows 1000000] [--keep DIR]``
"""

from __future__ import annotations

import argparse
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import phases  # noqa: E402  (bench/phases.py, beside this script)

SCHEMES = ["compulsory_living", "nutrition", "minority_allowance", "high_school_grant", "yulu"]


def make_app(folder: Path):
    from edu_guard.app import create_app

    return create_app({"SECRET_KEY": "bench", "INSTANCE_PATH": str(folder / "instance"),
                       "EDU_GUARD_DATABASE_URL": f"sqlite:///{folder / 'bench.sqlite3'}"})


def build(folder: Path, rows: int) -> None:
    """Create the database and its payment rows (raw sqlite3 executemany, fast)."""
    import sqlite3

    from edu_guard.db import db

    (folder / "instance").mkdir(parents=True, exist_ok=True)
    app = make_app(folder)
    with app.app_context():
        db.create_all()
    rng = random.Random(3)
    per_term = rows // 2
    children = per_term // len(SCHEMES)
    con = sqlite3.connect(folder / "bench.sqlite3")
    con.execute("INSERT INTO township (id, county_code, name) VALUES (1, '532801', '允景洪街道')")
    con.execute("INSERT INTO school (id, code, name, stage, township_id, county_code) VALUES (1, '2153280171', 'S', '小学', 1, '532801')")
    con.executemany(
        "INSERT INTO child (id, id_number, name, sex, birth_date, is_disabled, version, created_at, updated_at) "
        "VALUES (?, ?, ?, '男', '2010-01-01', 0, 1, '2021-01-01', '2021-01-01')",
        ((i, f"532801{i:012d}", f"生{i}") for i in range(1, children + 1)),
    )
    con.execute("INSERT INTO aid_term (id, code, name, start, \"end\", school_days, created_at) VALUES "
                "(1, '2021-spring', '2021年春季学期', '2021-03-01', '2021-07-09', 90, '2021-01-01'), "
                "(2, '2021-autumn', '2021年秋季学期', '2021-09-01', '2022-01-15', 90, '2021-01-01')")
    con.execute("INSERT INTO aid_payment_batch (id, term_id, scheme_code, paid_on, created_at) VALUES (1, 1, 'x', '2021-03-20', '2021-01-01')")
    flags = [(rng.random() < 0.2, rng.random() < 0.05, rng.random() < 0.05, rng.random() < 0.01, rng.random() < 0.02)
             for _ in range(children + 1)]
    stages = ["小学" if rng.random() < 0.6 else "初中" for _ in range(children + 1)]
    amounts = {"compulsory_living": 25000, "nutrition": 36000, "minority_allowance": 50000,
               "high_school_grant": 150000, "yulu": 150000}

    def payments():
        pid = 0
        for term in (1, 2):
            for code in SCHEMES:
                for child in range(1, children + 1):
                    pid += 1
                    pov, dibao, tekun, orphan, dis = flags[child]
                    yield (pid, child, code, term, 1, stages[child], amounts[code], None, "bank", None, 1,
                           "2021-03-20", pov, pov and child % 4 == 0, dibao, tekun, orphan, dis)

    con.executemany(
        "INSERT INTO aid_payment (id, child_id, scheme_code, term_id, school_id, stage, amount_fen, tier, channel, "
        "account_masked, batch_id, paid_on, is_poverty, is_monitored, is_dibao, is_tekun, is_orphan, is_disabled) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", payments())
    total = con.execute("SELECT count(*) FROM aid_payment").fetchone()[0]
    reversed_ids = rng.sample(range(1, total + 1), total // 100)
    con.executemany("INSERT INTO aid_payment_reversal (payment_id, reason, reversed_at) VALUES (?, '冲正', '2021-04-01')",
                    ((i,) for i in reversed_ids))
    con.commit()
    con.execute("ANALYZE")
    con.close()


def phase(folder: Path, name: str) -> dict:
    """Run one measured phase; returns seconds and what it computed."""
    from edu_guard.aid import stats
    from edu_guard.aid.models import Payment, PaymentReversal
    from edu_guard.db import db

    app = make_app(folder)
    with app.app_context():
        if name == "year":
            terms = stats.terms_for(year=2021)
            t0 = time.perf_counter()
            data = stats.report(terms)
            seconds = time.perf_counter() - t0
            return {"seconds": seconds, "person_times": sum(s["person_times"] for s in data["schemes"]),
                    "line": data["lines"][0],
                    "check": {s["code"]: [s["person_times"], s["persons"], s["amount_yuan"], s["poverty_person_times"],
                                          s["poverty_amount_yuan"]] for s in data["schemes"]}}
        if name == "term":
            terms = stats.terms_for("2021-spring")
            t0 = time.perf_counter()
            data = stats.report(terms)
            seconds = time.perf_counter() - t0
            return {"seconds": seconds, "person_times": sum(s["person_times"] for s in data["schemes"])}
        # baseline: fetch every row, group in Python
        import sqlalchemy as sa

        t0 = time.perf_counter()
        reversed_ids = set(db.session.execute(sa.select(PaymentReversal.payment_id)).scalars())
        groups: dict = {}
        for pid, child, code, stage, fen, pov in db.session.execute(
            sa.select(Payment.id, Payment.child_id, Payment.scheme_code, Payment.stage, Payment.amount_fen,
                      Payment.is_poverty).where(Payment.term_id.in_([1, 2]))
        ):
            if pid in reversed_ids:
                continue
            g = groups.setdefault(code, [0, set(), 0, 0, 0])
            g[0] += 1
            g[1].add(child)
            g[2] += fen
            if pov:
                g[3] += 1
                g[4] += fen
        seconds = time.perf_counter() - t0
        from edu_guard import money

        return {"seconds": seconds, "person_times": sum(g[0] for g in groups.values()),
                "check": {c: [g[0], len(g[1]), str(money.from_fen(g[2])), g[3], str(money.from_fen(g[4]))] for c, g in groups.items()}}


def measure(folder: Path, name: str) -> dict:
    return phases.measure(__file__, folder, name)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    phases.add_phase_options(parser)
    args = parser.parse_args(argv)
    if args.phase:
        return phases.print_phase(phase(args.folder, args.phase))
    folder = args.keep or Path(tempfile.mkdtemp(prefix="aid-stats-"))
    try:
        if not (folder / "bench.sqlite3").exists():
            t0 = time.perf_counter()
            build(folder, args.rows)
            print(f"built {args.rows:,} payment rows in {time.perf_counter() - t0:.1f} s")
        year, term, base = (measure(folder, n) for n in ("year", "term", "baseline"))
        assert year["check"] == base["check"], (year["check"], base["check"])  # same figures both ways
        print(f"(a) report for the year ({year['person_times']:,} payments counted): {year['seconds']:.3f} s, "
              f"peak {year['maxrss_mb']} MB  [target < 1 s]")
        print(f"    {year['line']}")
        print(f"(b) report for one term ({term['person_times']:,}): {term['seconds']:.3f} s, peak {term['maxrss_mb']} MB")
        print(f"(c) baseline, rows grouped in Python: {base['seconds']:.3f} s, peak {base['maxrss_mb']} MB")
        print(f"ratio (a)/(c): {year['seconds'] / base['seconds']:.2f}")
    finally:
        if args.keep is None:
            shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
