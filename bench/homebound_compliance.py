"""Benchmark: 送教上门 compliance for a province-sized year (no target in the issue).

Builds a fresh SQLite database with ``--placements`` placements (default 2,000: more
than a big county ever has; a province has a few thousand) at 16 schools in 8
townships, each with sessions on Tuesdays and Thursdays of the school year
2020-09-01 … 2021-07-10 less the winter holiday (about 80 sessions a child, 160,000 in
all), then measures, each in a fresh subprocess:

(a) the baseline: the bare read every compliance computation needs — one
    ``SELECT`` of every placement and every session row, fetched;
(b) ``services.compliance(2020-09-01, 2021-07-10)`` (the rule of
    :mod:`edu_guard.homebound.compliance` for every child, with the winter holiday
    as ``EDU_GUARD_HOMEBOUND_BREAKS``) plus the totals by school and township — what
    ``edu-guard homebound compliance`` and the report page do;
(c) the same for one school's user (scoped: about 1/16 of the children).

Prints the times, the ratio (b)/(a), and each subprocess's peak memory (``ru_maxrss``).

Usage: ``python bench/homebound_compliance.py [--placements 2000] [--keep DIR]``
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from datetime import date, time as dtime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

START, END = date(2020, 9, 1), date(2021, 7, 10)
WINTER = (date(2021, 1, 30), date(2021, 2, 28))


def _app(instance: Path):
    from edu_guard.app import create_app

    return create_app({
        "TESTING": True, "SECRET_KEY": "bench", "INSTANCE_PATH": str(instance),
        "EDU_GUARD_DATABASE_URL": f"sqlite:///{instance / 'bench.sqlite3'}",
        "EDU_GUARD_HOMEBOUND_BREAKS": [[WINTER[0].isoformat(), WINTER[1].isoformat()]],
    })


def build(instance: Path, n: int) -> int:
    """Create the database; return the number of sessions."""
    import sqlalchemy as sa

    from edu_guard.db import db
    from edu_guard.homebound.models import HomeboundPlacement, HomeboundSession
    from edu_guard.registry.models import Child, School, Township

    app = _app(instance)
    with app.app_context():
        db.create_all()
        towns = [Township(county_code="532801", name=f"乡镇{i}") for i in range(8)]
        schools = [School(code=f"21532801{i:02d}", name=f"学校{i}", stage="小学", county_code="532801",
                          township=towns[i % 8]) for i in range(16)]
        db.session.add_all(schools)
        db.session.flush()
        db.session.execute(sa.insert(Child), [
            {"id": i + 1, "id_number": f"53280120100101{i:04d}", "name": f"儿童{i}", "sex": "男",
             "birth_date": date(2010, 1, 1), "township_id": towns[i % 8].id, "version": 1} for i in range(n)])
        db.session.execute(sa.insert(HomeboundPlacement), [
            {"id": i + 1, "child_id": i + 1, "school_id": schools[i % 16].id, "assessed_on": START,
             "assessment": "不能到校就读", "teachers": "李老师", "starts_on": START + timedelta(days=i % 60), "version": 1}
            for i in range(n)])
        days = []
        d = START
        while d <= END:
            if d.weekday() in (1, 3) and not WINTER[0] <= d <= WINTER[1]:
                days.append(d)
            d += timedelta(days=1)
        rows = [{"placement_id": i + 1, "held_on": d, "starts_at": dtime(9), "ends_at": dtime(11), "teachers": "李老师",
                 "content_areas": ["认知"], "progress": "好", "guardian_confirmed": True}
                for i in range(n) for k, d in enumerate(days) if (i % 2 == 0 or (i + k) % 9) and d >= START + timedelta(days=i % 60)]
        db.session.execute(sa.insert(HomeboundSession), rows)
        db.session.commit()
        return len(rows)


def phase(instance: Path, name: str) -> dict:
    import sqlalchemy as sa

    from edu_guard.db import db
    from edu_guard.homebound import services

    app = _app(instance)
    with app.app_context():
        t = time.perf_counter()
        if name == "a":
            p = db.session.execute(sa.text("SELECT id, child_id, school_id, starts_on, ends_on FROM homebound_placement")).fetchall()
            s = db.session.execute(sa.text(
                "SELECT placement_id, held_on, starts_at, ends_at, guardian_confirmed FROM homebound_session")).fetchall()
            out = {"placements": len(p), "sessions": len(s)}
        else:
            user = None
            if name == "c":
                from types import SimpleNamespace

                user = SimpleNamespace(role="school", school_id=1, id=None)
            norm, rows = services.compliance(START, END, user)
            schools = services.summarise(rows, "school")
            services.summarise(rows, "township")
            out = {"children": len(rows), "compliant": schools[-1].compliant, "sessions": schools[-1].sessions,
                   "rate": schools[-1].rate}
        out["seconds"] = time.perf_counter() - t
        out["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--placements", type=int, default=2000)
    parser.add_argument("--keep", type=Path, default=None)
    parser.add_argument("--phase", choices=["build", "a", "b", "c"], help=argparse.SUPPRESS)
    parser.add_argument("--instance", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.phase == "build":
        print(json.dumps({"sessions": build(args.instance, args.placements)}))
        return
    if args.phase:
        print(json.dumps(phase(args.instance, args.phase)))
        return
    instance = args.keep or Path(tempfile.mkdtemp(prefix="eg-bench-homebound-"))
    instance.mkdir(parents=True, exist_ok=True)
    t = time.perf_counter()
    # Every step in its own process: Linux keeps ru_maxrss across fork and exec.
    sessions = json.loads(subprocess.run(
        [sys.executable, __file__, "--phase", "build", "--instance", str(instance), "--placements", str(args.placements)],
        check=True, capture_output=True, text=True).stdout.strip().splitlines()[-1])["sessions"]
    print(f"built {args.placements} placements, {sessions} sessions in {time.perf_counter() - t:.1f} s")
    results = {}
    for name in ("a", "b", "c"):
        out = subprocess.run([sys.executable, __file__, "--phase", name, "--instance", str(instance)],
                             check=True, capture_output=True, text=True).stdout
        results[name] = json.loads(out.strip().splitlines()[-1])
    a, b, c = results["a"], results["b"], results["c"]
    print(f"(a) bare read: {a['seconds']:.2f} s, peak {a['peak_mb']:.0f} MB ({a['placements']} placements, {a['sessions']} sessions)")
    print(f"(b) compliance, whole county: {b['seconds']:.2f} s, peak {b['peak_mb']:.0f} MB "
          f"({b['children']} children, {b['compliant']} compliant, {b['rate']}, {b['sessions']} sessions); (b)/(a) = {b['seconds'] / a['seconds']:.1f}")
    print(f"(c) compliance, one school's user: {c['seconds']:.2f} s, peak {c['peak_mb']:.0f} MB ({c['children']} children)")


if __name__ == "__main__":
    main()
