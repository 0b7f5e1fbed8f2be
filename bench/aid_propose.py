"""Benchmark: propose every aid scheme for 100,000 children in one term (bench/README.md;
issue 3: under 10 s), and the plugin-hook overhead against the same rules called
directly.

Builds a SQLite database of a big county: the sample's 16 compulsory schools plus a
高中 and a 中职, 100,000 children enrolled (10 % in the two upper schools, a third
boarding), about 20 % of 脱贫户 or monitored households, 3 % 低保, 1 % disabled, the
sample's mix of ethnic groups, and the 2021 spring term (90 school days). Then, each in a
fresh subprocess on a copy of that file:

(a) ``edu-guard aid propose --all`` as the CLI does it: the candidates read once from
    the registry (:mod:`edu_guard.aid.eligibility`), every enabled scheme's ``decide``
    for every child, the lists and entries written, one commit — the measured figure;
(b) the rules alone, 5 rounds each, alternating: every scheme's ``decide`` for every
    candidate with the scheme objects the plugins gave through the ``aid_schemes`` hook
    at start-up, and with the same classes built directly by importing them (the
    baseline); the ratio is the hook overhead per decision. The hook call itself
    (``pm.hook.aid_schemes()``, once per app start) is timed apart.

Prints the times, the peak memory (``ru_maxrss``) of each subprocess and the ratios.

Usage: ``python bench/aid_propose.py [--children 100000] [--keep DIR]``
"""

from __future__ import annotations

import argparse
import csv
import random
import shutil
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import phases  # noqa: E402  (bench/phases.py, beside this script)

ETHNIC = ["汉族"] * 8 + ["傣族"] * 6 + ["哈尼族"] * 3 + ["彝族", "基诺族", "拉祜族", "布朗族"]
WEIGHTS = [2 ** (17 - i) % 11 for i in range(17)]


def make_app(folder: Path, db_name: str = "bench.sqlite3"):
    from edu_guard.app import create_app

    return create_app({"SECRET_KEY": "bench", "INSTANCE_PATH": str(folder / "instance"),
                       "EDU_GUARD_DATABASE_URL": f"sqlite:///{folder / db_name}"})


def build(folder: Path, children: int) -> None:
    """Create the registry of a big county with raw sqlite3 executemany (fast)."""
    import sqlite3

    from edu_guard.db import db

    (folder / "instance").mkdir(parents=True, exist_ok=True)
    app = make_app(folder)
    with app.app_context():
        db.create_all()
        from edu_guard.aid import services

        services.add_term("2021-spring", date(2021, 3, 1),
                          date(2021, 7, 9), 90)
        db.session.commit()
        db.engine.dispose()
    with open(ROOT / "edu_guard" / "demo" / "county_2021" / "schools.csv", encoding="utf-8-sig", newline="") as fh:
        schools = [(r["学校标识码"], r["学校名称"], r["学段"]) for r in csv.DictReader(fh)]
    schools += [("2153289001", "景洪市第三中学", "高中"), ("2153289002", "西双版纳职业技术学校", "中职")]
    rng = random.Random(7)
    con = sqlite3.connect(folder / "bench.sqlite3")
    con.execute("INSERT INTO township (id, county_code, name) VALUES (1, '532801', '允景洪街道')")
    con.executemany("INSERT INTO school (id, code, name, stage, township_id, county_code) VALUES (?, ?, ?, ?, 1, '532801')",
                    [(i, *s) for i, s in enumerate(schools, 1)])
    now = "2021-02-01 00:00:00.000000"
    kids, enrolls, statuses = [], [], []
    for i in range(1, children + 1):
        id_number = f"53280120{i:09d}"  # unique; the registry's checks are not what is measured
        id_number += "10X98765432"[sum(int(d) * w for d, w in zip(id_number, WEIGHTS)) % 11]
        upper = rng.random() < 0.1
        school = rng.choice([17, 18]) if upper else rng.randint(1, 16)
        stage = schools[school - 1][2]
        grade = {"小学": f"{'一二三四五六'[i % 6]}年级", "初中": f"{'七八九'[i % 3]}年级", "高中": f"高{'一二三'[i % 3]}",
                 "中职": f"中职{1 + i % 3}年级"}[stage]
        disabled = rng.random() < 0.01
        kids.append((i, id_number, f"生{i}", "男" if i % 2 else "女", "2010-01-01", rng.choice(ETHNIC), 1, disabled, 1, now, now))
        enrolls.append((i, i, school, f"G{id_number}", grade, "1班", rng.random() < 0.33, "在读", now, now))
        r = rng.random()
        if r < 0.15:
            statuses.append((id_number, f"生{i}", "脱贫户", None))
        elif r < 0.2:
            statuses.append((id_number, f"生{i}", "监测户", "边缘易致贫户"))
        if rng.random() < 0.03:
            statuses.append((id_number, f"生{i}", "低保", None))
    con.executemany("INSERT INTO child (id, id_number, name, sex, birth_date, ethnicity, township_id, is_disabled, version, "
                    "created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", kids)
    con.executemany("INSERT INTO enrollment (id, child_id, school_id, student_number, grade, class_name, boarding, status, "
                    "created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", enrolls)
    con.executemany("INSERT INTO family_status (id_number, name, kind, category, source, risk_removed) "
                    "VALUES (?, ?, ?, ?, 'bench', 0)", statuses)
    con.commit()
    con.execute("ANALYZE")
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # the file is copied: nothing may stay in the WAL
    con.close()


