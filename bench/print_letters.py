"""Benchmark: print 1,000 责令限期改正通知书 in one run (bench/README.md: 1,000 letters a run).

Generates 1,000 order-to-correct contexts for made-up cases (one child is named 王堃:
堃 is outside GB2312 and FandolFang: it must print from a fallback system font), then
numbers and stores them the way the case service does (``issue_letter(…,
render=False)``: the document number from the sequence, the context on the Letter
row, the audit row) on a fresh SQLite database, and in one run measures, each in a
fresh subprocess:

(a) the baseline: bare WeasyPrint rendering the whole run as one HTML document
    (the very HTML ``render_html`` makes for these letters, default URL fetcher,
    ``HTML(string=…).write_pdf()``);
(b) ``print_run(letters)`` with one process (``EDU_GUARD_PRINT_WORKERS=1``):
    validation, font check, templates, the locked-down fetcher, chunks joined;
(c) ``print_run(letters)`` as configured (chunks laid out by one process per CPU);
(d) one letter issued end to end (``issue_letter``: number, render, store), warm.

It prints the times, the ratios (b)/(a) and (c)/(a) (target ≤ 1.1), the peak memory
(``ru_maxrss``) of each subprocess and of its workers, and checks the output: page
count, every document number, and 王堃 printed with a real glyph.

Targets (issue): one letter < 1 s; the print run ≤ 1.1 × the baseline and < 60 s.

Usage: ``python bench/print_letters.py [--letters 1000] [--keep DIR]``
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤岩玉"
GIVEN = "罕温香叫应坎南光明华梅秀雨涵子轩博杰怡琪梦思嘉萱燕远欣宇晨天一诺佑阳海丽娟桐馨文志"
TOWNSHIPS = ["嘎洒镇", "勐龙镇", "勐罕镇", "勐养镇", "景哈哈尼族乡", "基诺山基诺族乡", "允景洪街道", "江北街道"]
SCHOOLS = ["景洪市第三中学", "嘎洒镇中心小学", "勐龙镇中学", "勐罕镇中心小学", "勐养镇中学", "景哈乡中心小学"]
#: Not in GB2312 nor in FandolFang: printed from the fallback Noto Serif CJK SC.
RARE_NAME = "王堃"
ISSUED_ON = date(2021, 3, 8)


#: Ethnic townships' short names are configured, never derived (issue 9 item 3).
ETHNIC_SHORT = {"景哈哈尼族乡": "景哈", "基诺山基诺族乡": "基诺山"}


def issuer(town: str):
    """The issuer of a township's 责令限期改正通知书: its government, or the bureau for a 街道."""
    from edu_guard.letters import services

    if services.order_issuer_is_bureau(town):
        return services.bureau_issuer()
    return services.township_issuer(town, ETHNIC_SHORT.get(town))


def _config(instance: Path, workers: int | None = None) -> dict:
    conf = {
        "TESTING": True,
        "SECRET_KEY": "bench",
        "INSTANCE_PATH": str(instance),
        "EDU_GUARD_DATABASE_URL": f"sqlite:///{instance / 'bench.sqlite3'}",
    }
    if workers:
        conf["EDU_GUARD_PRINT_WORKERS"] = workers
    return conf


def make_contexts(n: int, seed: int = 2021) -> list[tuple[str, dict]]:
    """Return ``n`` (township, order_to_correct context) pairs, one child named 王堃."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        town = rng.choice(TOWNSHIPS)
        school = rng.choice(SCHOOLS)
        child = RARE_NAME if i == n // 2 else rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))
        guardian = rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))
        born = date(2006, 9, 1) + timedelta(days=rng.randrange(365 * 8))
        ctx = {
            "guardian": {
                "name": guardian,
                "relation": rng.choice(("父亲", "母亲", "祖父", "祖母")),
                "phone": f"13{rng.randrange(10**9):09d}",
                "address": f"景洪市{town}{rng.choice(('曼景罕', '曼弄枫', '曼贺', '曼飞龙'))}村委会{rng.randrange(1, 12)}组{rng.randrange(1, 99)}号",
            },
            "child": {
                "name": child,
                "sex": rng.choice(("男", "女")),
                "birth_date": born,
                "grade": rng.choice(("五年级", "六年级", "七年级", "八年级", "九年级")),
                "out_since": date(2021, 3, 1) - timedelta(days=rng.randrange(30)),
            },
            "school": school,
            "deadline": ISSUED_ON + timedelta(days=14),
            "visits": rng.randrange(0, 5),
            "authority": "景洪市教育体育局",
            "penalty_basis": "《云南省义务教育条例》第四十二条",
            "contact_person": "张明",
            "contact_phone": "0691-2123456",
            # the rights to review and to sue (行政复议法 Art. 20, 行政诉讼法 Art. 46)
            "review_authority": "景洪市人民政府",
            "review_days": 60,
            "court": "景洪市人民法院",
            "lawsuit_months": 6,
        }
        out.append((town, ctx))
    return out


def peak_mb() -> tuple[float, float]:
    """Peak RSS of this process and of its (finished) children, in MB."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return round(own, 1), round(kids, 1)


