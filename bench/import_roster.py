"""Benchmark: import a 100,000-row roster (bench/README.md: a big county's enrolled children).

Generates a roster workbook in the format of the sample's ``roster_2021_spring.xlsx``
with its quirks (a title row above the header, a blank row and a 填表人 footer, birth dates as
real Excel dates and as ``2010.05.03`` / ``20100503`` text, full-width digits and a
lower-case ``x`` in ID numbers, stray spaces in names, ID numbers in numeric cells,
one bad check digit), then in one run measures, each in a fresh subprocess:

(a) the bare read of the file by python-calamine alone (open, iterate every row);
(b) the full import, ``import_file("roster", …)`` + commit, as ``edu-guard import
    roster`` does it, on a fresh SQLite database (or a fresh PostgreSQL schema with
    ``--database-url``) that already holds the schools;
(c) the same file imported a second time (every row unchanged).

It prints the times, the ratio (b)/(a) (target ≤ 2.0) and the peak memory of each
subprocess (``ru_maxrss``; target < 500 MB), and the import's counts.

Usage: ``python bench/import_roster.py [--rows 100000] [--file roster.xlsx] [--keep DIR]
[--repeat N] [--database-url postgresql+psycopg://…]``
"""

from __future__ import annotations

import argparse
import json
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
sys.path.insert(0, str(ROOT))

HEADER = [
    "序号",
    "姓名",
    "性别",
    "出生日期",
    "民族",
    "身份证件类型",
    "身份证件号",
    "全国学籍号",
    "学校标识码",
    "学校名称",
    "年级",
    "班级",
    "就读方式",
    "户口所在地",
    "乡镇",
    "村（社区）",
    "家庭类型",
    "是否残疾",
    "监护人",
    "监护人联系电话",
]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤岩玉"
GIVEN = "罕温香叫应坎南光明华梅秀雨涵子轩博杰怡琪梦思嘉萱燕远欣宇晨天一诺佑阳海丽娟桐馨文志"
ETHNIC = ["汉族"] * 8 + ["傣族"] * 6 + ["哈尼族"] * 3 + ["彝族", "基诺族", "拉祜族", "布朗族"]
GRADES_PRIMARY = ["一年级", "二年级", "三年级", "四年级", "五年级", "六年级"]
GRADES_MIDDLE = ["七年级", "八年级", "九年级"]
WEIGHTS = [2 ** (17 - i) % 11 for i in range(17)]
FULLWIDTH = str.maketrans("0123456789", "０１２３４５６７８９")


def check_char(first17: str) -> str:
    """GB 11643 MOD 11-2 check character."""
    return "10X98765432"[sum(int(d) * w for d, w in zip(first17, WEIGHTS)) % 11]