def phase(folder: Path, name: str) -> dict:
    from edu_guard.db import db

    if name == "propose":
        app = make_app(folder, "propose.sqlite3")
        with app.app_context():
            from edu_guard.aid import eligibility, services

            t0 = time.perf_counter()
            term = services.get_term("2021-spring")
            cands = eligibility.candidates(eligibility.term_info(term))
            t_read = time.perf_counter() - t0
            results = [services.propose(term, code, candidates=cands) for code in services.schemes()]
            db.session.commit()
            seconds = time.perf_counter() - t0
            return {"seconds": seconds, "read_seconds": t_read, "candidates": len(cands.candidates),
                    "entries": sum(r.proposed + r.refused for r in results),
                    "by_scheme": {r.scheme_code: r.proposed for r in results}}
    app = make_app(folder)
    with app.app_context():
        from edu_guard.aid import eligibility, services
        from edu_guard.plugins import contributions, manager
        from edu_guard.schemes import national
        from edu_guard_minority_allowance.plugin import MinorityAllowance
        from edu_guard_nutrition.plugin import Nutrition
        from edu_guard_yulu.plugin import Yulu

        term = services.get_term("2021-spring")
        info = eligibility.term_info(term)
        cands = list(eligibility.candidates(info).candidates.values())
        via_hook = list(contributions().schemes.values())
        # The same rules, built by importing the classes (no plugin manager involved).
        by_code = {s.code: s for s in via_hook}
        direct = national.build(contributions().settings["national_schemes"])
        for cls, code, extra in ((Yulu, "yulu", ()), (Nutrition, "nutrition", ("pilot_schools",)),
                                 (MinorityAllowance, "minority_allowance", ("groups",))):
            s = by_code[code]
            kw = {k: getattr(s, k) for k in ("code", "name", "stages", "funding_level", "unit", "rates", "excludes",
                                              "eligible_statuses", "description")}
            args = [getattr(s, a) for a in extra]
            direct.append(cls(*args, **kw))
        assert sorted(s.code for s in direct) == sorted(by_code)

        def run(schemes):
            t0 = time.perf_counter()
            n = 0
            for s in schemes:
                for c in cands:
                    n += s.decide(c, info).eligible
            return time.perf_counter() - t0, n

        hook, plain = [], []
        for _ in range(5):
            hook.append(run(via_hook))
            plain.append(run(direct))
        assert {n for _, n in hook} == {n for _, n in plain}
        pm = manager()
        t0 = time.perf_counter()
        for _ in range(100):
            pm.hook.aid_schemes()
        hook_call = (time.perf_counter() - t0) / 100
        return {"decisions": len(cands) * len(direct), "eligible": hook[0][1],
                "via_hook": min(t for t, _ in hook), "direct": min(t for t, _ in plain), "hook_call": hook_call}


def measure(folder: Path, name: str) -> dict:
    return phases.measure(__file__, folder, name)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--children", type=int, default=100_000)
    phases.add_phase_options(parser)
    args = parser.parse_args(argv)
    if args.phase:
        return phases.print_phase(phase(args.folder, args.phase))
    folder = args.keep or Path(tempfile.mkdtemp(prefix="aid-propose-"))
    try:
        if not (folder / "bench.sqlite3").exists():
            t0 = time.perf_counter()
            build(folder, args.children)
            print(f"built {args.children:,} children in {time.perf_counter() - t0:.1f} s")
        shutil.copy(folder / "bench.sqlite3", folder / "propose.sqlite3")
        a = measure(folder, "propose")
        b = measure(folder, "rules")
        print(f"(a) propose every scheme for {a['candidates']:,} children: {a['seconds']:.2f} s "
              f"(registry read {a['read_seconds']:.2f} s), {a['entries']:,} entries, peak {a['maxrss_mb']} MB  [target < 10 s]")
        print(f"    proposed by scheme: {a['by_scheme']}")
        print(f"(b) {b['decisions']:,} decisions ({b['eligible']:,} eligible), best of 5: via the plugin hook "
              f"{b['via_hook']:.3f} s, rules called directly {b['direct']:.3f} s; ratio {b['via_hook'] / b['direct']:.3f}; "
              f"peak {b['maxrss_mb']} MB")
        print(f"    the aid_schemes hook call itself (once per app start): {b['hook_call'] * 1000:.2f} ms")
        print(f"ratio (a) / rules called directly: {a['seconds'] / b['direct']:.2f}")
    finally:
        if args.keep is None:
            shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