def cpu_s() -> float:
    """CPU seconds (user + system) used so far by this process and its children."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


# --- phases, each run in a fresh subprocess ---------------------------------------


def phase_setup(args) -> dict:
    """Create the database, read the fonts' coverage, number and store the letters."""
    from edu_guard.app import create_app
    from edu_guard.db import db
    from edu_guard.letters import render, services

    instance = Path(args.instance)
    app = create_app(_config(instance))
    out: dict = {}
    with app.app_context():
        db.create_all()
        t = time.perf_counter()
        render.letter_fonts()
        out["fonts_s"] = round(time.perf_counter() - t, 2)
        contexts = make_contexts(args.letters)
        t = time.perf_counter()
        letters = []
        for town, ctx in contexts:
            letters.append(
                services.issue_letter(
                    "order_to_correct", ctx, issuer=issuer(town), issued_on=ISSUED_ON, render=False
                )
            )
        db.session.commit()
        out["number_store_s"] = round(time.perf_counter() - t, 2)
        out["doc_numbers"] = [letter.doc_number for letter in letters]
        # The HTML of the whole run as one document, for the baseline.
        items = [render.PrintItem(l.kind, l.context, l.doc_number) for l in letters]
        Path(args.html).write_text(render.render_html(items), encoding="utf-8")
    return out


def phase_baseline(args) -> dict:
    """Bare WeasyPrint: the same HTML in one document, default fetcher."""
    t0 = time.perf_counter()
    from weasyprint import HTML

    from edu_guard.letters.render import LETTER_TEMPLATE_DIR

    html = Path(args.html).read_text(encoding="utf-8")
    t, c = time.perf_counter(), cpu_s()
    pdf = HTML(string=html, base_url=LETTER_TEMPLATE_DIR.as_uri() + "/").write_pdf()
    seconds, cpu = time.perf_counter() - t, cpu_s() - c
    Path(args.out).write_bytes(pdf)
    own, kids = peak_mb()
    return {"seconds": round(seconds, 2), "cpu_s": round(cpu, 2), "import_s": round(t - t0, 2), "bytes": len(pdf),
            "peak_mb": own, "workers_peak_mb": kids}


def phase_print_run(args) -> dict:
    """``print_run`` of the stored letters (validation, templates, fonts, fetcher)."""
    from edu_guard.app import create_app
    from edu_guard.db import db
    from edu_guard.letters import services
    from edu_guard.letters.models import Letter
    from edu_guard.letters.render import print_workers

    app = create_app(_config(Path(args.instance), args.workers))
    with app.app_context():
        letters = db.session.execute(db.select(Letter).order_by(Letter.id)).scalars().all()
        import weasyprint  # noqa: F401  (import time is not print time, as in the baseline)

        t, c = time.perf_counter(), cpu_s()
        pdf = services.print_run(letters)
        seconds, cpu = time.perf_counter() - t, cpu_s() - c
        workers = print_workers(app)
    Path(args.out).write_bytes(pdf)
    own, kids = peak_mb()
    return {"seconds": round(seconds, 2), "cpu_s": round(cpu, 2), "bytes": len(pdf), "peak_mb": own,
            "workers_peak_mb": kids, "workers": workers}