def read_schools() -> list[dict]:
    import csv

    with open(ROOT / "edu_guard" / "demo" / "county_2021" / "schools.csv", encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


def generate(path: Path, rows: int, seed: int = 2021) -> dict:
    """Write a roster of ``rows`` pupils to ``path``; return what was planted in it."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    rng = random.Random(seed)
    schools = read_schools()
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("花名册")
    sheet.append(["景洪市2021年春季学期义务教育阶段学生花名册（基准测试）"])
    sheet.append(HEADER)
    planted = {"numeric_ids": 0, "bad_check": 0, "fullwidth": 0, "lower_x": 0, "text_dates": 0, "spaced_names": 0}
    start = date(2005, 9, 1)
    span = 9 * 365
    numeric_every = max(rows // 60, 1)  # ~60 numeric-ID cells whatever the size
    for i in range(rows):
        born = start + timedelta(days=i % span)
        sex = rng.choice("男女")
        # digits 15–16 tell apart the pupils born on one day; digit 17 is odd for boys
        first17 = f"532801{born:%Y%m%d}{(i // span) % 100:02d}{rng.randrange(5) * 2 + (sex == '男')}"
        number = first17 + check_char(first17)
        school = schools[i % len(schools)]
        grades = GRADES_PRIMARY if school["学段"] == "小学" else GRADES_MIDDLE
        name = rng.choice(SURNAMES) + rng.choice(GIVEN) + (rng.choice(GIVEN) if rng.random() < 0.6 else "")
        if i % 97 == 5:
            name = name[0] + " " + name[1:] + " "
            planted["spaced_names"] += 1
        id_cell: object = number
        if i % numeric_every == 11:
            id_cell = float(number[:17] + "0")  # typed into a numeric cell
            planted["numeric_ids"] += 1
        elif i % 89 == 7:
            id_cell = number.translate(FULLWIDTH)
            planted["fullwidth"] += 1
        elif number.endswith("X") and i % 3 == 0:
            id_cell = number[:-1] + "x"
            planted["lower_x"] += 1
        if i == rows // 2:
            id_cell = number[:-1] + ("0" if number[-1] != "0" else "1")
            planted["bad_check"] += 1
        if i % 23 == 3:
            birth: object = born.strftime("%Y.%m.%d")
            planted["text_dates"] += 1
        elif i % 23 == 4:
            birth = born.strftime("%Y%m%d")
            planted["text_dates"] += 1
        else:
            birth = WriteOnlyCell(sheet, value=born)
            birth.number_format = "yyyy-mm-dd"
        family = rng.choices(["", "脱贫户", "监测户"], weights=[80, 15, 5])[0]
        sheet.append(
            [
                i + 1,
                name,
                sex,
                birth,
                rng.choice(ETHNIC),
                "居民身份证",
                id_cell,
                "G" + number,
                school["学校标识码"],
                school["学校名称"],
                rng.choice(grades),
                f"{rng.randint(1, 4)}班",
                rng.choice(["住校", "走读", "走读"]),
                rng.choice(["本县"] * 9 + ["外县"]),
                school["乡镇（街道）"],
                f"第{rng.randint(1, 12)}村委会",
                family,
                "是" if rng.random() < 0.01 else "否",
                rng.choice(SURNAMES) + rng.choice(GIVEN) + rng.choice(GIVEN),
                f"1{rng.randint(3, 9)}{rng.randint(0, 999999999):09d}",
            ]
        )
    sheet.append([])
    sheet.append(["填表人：            审核人：            填报日期：2021年3月5日"])
    workbook.save(path)
    return planted


def child(code: str) -> dict:
    """Run ``code`` in a fresh interpreter; it prints one JSON object, we add maxrss."""
    wrapper = (
        code
        + "\nimport resource, json, sys\nRESULT['maxrss_mb'] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024\nprint(json.dumps(RESULT, ensure_ascii=False))\n"
    )
    out = subprocess.run([sys.executable, "-c", wrapper], check=True, capture_output=True, text=True, cwd=ROOT)
    return json.loads(out.stdout.strip().splitlines()[-1])


BARE_READ = """
import time
from python_calamine import CalamineWorkbook
t = time.perf_counter()
sheet = CalamineWorkbook.from_path({path!r}).get_sheet_by_index(0)
rows = 0
for cells in sheet.iter_rows():
    rows += 1
RESULT = {{"seconds": time.perf_counter() - t, "rows": rows}}
"""

FULL_IMPORT = """
import time
from edu_guard.app import create_app
from edu_guard.db import db
from edu_guard.registry.services import import_file
app = create_app({{"SECRET_KEY": "bench", "INSTANCE_PATH": {instance!r}, "EDU_GUARD_DATABASE_URL": {url!r},
                  "SQLALCHEMY_ENGINE_OPTIONS": {engine_options!r}}})
with app.app_context():
    if {setup!r}:
        db.create_all()
        import_file("schools", {schools!r})
        db.session.commit()
    t = time.perf_counter()
    result = import_file("roster", {path!r})
    db.session.commit()
    seconds = time.perf_counter() - t
RESULT = {{"seconds": seconds, "rows": result.rows, "created": result.created, "updated": result.updated,
          "unchanged": result.unchanged, "rejected": len(result.rejects)}}
"""

#: The PostgreSQL schema the benchmark works in (created and dropped by it).
PG_SCHEMA = "edu_guard_bench"


def fresh_database(folder: Path, url: str | None) -> tuple[str, dict]:
    """Return an empty database: a new SQLite file, or a new schema on PostgreSQL."""
    if url is None:
        db_path = folder / "bench.sqlite3"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{db_path}{suffix}").unlink(missing_ok=True)
        return f"sqlite:///{db_path}", {}
    import sqlalchemy as sa

    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text(f"DROP SCHEMA IF EXISTS {PG_SCHEMA} CASCADE"))
        conn.execute(sa.text(f"CREATE SCHEMA {PG_SCHEMA}"))
    engine.dispose()
    return url, {"connect_args": {"options": f"-csearch_path={PG_SCHEMA}"}}


def drop_schema(url: str | None) -> None:
    if url is not None:
        import sqlalchemy as sa

        engine = sa.create_engine(url)
        with engine.begin() as conn:
            conn.execute(sa.text(f"DROP SCHEMA IF EXISTS {PG_SCHEMA} CASCADE"))
        engine.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--file", type=Path, help="use this roster instead of generating one")
    parser.add_argument("--keep", type=Path, help="work in this folder and keep the files")
    parser.add_argument("--repeat", type=int, default=1, help="measure (a), (b), (c) this many times; keep the best")
    parser.add_argument("--database-url", help="PostgreSQL URL to import into (a schema of its own) instead of SQLite")
    args = parser.parse_args(argv)

    folder = args.keep or Path(tempfile.mkdtemp(prefix="edu_guard_bench_"))
    folder.mkdir(parents=True, exist_ok=True)
    try:
        return run(args, folder)
    finally:
        drop_schema(args.database_url)
        if args.keep is None:
            shutil.rmtree(folder, ignore_errors=True)


def run(args: argparse.Namespace, folder: Path) -> int:
    """Generate (unless ``--file``) and measure; print the figures."""
    path = args.file or folder / f"roster_{args.rows}.xlsx"
    if args.file is None:
        t = time.perf_counter()
        planted = generate(path, args.rows)
        size = path.stat().st_size / 1e6
        print(f"generated {path} ({size:.1f} MB) in {time.perf_counter() - t:.1f} s; planted {planted}")
    schools = str(ROOT / "edu_guard" / "demo" / "county_2021" / "schools.csv")
    best: dict[str, dict] = {}
    for _ in range(max(1, args.repeat)):
        url, engine_options = fresh_database(folder, args.database_url)
        common = {"path": str(path), "instance": str(folder / "instance"), "url": url, "schools": schools}
        common["engine_options"] = engine_options
        runs = {
            "bare": child(BARE_READ.format(path=str(path))),
            "full": child(FULL_IMPORT.format(setup=True, **common)),
            "again": child(FULL_IMPORT.format(setup=False, **common)),
        }
        for key, result in runs.items():
            if key not in best or result["seconds"] < best[key]["seconds"]:
                best[key] = result
    bare, full, again = best["bare"], best["full"], best["again"]
    database = "PostgreSQL" if args.database_url else "SQLite"
    print(f"best of {max(1, args.repeat)}; database {database}")
    print(
        f"(a) bare read, python-calamine : {bare['seconds']:7.2f} s   peak {bare['maxrss_mb']:6.0f} MB   ({bare['rows']} sheet rows)"
    )
    print(
        f"(b) full import, fresh database: {full['seconds']:7.2f} s   peak {full['maxrss_mb']:6.0f} MB   "
        f"rows {full['rows']} created {full['created']} rejected {full['rejected']}"
    )
    print(
        f"(c) re-import, all unchanged   : {again['seconds']:7.2f} s   peak {again['maxrss_mb']:6.0f} MB   "
        f"unchanged {again['unchanged']} created {again['created']} updated {again['updated']}"
    )
    ratio = full["seconds"] / bare["seconds"]
    print(f"ratio (b)/(a) = {ratio:.2f}  (target <= 2.0)   ratio (c)/(a) = {again['seconds'] / bare['seconds']:.2f}")
    print(f"peak memory of the import: {full['maxrss_mb']:.0f} MB  (target < 500 MB)")
    print(f"cpu: {os.cpu_count()} cores; python {sys.version.split()[0]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
