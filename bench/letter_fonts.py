"""Benchmark: the letters' fonts, three ways in one run (issue: less code where a library
now does the job).

The same letters (责令限期改正通知书 contexts of ``bench/print_letters.py``, 3 pages
each, one child named 王堃 outside GB2312) are rendered to PDF by WeasyPrint in
chunks of 50 letters, as ``print_run`` does, in three ways:

- **subsets**: the GB2312 TrueType subsets of Noto CJK built by
  ``edu_guard/letters/fonts.py`` (the ``@font-face`` rules of the cache);
- **system Noto**: no ``@font-face``: the system Noto Serif/Sans CJK collections
  (26 MB ``.ttc``), subset by HarfBuzz at PDF time;
- **system 仿宋**: no ``@font-face``: the body in FandolFang (a free 仿宋 OTF, installed by
  ``tools/system-packages.sh``), titles in FandolSong Bold (the 小标宋 substitute).

Each way runs in a fresh subprocess (fontconfig and WeasyPrint's caches start cold, as in
a worker), the ways alternate ``--repeat`` times and the best is kept. Printed: seconds
for one letter (the first, and the median of five warm ones) and for the whole run,
the ratio to the subsets, and the fonts embedded in the PDF.

Usage: ``python bench/letter_fonts.py [--letters 100] [--repeat 2]``.
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
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

CHUNK = 50
WAYS = ("subsets", "system-noto", "system-fang")

#: What "system 仿宋" adds after the letters' stylesheet.
FANG_CSS = """
html { font-family: "FandolFang", "Noto Serif CJK SC", serif; }
.title, .issuer-mark { font-family: "FandolSong", "Noto Serif CJK SC", serif; font-weight: bold; }
"""


def build(args) -> None:
    """Write the chunks' HTML (with the subsets' @font-face rules) to ``args.work``."""
    from print_letters import ISSUED_ON, _config, make_contexts

    from edu_guard import create_app
    from edu_guard.db import db
    from edu_guard.letters import render, services

    work = Path(args.work)
    (work / "instance").mkdir(parents=True, exist_ok=True)
    app = create_app(_config(work / "instance", Path(args.font_dir)))
    with app.app_context():
        db.create_all()
        render.letter_fonts()
        items = []
        for town, ctx in make_contexts(args.letters):
            letter = services.issue_letter("order_to_correct", ctx, issuer=services.township_issuer(town),
                                           issued_on=ISSUED_ON, render=False)
            items.append(render.PrintItem(letter.kind, letter.context, letter.doc_number))
        db.session.commit()
        for i in range(0, len(items), CHUNK):
            (work / f"chunk{i // CHUNK:03d}.html").write_text(render.render_html(items[i:i + CHUNK]), encoding="utf-8")
        (work / "one.html").write_text(render.render_html(items[:1]), encoding="utf-8")


def variant(html: str, way: str) -> str:
    """The HTML of ``way``: the subsets' @font-face rules kept or dropped."""
    if way == "subsets":
        return html
    html = re.sub(r"@font-face \{[^}]*\}\n?", "", html)
    if way == "system-fang":
        html = html.replace("</head>", f"<style>{FANG_CSS}</style>\n</head>", 1)
    return html


def measure(args) -> dict:
    """One way in this (fresh) process: one letter cold, five warm, then the run."""
    from weasyprint import HTML

    from edu_guard.letters.render import LETTER_TEMPLATE_DIR

    base = LETTER_TEMPLATE_DIR.as_uri() + "/"
    work = Path(args.work)
    one = variant((work / "one.html").read_text(encoding="utf-8"), args.way)
    t = time.perf_counter()
    HTML(string=one, base_url=base).write_pdf()
    first = time.perf_counter() - t
    warm = []
    for _ in range(5):
        t = time.perf_counter()
        HTML(string=one, base_url=base).write_pdf()
        warm.append(time.perf_counter() - t)
    t = time.perf_counter()
    pdf_path = work / f"{args.way}.pdf"
    for i, chunk in enumerate(sorted(work.glob("chunk*.html"))):
        pdf = HTML(string=variant(chunk.read_text(encoding="utf-8"), args.way), base_url=base).write_pdf()
        if i == 0:
            pdf_path.write_bytes(pdf)
    run = time.perf_counter() - t
    out = subprocess.run(["pdffonts", str(pdf_path)], capture_output=True, text=True).stdout.splitlines()[2:]
    fonts = sorted({line.split()[0].split("+")[-1] for line in out if line.strip()})
    return {"first_s": round(first, 3), "warm_median_s": round(statistics.median(warm), 3), "run_s": round(run, 2),
            "fonts": fonts}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--letters", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--font-dir", default=os.environ.get("EDU_GUARD_BENCH_FONT_DIR")
                        or str(Path(tempfile.gettempdir()) / "edu_guard-test-fonts"))
    parser.add_argument("--work", default=None)
    parser.add_argument("--phase", choices=("build", "measure"), help=argparse.SUPPRESS)
    parser.add_argument("--way", choices=WAYS, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.phase == "build":
        build(args)
        return
    if args.phase == "measure":
        print(json.dumps(measure(args)))
        return
    work = Path(args.work or tempfile.mkdtemp(prefix="bench-letter-fonts-"))
    common = [sys.executable, __file__, "--work", str(work), "--font-dir", args.font_dir, "--letters", str(args.letters)]
    subprocess.run([*common, "--phase", "build"], check=True)
    best: dict[str, dict] = {}
    for _ in range(args.repeat):
        for way in WAYS:
            got = json.loads(subprocess.run([*common, "--phase", "measure", "--way", way], check=True,
                                            capture_output=True, text=True).stdout)
            print(way, got, flush=True)
            old = best.get(way)
            best[way] = got if old is None else {**got, **{k: min(old[k], got[k]) for k in ("first_s", "warm_median_s", "run_s")}}
    pages = 3 * args.letters
    print(f"\n{args.letters} letters ({pages} pages), chunks of {CHUNK}, best of {args.repeat}:")
    for way in WAYS:
        b = best[way]
        print(f"{way:12} one letter {b['first_s']:.2f} s cold, {b['warm_median_s']:.2f} s warm; run {b['run_s']:.1f} s "
              f"({b['run_s'] / best['subsets']['run_s']:.2f}× subsets); fonts: {', '.join(b['fonts'])}")


if __name__ == "__main__":
    main()
