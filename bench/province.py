"""Benchmark: a province on PostgreSQL (issue 11 item 5; figures in bench/README.md).

Builds, in a database of its own (``--url``, default ``edu_province_bench``), a province
of ``--counties`` counties (default 100: 10 prefectures of 10) × ``--children`` children
each (default 10,000: 1,000,000 children), each enrolled at a school of its county, and
``--payments`` payments per child (default 10: two schemes in each of five terms,
2021 spring – 2023 spring: 10,000,000 payments), 0.1 % reversed, plus 0.5 % of the
children with a dropout case (opened over 2022, a third closed). The bulk rows are
written by PostgreSQL itself (``INSERT … SELECT … generate_series``), the secondary
indexes built after the load. County 532801 (景洪市) also holds the sample county's
schools, so that the roster import below finds them.

Then it measures, each against a floor named and measured in the same run:

(a) the roster list (``/children``) and search (``/children?q=…``) pages, signed in as
    county clerks of 16 different counties (``--clients``) hitting a gunicorn server
    (``edu-guard serve``, 2 workers) for ``--seconds`` (60): p50/p95/p99. Floor: the
    sign-in page (no query) under the same load. Target p95 < 100 ms;
(b) the province's aid statistics for a year (``reports.province.aid_by_county``,
    in-process, and the page ``/province/aid``). Floor: the bare GROUP BY in ``psql``.
    Target < 2 s;
(c) the province's dropout monthly report (``reports.province.monthly_by_county`` and
    ``/province/monthly``). Floor: the bare count of the cases open at the month's end
    in ``psql``. Target < 2 s;
(d) a 50,000-row roster import of county 532801 (``edu-guard import roster``) while (a)
    runs: the pages' p95 during the import. Target < 250 ms.

Usage: ``python bench/province.py [--counties 100] [--children 10000] [--payments 10]
[--skip-build] [--seconds 60] [--clients 16] [--import-rows 50000] [--port 5106]``
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/edu_province_bench"
DEMO_COUNTY = "532801"
#: Terms of the aid history: code, name, start, end.
TERMS = [
    ("2021-spring", "2021年春季学期", "2021-03-01", "2021-07-09"),
    ("2021-autumn", "2021年秋季学期", "2021-09-01", "2022-01-15"),
    ("2022-spring", "2022年春季学期", "2022-02-14", "2022-07-08"),
    ("2022-autumn", "2022年秋季学期", "2022-09-01", "2023-01-13"),
    ("2023-spring", "2023年春季学期", "2023-02-13", "2023-07-07"),
]
SCHEMES = [("compulsory_living", 62500), ("nutrition", 50000)]
SURNAMES = "岩玉张李王刀杨赵陈罗周吴徐孙胡朱高林何郭马"
GIVEN = "温香光明华丽强芳军敏静伟秀英勇娜杰涛玲燕"
PASSWORD = "bench-password-1"


def counties(n: int) -> list[tuple[str, str, str]]:
    """``(code, name, prefecture code)`` of ``n`` counties: 10 per prefecture, the last
    one the sample county 532801 under 532800."""
    out = []
    for i in range(n - 1):
        pref = f"53{i // 10 + 1:02d}00"
        out.append((f"53{i // 10 + 1:02d}{i % 10 + 1:02d}", f"县{i + 1:03d}", pref))
    out.append((DEMO_COUNTY, "景洪市", "532800"))
    return out


def engine(url: str):
    import sqlalchemy as sa

    return sa.create_engine(url)


def make_app(url: str, instance: Path, county: str = DEMO_COUNTY):
    from edu_guard.app import create_app

    return create_app({"SECRET_KEY": "bench", "INSTANCE_PATH": str(instance), "EDU_GUARD_DATABASE_URL": url,
                       "EDU_GUARD_COUNTY_CODE": county})


def build(args, instance: Path) -> dict:
    """Create the schema and the rows; return the build's timings."""
    import sqlalchemy as sa

    from edu_guard.db import db
    from edu_guard.registry.services import import_file

    t0 = time.perf_counter()
    eng = engine(args.url)
    with eng.begin() as conn:
        conn.execute(sa.text("DROP SCHEMA public CASCADE"))
        conn.execute(sa.text("CREATE SCHEMA public"))
    app = make_app(args.url, instance)
    with app.app_context():
        db.create_all()
        big = ["child", "enrollment", "aid_payment", "aid_payment_batch", "dropout_case", "case_event"]
        deferred = [ix for name in big for ix in db.metadata.tables[name].indexes]
        with db.engine.begin() as conn:
            for ix in deferred:
                ix.drop(conn)
        # the sample county's schools, through the importer (townships by name)
        import_file("schools", str(ROOT / "edu_guard" / "demo" / "county_2021" / "schools.csv"))
        db.session.commit()
    cs = counties(args.counties)
    n_children = args.counties * args.children
    timings = {}
    with eng.begin() as conn:
        x = conn.execute
        prefs = sorted({c[2] for c in cs})
        x(sa.text("INSERT INTO division (code, name, level) VALUES ('530000', '云南省', 'province')"))
        for p in prefs:
            x(sa.text("INSERT INTO division VALUES (:c, :n, 'prefecture', '530000')"), {"c": p, "n": f"州{p}"})
        for code, name, pref in cs:
            x(sa.text("INSERT INTO division VALUES (:c, :n, 'county', :p)"), {"c": code, "n": name, "p": pref})
        # county k (0-based) has townships and schools k*10+1 … k*10+10 (ids above the sample's)
        base = 1000
        x(sa.text("CREATE TEMP TABLE bench_county (k int PRIMARY KEY, code text)"))
        x(sa.text("INSERT INTO bench_county VALUES " + ",".join(f"({k}, '{c[0]}')" for k, c in enumerate(cs))))
        x(sa.text(f"""INSERT INTO township (id, county_code, name)
            SELECT {base} + k * 10 + t, code, '乡镇' || t FROM bench_county, generate_series(1, 10) t"""))
        x(sa.text(f"""INSERT INTO school (id, code, name, stage, township_id, county_code)
            SELECT {base} + k * 10 + t, '2' || code || lpad(t::text, 3, '0'), code || '第' || t || '小学',
                   '九年一贯制', {base} + k * 10 + t, code FROM bench_county, generate_series(1, 10) t"""))
        x(sa.text("SELECT setval('township_id_seq', (SELECT max(id) FROM township))"))
        x(sa.text("SELECT setval('school_id_seq', (SELECT max(id) FROM school))"))
        t = time.perf_counter()
        # child i (1-based): county (i-1)/N, township/school by (i-1)%10; an 18-digit ID
        # (birth place = county, or 532822 in the sample county to stay clear of the
        # roster's), check digit by GB 11643 computed in SQL
        x(sa.text(f"""
            CREATE TEMP TABLE bench_child AS
            SELECT i, c.code AS county, (i - 1) % {args.children} AS j,
                   CASE WHEN c.code = '{DEMO_COUNTY}' THEN '532822' ELSE c.code END
                   || to_char(date '2008-01-01' + ((i - 1) % {args.children}) % 3000, 'YYYYMMDD')
                   || lpad((((i - 1) % {args.children}) / 3000)::text, 3, '0') AS first17
            FROM generate_series(1, {n_children}) i JOIN bench_county c ON c.k = (i - 1) / {args.children}"""))
        x(sa.text("""
            CREATE TEMP TABLE bench_id AS
            SELECT i, county, j, first17 || substr('10X98765432', (
                (SELECT sum(substr(first17, p, 1)::int * ((2 ^ (18 - p))::bigint % 11)) FROM generate_series(1, 17) p)
                % 11)::int + 1, 1) AS id_number FROM bench_child"""))
        x(sa.text(f"""INSERT INTO child (id, id_number, id_type, name, sex, birth_date, township_id, is_disabled,
                                       version, created_at, updated_at)
            SELECT i, id_number, '居民身份证',
                   substr('{SURNAMES}', i % {len(SURNAMES)} + 1, 1) || substr('{GIVEN}', (i / 7) % {len(GIVEN)} + 1, 1)
                   || substr('{GIVEN}', (i / 131) % {len(GIVEN)} + 1, 1),
                   CASE WHEN substr(id_number, 17, 1)::int % 2 = 1 THEN '男' ELSE '女' END,
                   to_date(substr(id_number, 7, 8), 'YYYYMMDD'), {base} + ((i - 1) / {args.children}) * 10 + j % 10 + 1,
                   false, 1, now(), now()
            FROM bench_id"""))
        x(sa.text(f"""INSERT INTO enrollment (id, child_id, school_id, student_number, grade, class_name, boarding,
                                            status, created_at, updated_at)
            SELECT i, i, {base} + ((i - 1) / {args.children}) * 10 + j % 10 + 1, 'G' || id_number,
                   (j % 9 + 1) || '年级', (j % 4 + 1) || '班', false, '在读', now(), now() FROM bench_id"""))
        timings["children_s"] = round(time.perf_counter() - t, 1)
        for tid, (code, name, start, end) in enumerate(TERMS, 1):
            x(sa.text("INSERT INTO aid_term (id, code, name, start, \"end\", school_days, created_at) "
                      "VALUES (:i, :c, :n, :s, :e, 90, now())"), {"i": tid, "c": code, "n": name, "s": start, "e": end})
        n_schools = len(cs) * 10
        # batch of (term, scheme, school): id = ((term-1)*2 + s) * n_schools + school index + 1
        x(sa.text(f"""INSERT INTO aid_payment_batch (id, term_id, scheme_code, paid_on, created_at)
            SELECT ((tm - 1) * 2 + s) * {n_schools} + sc + 1, tm, (ARRAY['compulsory_living','nutrition'])[s + 1],
                   date '2021-03-20', now()
            FROM generate_series(1, 5) tm, generate_series(0, 1) s, generate_series(0, {n_schools - 1}) sc"""))
        t = time.perf_counter()
        per = args.payments
        x(sa.text(f"""INSERT INTO aid_payment (id, child_id, scheme_code, term_id, school_id, stage, amount_fen,
                                             channel, batch_id, paid_on, is_poverty, is_monitored, is_dibao,
                                             is_tekun, is_orphan, is_disabled)
            SELECT (i - 1) * {per} + k + 1, i, (ARRAY['compulsory_living','nutrition'])[k % 2 + 1], k / 2 + 1,
                   {base} + ((i - 1) / {args.children}) * 10 + (i - 1) % {args.children} % 10 + 1,
                   CASE WHEN (i - 1) % {args.children} % 9 < 6 THEN '小学' ELSE '初中' END,
                   CASE WHEN k % 2 = 0 THEN {SCHEMES[0][1]} ELSE {SCHEMES[1][1]} END, 'bank',
                   ((k / 2) * 2 + k % 2) * {n_schools} + ((i - 1) / {args.children}) * 10 + (i - 1) % {args.children} % 10 + 1,
                   date '2021-03-20' + (k / 2) * 182,
                   i % 5 = 0, i % 25 = 0, i % 20 = 0, i % 100 = 0, i % 50 = 0, false
            FROM generate_series(1, {n_children}) i, generate_series(0, {per - 1}) k"""))
        timings["payments_s"] = round(time.perf_counter() - t, 1)
        x(sa.text("""INSERT INTO aid_payment_reversal (payment_id, reason, reversed_at)
            SELECT id, '重复发放', now() FROM aid_payment WHERE id % 1000 = 7"""))
        # dropout cases: every 200th child, opened over 2022, a third closed in the month after
        x(sa.text(f"""INSERT INTO dropout_case (id, child_id, state, reason, source, opened_on, step_started_on,
                                              township_id, school_id, closed_on, version, created_at, updated_at)
            SELECT i / 200, i, CASE WHEN i % 3 = 0 THEN 'closed' ELSE 'persuasion' END, '其他', 'manual',
                   date '2022-01-01' + (i / 200) % 365, date '2022-01-01' + (i / 200) % 365,
                   {base} + ((i - 1) / {args.children}) * 10 + (i - 1) % {args.children} % 10 + 1,
                   {base} + ((i - 1) / {args.children}) * 10 + (i - 1) % {args.children} % 10 + 1,
                   CASE WHEN i % 3 = 0 THEN date '2022-01-01' + (i / 200) % 365 + 30 END, 1, now(), now()
            FROM generate_series(200, {n_children}, 200) i"""))
        x(sa.text("""INSERT INTO case_event (case_id, event, to_state, acted_on, recorded_at)
            SELECT id, 'open', 'persuasion', opened_on, now() FROM dropout_case
            UNION ALL SELECT id, 'close', 'closed', closed_on, now() FROM dropout_case WHERE closed_on IS NOT NULL"""))
        for table in ("child", "enrollment", "aid_payment", "aid_payment_batch", "aid_payment_reversal",
                      "dropout_case", "case_event"):
            x(sa.text(f"SELECT setval('{table}_id_seq', (SELECT coalesce(max(id), 1) FROM {table}))"))
    t = time.perf_counter()
    with app.app_context():
        with db.engine.begin() as conn:
            for ix in deferred:
                ix.create(conn)
    timings["indexes_s"] = round(time.perf_counter() - t, 1)
    with eng.begin() as conn:
        conn.execute(sa.text("ANALYZE"))
        # an SSD's random reads (docs/deploy.md): the planner then reads a county's
        # children by index rather than the whole child table
        database = eng.url.database
        conn.execute(sa.text(f'ALTER DATABASE "{database}" SET random_page_cost = 1.1'))
    with app.app_context():
        users(cs)
    timings["build_s"] = round(time.perf_counter() - t0, 1)
    return timings