def phase_single(args) -> dict:
    """One letter issued end to end (number, render, store), after a warm-up letter."""
    from edu_guard.app import create_app
    from edu_guard.db import db
    from edu_guard.letters import services

    app = create_app(_config(Path(args.instance)))
    times = []
    with app.app_context():
        contexts = make_contexts(6, seed=7)
        t = time.perf_counter()
        first = services.issue_letter("order_to_correct", contexts[0][1], issuer=issuer(contexts[0][0]), issued_on=ISSUED_ON)
        cold = time.perf_counter() - t
        for town, ctx in contexts[1:]:
            t = time.perf_counter()
            services.issue_letter("order_to_correct", ctx, issuer=issuer(town), issued_on=ISSUED_ON)
            times.append(time.perf_counter() - t)
        db.session.rollback()
    times.sort()
    return {"cold_s": round(cold, 3), "warm_median_s": round(times[len(times) // 2], 3), "warm_max_s": round(times[-1], 3), "first_doc": first.doc_number}


PHASES = {"setup": phase_setup, "baseline": phase_baseline, "print_run": phase_print_run, "single": phase_single}


def run_phase(name: str, args, **extra) -> dict:
    """Run one phase in a fresh interpreter and return its JSON result."""
    cmd = [sys.executable, __file__, "--phase", name, "--letters", str(args.letters),
           "--instance", str(args.instance), "--html", str(args.html)]
    for key, value in extra.items():
        cmd += [f"--{key}", str(value)]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr)
        raise SystemExit(f"phase {name} failed")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def check_output(pdf_path: Path, doc_numbers: list[str]) -> dict:
    """Check a print run: pages, every document number, 王堃 printed from a real glyph."""
    import re

    from pypdf import PdfReader

    reader = PdfReader(str(pdf_path))
    texts = [re.sub(r"\s+", "", page.extract_text() or "") for page in reader.pages]
    joined = "".join(texts)
    missing_numbers = [n for n in doc_numbers if n not in joined]
    rare_pages = [i for i, t in enumerate(texts) if RARE_NAME in t]
    fonts = set()
    for i in rare_pages:
        for font in (reader.pages[i].get("/Resources", {}).get("/Font", {}) or {}).values():
            fonts.add(str(font.get_object().get("/BaseFont")))
    return {
        "pages": len(reader.pages),
        "letters_starting_a_page": sum(1 for t in texts if "责令限期改正通知书" in t[:30] and "送达回证" not in t),
        "service_slips": sum(1 for t in texts if "送达回证" in t[:30]),
        "doc_numbers_missing": len(missing_numbers),
        "rare_name_pages": rare_pages,
        "rare_name_fonts": sorted(fonts),
        "rare_name_from_system_font": any("Noto" in f for f in fonts),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--letters", type=int, default=1000)
    parser.add_argument("--keep", help="keep the instance, HTML and PDFs in this folder")
    parser.add_argument("--phase", choices=sorted(PHASES), help=argparse.SUPPRESS)
    parser.add_argument("--instance", help=argparse.SUPPRESS)
    parser.add_argument("--html", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    parser.add_argument("--workers", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.phase:
        print(json.dumps(PHASES[args.phase](args), ensure_ascii=False))
        return

    work = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="edu_guard-bench-letters-"))
    work.mkdir(parents=True, exist_ok=True)
    args.instance = work / "instance"
    args.instance.mkdir(exist_ok=True)
    args.html = work / "run.html"
    print(f"printing {args.letters} 责令限期改正通知书; work in {work}")

    setup = run_phase("setup", args)
    print(f"  fonts' coverage read in {setup['fonts_s']} s (system fonts, nothing built)")
    print(f"  numbered and stored {args.letters} letters in {setup['number_store_s']} s")
    base = run_phase("baseline", args, out=work / "baseline.pdf")
    one = run_phase("print_run", args, out=work / "print_run_1.pdf", workers=1)
    par = run_phase("print_run", args, out=work / "print_run.pdf")
    single = run_phase("single", args)
    check = check_output(work / "print_run.pdf", setup["doc_numbers"])

    ratio_one = one["seconds"] / base["seconds"]
    ratio_par = par["seconds"] / base["seconds"]
    cpus = os.cpu_count()
    load = os.getloadavg()[0]
    print()
    from weasyprint.text.ffi import harfbuzz_subset

    hb = "HarfBuzz-Subset" if harfbuzz_subset else "fontTools (no libharfbuzz-subset0)"
    print(f"machine: {cpus} CPUs, load average {load:.2f} at the end; WeasyPrint subsets fonts with {hb}")
    print(f"{'':34s}{'seconds':>9s}{'ratio':>8s}{'CPU s':>8s}{'peak MB':>9s}{'workers MB':>12s}")
    print(f"{'(a) bare WeasyPrint, one document':34s}{base['seconds']:9.2f}{1:8.2f}{base['cpu_s']:8.1f}{base['peak_mb']:9.0f}{'':>12s}")
    print(f"{'(b) print_run, 1 process':34s}{one['seconds']:9.2f}{ratio_one:8.2f}{one['cpu_s']:8.1f}{one['peak_mb']:9.0f}{'':>12s}")
    print(f"{'(c) print_run, ' + str(par['workers']) + ' workers':34s}{par['seconds']:9.2f}{ratio_par:8.2f}{par['cpu_s']:8.1f}{par['peak_mb']:9.0f}{par['workers_peak_mb']:12.0f}")
    print(f"(d) one letter, issue_letter: warm median {single['warm_median_s']} s, max {single['warm_max_s']} s (cold, first in a process: {single['cold_s']} s)")
    print(f"output: {check['pages']} pages, {check['letters_starting_a_page']} letters each starting a page, "
          f"{check['service_slips']} 送达回证, "
          f"{check['doc_numbers_missing']} document numbers missing; {RARE_NAME} on page(s) {check['rare_name_pages']} "
          f"in fonts {check['rare_name_fonts']}")
    verdict = {
        "single < 1 s": single["warm_max_s"] < 1,
        "print run ≤ 1.1× baseline": min(ratio_one, ratio_par) <= 1.1,
        "print run < 60 s": par["seconds"] < 60,
        "rare name prints from system font": check["rare_name_from_system_font"],
    }
    for name, ok in verdict.items():
        print(f"  {'PASS' if ok else 'MISS'}  {name}")
    result = {"letters": args.letters, "cpus": cpus, "load": load, "setup": {k: v for k, v in setup.items() if k != "doc_numbers"},
              "baseline": base, "print_run_1": one, "print_run": par, "single": single, "check": check,
              "font_subsetter": hb,
              "ratio_1": round(ratio_one, 3), "ratio": round(ratio_par, 3)}
    out_dir = ROOT / "bench" / "out"
    out_dir.mkdir(exist_ok=True)
    (out_dir / "print_letters.json").write_text(json.dumps(result, ensure_ascii=False, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
