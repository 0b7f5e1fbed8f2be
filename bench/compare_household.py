"""Benchmark: the household-register comparison (户籍–学籍比对) at province size (bench/README.md).

Generates, in one run:

- a registry of 100,000 enrolled children (a big county), loaded into a fresh
  SQLite instance (``edu-guard init``; rows inserted in bulk, not timed), and the same
  children as ``registry.csv`` for the baseline;
- a household register of 1,000,000 rows (UTF-8 CSV with BOM, the sample's columns),
  a county's people born 1996–2021 by ID number: the 100,000 enrolled children, 2,000
  children of compulsory age enrolled nowhere, 1,000 broken rows (bad check digit,
  full-width digits, 15-digit numbers, blanks) and everyone else outside 6–15.

Then it times, each in a fresh subprocess (interpreter start-up included in both):

(a) the baseline: pandas loads both CSV files (all columns as text) and merges them
    on the ID number (a left join), then counts the matches;
(b) ``edu-guard compare household register.csv --as-of 2021-04-30`` on that instance:
    reads, checks every ID number, sorts every row into its category, stores the run
    (counts + the rows that are not trivially fine) and commits.

It prints the times, the ratio (b)/(a) (target ≤ 1.2), the peak memory of each
subprocess (``ru_maxrss``; target < 1.5 GB) and the run's counts.

Usage: ``python bench/compare_household.py [--rows 1000000] [--enrolled 100000]
[--keep DIR] [--repeat N]`` (needs the ``bench`` extra: pandas).
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WEIGHTS = [2 ** (17 - i) % 11 for i in range(17)]
CHECK = "10X98765432"
AREA = "532801"
HEADER = "公民身份号码,姓名,性别,出生日期,民族,户籍地址,监护人姓名\n"
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英"

BASELINE = r"""
import sys, pandas as pd
reg = pd.read_csv(sys.argv[1], dtype=str, keep_default_na=False, encoding="utf-8-sig")
enr = pd.read_csv(sys.argv[2], dtype=str, keep_default_na=False, encoding="utf-8-sig")
merged = reg.merge(enr, how="left", left_on="公民身份号码", right_on="身份证件号", indicator=True)
print((merged["_merge"] == "both").sum())
"""


def id_number(birth: date, seq: int) -> str:
    first = f"{AREA}{birth:%Y%m%d}{seq % 1000:03d}"
    return first + CHECK[sum(int(d) * w for d, w in zip(first, WEIGHTS)) % 11]


def make_people(rows: int, enrolled: int, rng: random.Random):
    """Yield ``(id, name, sex, birth, kind)`` with kind enrolled/unenrolled/broken/other."""
    seen = set()
    in_age = (date(2005, 5, 1), date(2014, 8, 31))  # of compulsory age on 2021-04-30
    span = (in_age[1] - in_age[0]).days

    def unique(birth_range):
        while True:
            start, days = birth_range
            birth = start + timedelta(days=rng.randrange(days))
            number = id_number(birth, rng.randrange(1000))
            if number not in seen:
                seen.add(number)
                return number, birth

    young = (date(2014, 9, 1), (date(2021, 4, 30) - date(2014, 9, 1)).days)
    old = (date(1996, 1, 1), (date(2005, 4, 30) - date(1996, 1, 1)).days)  # 532801 exists from 1993 on
    kinds = ["enrolled"] * enrolled + ["unenrolled"] * 2000 + ["broken"] * 1000
    kinds += ["other"] * (rows - len(kinds))
    rng.shuffle(kinds)
    for kind in kinds:
        if kind in ("enrolled", "unenrolled"):
            number, birth = unique((in_age[0], span))
        else:
            number, birth = unique(young if rng.random() < 0.1 else old)
        name = rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))
        if kind == "broken":
            number = rng.choice([
                number[:-1] + ("0" if number[-1] != "0" else "1"),  # bad check digit
                number[:6] + number[8:17],  # old 15-digit form
                "",
            ])
        yield number, name, "男" if rng.random() < 0.5 else "女", birth, kind


def generate(folder: Path, rows: int, enrolled: int) -> tuple[Path, Path, list[tuple]]:
    rng = random.Random(4)
    register, registry = folder / "register.csv", folder / "registry.csv"
    children = []
    with open(register, "w", encoding="utf-8-sig", newline="") as reg:
        reg.write(HEADER)
        for number, name, sex, birth, kind in make_people(rows, enrolled, rng):
            reg.write(f"{number},{name},{sex},{birth:%Y%m%d},汉族,云南省西双版纳傣族自治州景洪市勐罕镇曼景村委会,{name[0]}某\n")
            if kind == "enrolled":
                children.append((number, name, sex, birth))
    with open(registry, "w", encoding="utf-8-sig", newline="") as out:
        out.write("身份证件号,姓名,性别,出生日期,学校标识码,年级\n")
        for number, name, sex, birth in children:
            out.write(f"{number},{name},{sex},{birth:%Y-%m-%d},2153280177,五年级\n")
    return register, registry, children


def load_registry(instance: Path, children: list[tuple]) -> None:
    env = {**os.environ, "EDU_GUARD_INSTANCE_PATH": str(instance)}
    subprocess.run([sys.executable, "-m", "edu_guard.cli", "init"], env=env, check=True, capture_output=True)
    os.environ["EDU_GUARD_INSTANCE_PATH"] = str(instance)
    sys.path.insert(0, str(ROOT))
    import sqlalchemy as sa

    from edu_guard.app import create_app
    from edu_guard.db import db, utcnow
    from edu_guard.registry.models import Child, Enrollment, School, Township

    app = create_app()
    with app.app_context():
        town = Township(county_code=AREA, name="勐罕镇")
        school = School(code="2153280177", name="勐罕中心小学", stage="小学", township=town, county_code=AREA)
        db.session.add(school)
        db.session.flush()
        now = utcnow()
        db.session.execute(sa.insert(Child), [
            {"id_number": n, "name": name, "sex": sex, "birth_date": birth, "township_id": town.id, "is_disabled": False,
             "version": 1, "created_at": now, "updated_at": now} for n, name, sex, birth in children])
        ids = db.session.execute(sa.select(Child.id)).scalars().all()
        db.session.execute(sa.insert(Enrollment), [
            {"child_id": i, "school_id": school.id, "grade": "五年级", "status": "在读", "boarding": False,
             "created_at": now, "updated_at": now} for i in ids])
        db.session.commit()


def run_measured(cmd: list[str], env: dict | None = None) -> tuple[float, float, str]:
    """Run ``cmd`` as a child and return (seconds, peak RSS MB, stdout) via wait4."""
    read, write = os.pipe()
    start = time.perf_counter()
    pid = os.fork()
    if pid == 0:  # child
        os.close(read)
        os.dup2(write, 1)
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 2)
        os.execve(cmd[0], cmd, env or os.environ)
    os.close(write)
    chunks = []
    while True:
        chunk = os.read(read, 65536)
        if not chunk:
            break
        chunks.append(chunk)
    os.close(read)
    _pid, status, usage = os.wait4(pid, 0)
    seconds = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status):
        raise SystemExit(f"{' '.join(cmd)} failed (exit {os.waitstatus_to_exitcode(status)})")
    return seconds, usage.ru_maxrss / 1024, b"".join(chunks).decode()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--enrolled", type=int, default=100_000)
    parser.add_argument("--keep", type=Path, default=None, help="keep the files and the instance in this folder")
    parser.add_argument("--repeat", type=int, default=1, help="alternate the two measurements this many times")
    args = parser.parse_args()
    folder = args.keep or Path(tempfile.mkdtemp(prefix="bench-compare-"))
    folder.mkdir(parents=True, exist_ok=True)
    try:
        t = time.perf_counter()
        register, registry, instance = folder / "register.csv", folder / "registry.csv", folder / "instance"
        if args.keep and (instance / "generated").exists():  # a kept run's files: reuse them
            print(f"reusing {folder}")
        else:
            register, registry, children = generate(folder, args.rows, args.enrolled)
            shutil.rmtree(instance, ignore_errors=True)
            load_registry(instance, children)
            (instance / "generated").write_text(f"{args.rows} {args.enrolled}\n")
            print(f"generated {args.rows:,} register rows, {len(children):,} enrolled children in "
                  f"{time.perf_counter() - t:.1f} s ({register.stat().st_size / 1e6:.0f} MB CSV)")
        env = {**os.environ, "EDU_GUARD_INSTANCE_PATH": str(instance)}
        # Both sides start from compiled bytecode, as installed packages do: pandas' .pyc
        # came with its wheel; an editable checkout under PYTHONDONTWRITEBYTECODE would
        # otherwise compile edu_guard's sources on every start (about 0.3 s).
        import compileall

        compileall.compile_dir(str(ROOT / "edu_guard"), quiet=1)
        cli = str(Path(sys.executable).with_name("edu-guard"))
        results = {"baseline": [], "compare": []}
        for _ in range(args.repeat):
            results["baseline"].append(run_measured([sys.executable, "-c", BASELINE, str(register), str(registry)]))
            results["compare"].append(
                run_measured([cli, "compare", "household", str(register), "--as-of", "2021-04-30"], env))
        base = min(r[0] for r in results["baseline"])
        comp = min(r[0] for r in results["compare"])
        print(f"(a) pandas load + merge: {base:.2f} s, peak {max(r[1] for r in results['baseline']):.0f} MB "
              f"(matched {results['baseline'][0][2].strip()})")
        print(f"(b) edu-guard compare household: {comp:.2f} s, peak {max(r[1] for r in results['compare']):.0f} MB")
        print(f"ratio (b)/(a): {comp / base:.2f} (target ≤ 1.2); peak target < 1536 MB")
        pairs = [f"{a[0]:.2f}/{b[0]:.2f}" for a, b in zip(results["baseline"], results["compare"])]
        print(f"every run, (a)/(b) in seconds: {', '.join(pairs)}")
        print(results["compare"][0][2].strip())
    finally:
        if args.keep is None:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