def users(cs) -> None:
    """A clerk per county (``clerk<code>``), a prefecture user (``pref532800``) and a
    province user (``province``), all with :data:`PASSWORD`."""
    from werkzeug.security import generate_password_hash

    from edu_guard.auth.models import User
    from edu_guard.db import db

    hashed = generate_password_hash(PASSWORD)
    rows = [User(username=f"clerk{code}", display_name=name, role="clerk", division_code=code) for code, name, _ in cs]
    rows += [User(username="pref532800", display_name="西双版纳州", role="prefecture", division_code="532800"),
             User(username="province", display_name="云南省", role="province", division_code="530000")]
    for u in rows:
        u.password_hash = hashed
    db.session.add_all(rows)
    db.session.commit()


# --- load ------------------------------------------------------------------------


class Client:
    """A signed-in browser, in the standard library: one keep-alive connection, the
    session cookie."""

    def __init__(self, base: str):
        from urllib.parse import urlsplit

        u = urlsplit(base)
        self.host, self.port = u.hostname, u.port
        self.cookies: dict[str, str] = {}
        self.conn = None

    def request(self, method: str, path: str, body: str | None = None) -> tuple[int, str, str]:
        """Return ``(status, body, location)``."""
        import http.client
        from urllib.parse import quote

        path = quote(path, safe="/?=&%")
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        for attempt in (1, 2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=120)
            try:
                self.conn.request(method, path, body=body, headers=headers)
                r = self.conn.getresponse()
                data = r.read().decode("utf-8", "replace")
                break
            except (http.client.HTTPException, ConnectionError):
                self.conn.close()
                self.conn = None
                if attempt == 2:
                    raise
        for cookie in r.headers.get_all("Set-Cookie") or []:
            name, _, value = cookie.split(";", 1)[0].partition("=")
            self.cookies[name.strip()] = value
        if r.headers.get("Connection", "").lower() == "close":
            self.conn.close()
            self.conn = None
        return r.status, data, r.headers.get("Location") or ""

    def get(self, path: str) -> int:
        return self.request("GET", path)[0]

    def sign_in(self, username: str) -> "Client":
        from urllib.parse import quote, urlencode

        _status, page, _loc = self.request("GET", "/login")
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
        data = {"username": username, "password": PASSWORD, **({"csrf_token": token.group(1)} if token else {})}
        status, _body, location = self.request("POST", "/login", urlencode(data, quote_via=quote))
        if status not in (302, 303) or "/login" in location:
            raise SystemExit(f"sign-in of {username} failed: {status} {location}")
        return self


class Load:
    """``clients`` threads, each signed in as a county clerk, GETting ``paths`` in turn
    until stopped; latencies (seconds) by path kind and by time."""

    def __init__(self, base: str, usernames: list[str], paths: list[tuple[str, str]]):
        self.base, self.usernames, self.paths = base, usernames, paths
        self.samples: list[tuple[float, str, float, int]] = []
        self.stop = threading.Event()
        self.lock = threading.Lock()

    def session(self, username: str) -> Client:
        return Client(self.base).sign_in(username)

    def run(self, username: str, offset: int) -> None:
        s = self.session(username)
        i = offset
        while not self.stop.is_set():
            kind, path = self.paths[i % len(self.paths)]
            path = path.replace("{n}", str(i % 97 + 2))
            t = time.perf_counter()
            status = s.get(path)
            dt = time.perf_counter() - t
            with self.lock:
                self.samples.append((time.time(), kind, dt, status))
            i += 1

    def start(self) -> list[threading.Thread]:
        threads = [threading.Thread(target=self.run, args=(u, k), daemon=True) for k, u in enumerate(self.usernames)]
        for th in threads:
            th.start()
        return threads

    def finish(self, threads) -> None:
        self.stop.set()
        for th in threads:
            th.join()


def percentiles(values: list[float]) -> dict:
    if len(values) < 2:
        return {"n": len(values), **({"p50_ms": round(values[0] * 1000, 1)} if values else {})}
    qs = statistics.quantiles(values, n=100, method="inclusive")
    return {"n": len(values), "p50_ms": round(qs[49] * 1000, 1), "p95_ms": round(qs[94] * 1000, 1),
            "p99_ms": round(qs[98] * 1000, 1)}


def summarise(samples, since: float = 0, until: float = 1e20) -> dict:
    out = {}
    errors = sum(1 for at, _k, _d, code in samples if since <= at <= until and code >= 400)
    for kind in sorted({k for _a, k, _d, _c in samples}):
        out[kind] = percentiles([d for at, k, d, _c in samples if k == kind and since <= at <= until])
    out["errors"] = errors
    return out


def psql_ms(url: str, sql: str) -> float:
    """Run ``sql`` through psql with ``\\timing``; return the best of 3 (ms)."""
    dsn = url.replace("postgresql+psycopg://", "postgresql://")
    out = subprocess.run(["psql", dsn, "-qAt", "-c", "\\timing on", *sum((["-c", sql] for _ in range(3)), [])],
                         capture_output=True, text=True, check=True).stdout
    return min(float(m) for m in re.findall(r"Time: ([0-9.]+) ms", out))


def loadavg() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def measure(args, instance: Path) -> dict:
    import sqlalchemy as sa

    from edu_guard.db import db
    from edu_guard.reports import province

    res: dict = {"load_before": loadavg()}
    app = make_app(args.url, instance)
    year, month = 2022, "2022-06"
    with app.app_context():
        terms = db.session.execute(sa.text("SELECT id FROM aid_term WHERE extract(year FROM start) = :y"),
                                   {"y": year}).scalars().all()
        codes = [c for c, _n, _p in counties(args.counties)]
        for name, fn in (("aid_stats", lambda: province.aid_by_county("530000", year)),
                         ("monthly", lambda: province.monthly_by_county("530000", month))):
            best = None
            for _ in range(3):
                t = time.perf_counter()
                fn()
                dt = time.perf_counter() - t
                best = dt if best is None else min(best, dt)
                db.session.rollback()
            res[f"{name}_s"] = round(best, 3)
    ids = ",".join(map(str, terms))
    res["aid_floor_s"] = round(psql_ms(args.url, (
        "SELECT s.county_code, p.scheme_code, count(*), sum(p.amount_fen) FROM aid_payment p "
        f"JOIN school s ON s.id = p.school_id WHERE p.term_id IN ({ids}) GROUP BY 1, 2")) / 1000, 3)
    res["monthly_floor_s"] = round(psql_ms(args.url, (
        "SELECT t.county_code, count(*) FROM dropout_case c JOIN township t ON t.id = c.township_id "
        "WHERE c.opened_on <= date '2022-06-30' AND (c.closed_on IS NULL OR c.closed_on > date '2022-06-30') "
        "GROUP BY 1")) / 1000, 3)
    res["payments_in_year"] = int(subprocess.run(
        ["psql", args.url.replace("postgresql+psycopg://", "postgresql://"), "-qAt", "-c",
         f"SELECT count(*) FROM aid_payment WHERE term_id IN ({ids})"], capture_output=True, text=True).stdout)

    # the server
    env = {**os.environ, "EDU_GUARD_DATABASE_URL": args.url, "EDU_GUARD_SECRET_KEY": "b" * 64,
           "EDU_GUARD_INSTANCE_PATH": str(instance), "EDU_GUARD_COUNTY_CODE": DEMO_COUNTY}
    exe = str(Path(sys.executable).parent / "edu-guard")
    server = subprocess.Popen([exe, "serve", "--host", "127.0.0.1", "--port", str(args.port), "--workers", "2", "--no-worker"],
                              env=env, stdout=subprocess.DEVNULL, stderr=open(instance / "server.log", "w"))
    base = f"http://127.0.0.1:{args.port}"
    try:
        for _ in range(240):
            try:
                Client(base).get("/login")
                break
            except OSError:
                time.sleep(0.5)
        s = Load(base, ["province"], []).session("province")
        for page in (f"/province/aid?year={year}", f"/province/monthly?month={month}"):
            best = None
            for _ in range(3):
                t = time.perf_counter()
                status = s.get(page)
                dt = time.perf_counter() - t
                assert status == 200, (page, status)
                best = dt if best is None else min(best, dt)
            res[f"page {page.split('?')[0]}_s"] = round(best, 3)
        # one client alone first: the pages' own time, no queueing
        alone = Load(base, [], [])
        c = alone.session(f"clerk{codes[0]}")
        for kind, page in (("floor", "/login"), ("list", "/children"), ("list", "/children?page=7"),
                           ("search", "/children?q=岩温"), ("search", "/children?q=玉香华")):
            for _ in range(5):
                t = time.perf_counter()
                c.get(page)
                alone.samples.append((time.time(), kind, time.perf_counter() - t, 200))
        res["one_client"] = summarise(alone.samples)
        clerks = [f"clerk{c}" for c in codes[:: max(len(codes) // args.clients, 1)][: args.clients]]
        paths = [("list", "/children"), ("list", "/children?page={n}"), ("search", "/children?q=岩温"),
                 ("search", "/children?q=玉香华"), ("floor", "/login")]
        load = Load(base, clerks, paths)
        threads = load.start()
        res["load_start"] = loadavg()
        time.sleep(args.seconds)
        res["steady"] = summarise(load.samples)
        res["load_steady"] = loadavg()
        # (d) the import under load
        roster = instance / "roster50k.xlsx"
        if not roster.exists():
            import import_roster

            import_roster.generate(roster, args.import_rows)
        t_import = time.time()
        out = subprocess.run([exe, "import", "roster", "--json", "--as", f"clerk{DEMO_COUNTY}", str(roster)], env=env, capture_output=True, text=True)
        t_end = time.time()
        res["import_s"] = round(t_end - t_import, 1)
        res["import_rc"] = out.returncode
        try:
            counts = json.loads(out.stdout)
            res["import_counts"] = {k: counts[k] if isinstance(counts[k], int) else len(counts[k])
                                    for k in ("rows", "created", "updated", "unchanged", "rejected")}
        except (ValueError, KeyError):
            res["import_tail"] = (out.stdout + out.stderr).strip()[-500:]
        res["during_import"] = summarise(load.samples, t_import, t_end)
        res["load_import"] = loadavg()
        load.finish(threads)
    finally:
        server.terminate()
        server.wait(30)
    return res


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--url", default=DEFAULT_URL)
    p.add_argument("--counties", type=int, default=100)
    p.add_argument("--children", type=int, default=10_000, help="children per county")
    p.add_argument("--payments", type=int, default=10, help="payments per child (two schemes a term, ≤ 10)")
    p.add_argument("--skip-build", action="store_true", help="measure the database built by an earlier run")
    p.add_argument("--build-only", action="store_true")
    p.add_argument("--seconds", type=int, default=60)
    p.add_argument("--clients", type=int, default=16)
    p.add_argument("--import-rows", type=int, default=50_000)
    p.add_argument("--port", type=int, default=5106)
    p.add_argument("--instance", type=Path, default=Path(tempfile.gettempdir()) / "edu_province_bench")
    args = p.parse_args(argv)
    args.instance.mkdir(parents=True, exist_ok=True)
    result = {"args": {k: str(v) for k, v in vars(args).items()}}
    if not args.skip_build:
        result["build"] = build(args, args.instance)
        print(json.dumps(result["build"]), flush=True)
    if not args.build_only:
        result["measure"] = measure(args, args.instance)
    print(json.dumps(result, ensure_ascii=False, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
