"""Benchmark: the letters' fonts — system fonts through fontconfig against GB2312 subsets,
in one run (issue 12 item 9: less code where a library now does the job).

The same letters (责令限期改正通知书 contexts of ``bench/print_letters.py``, 3 pages
each, one child named 王堃 outside GB2312) are rendered to PDF by bare WeasyPrint in
chunks of 50 letters, as ``print_run`` does, three ways:

- **subsets** (the baseline, what the letters did before): GB2312 TrueType subsets of
  Noto Serif CJK SC Regular (body, page numbers) and Bold (titles), cut by the recipe of the former
  ``edu_guard/letters/fonts.py`` (kept here, in :func:`build_subset`, only to measure
  against; built once into ``--font-dir``) and named by ``@font-face`` rules;
- **system Noto**: no ``@font-face``: the system Noto Serif CJK collections (26 MB
  ``.ttc``) through fontconfig, subset by HarfBuzz at PDF time — the same faces as the
  subsets, so this isolates the cost of subsetting at print time;
- **system 仿宋** (what the letters do now): the stylesheet as shipped
  (``templates/letters/gbt9704.css``), whose stacks resolve on this machine to FandolFang
  (body), Noto Serif CJK SC Bold (titles, the 小标宋 substitute) and Noto Serif CJK SC
  (宋体 page numbers, and 堃, which FandolFang lacks).

Each way runs in a fresh subprocess (fontconfig and WeasyPrint start cold, as a print
worker does), the ways alternate ``--repeat`` times and the best is kept. Printed:
seconds for one letter (the first in the process, and the median of five warm ones),
for the whole run (wall and CPU seconds of the process: on a shared machine the CPU
seconds are the steadier figure), the ratios to the subsets, and the fonts embedded in the PDF (pypdf).
The rule (issue 12 item 9): system fonts within 1.3× of the subsets → no subset builder.

Usage: ``python bench/letter_fonts.py [--letters 100] [--repeat 2] [--font-dir DIR]``.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT))

CHUNK = 50
WAYS = ("subsets", "system-noto", "system-fang")
NOTO_SERIF = "/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc"
NOTO_SERIF_BOLD = "/usr/share/fonts/opentype/noto/NotoSerifCJK-Bold.ttc"

#: Each way's families for the stylesheet's serif (仿宋, 宋体, 楷体) and title (小标宋) stacks.
FAMILIES = {
    "subsets": ('"EduGuard Serif SC", "Noto Serif CJK SC", serif', '"EduGuard Title SC", "Noto Serif CJK SC", serif'),
    "system-noto": ('"Noto Serif CJK SC", serif', '"Noto Serif CJK SC", serif'),
}


# --- the former subset recipe, kept to measure against ---------------------------------


def gb2312_characters() -> list[int]:
    """GB 2312's characters plus ASCII, Latin-1 and the punctuation blocks letters use."""
    chars = set()
    for hi in range(0xA1, 0xF8):
        for lo in range(0xA1, 0xFF):
            try:
                chars.add(ord(bytes((hi, lo)).decode("gb2312")))
            except UnicodeDecodeError:
                continue
    for lo, hi in ((0x20, 0x7E), (0xA0, 0xFF), (0x2000, 0x206F), (0x2100, 0x218F), (0x2460, 0x24FF),
                   (0x25A0, 0x25FF), (0x3000, 0x303F), (0xFF00, 0xFFEF)):
        chars.update(range(lo, hi + 1))
    return sorted(chars)


def build_subset(path: str, family: str, out: Path) -> None:
    """Cut the SC face of the collection ``path`` to GB2312, CFF → TrueType, renamed ``family``."""
    from fontTools import subset
    from fontTools.pens.cu2quPen import Cu2QuPen
    from fontTools.pens.ttGlyphPen import TTGlyphPen
    from fontTools.ttLib import TTCollection, TTFont, newTable

    index = next(i for i, f in enumerate(TTCollection(path, lazy=True).fonts)
                 if f["name"].getDebugName(1) == "Noto Serif CJK SC")
    font = TTFont(path, fontNumber=index, lazy=True)
    options = subset.Options()
    options.layout_features = []
    options.hinting = False
    options.desubroutinize = True
    options.notdef_outline = True
    options.ignore_missing_glyphs = True
    options.name_IDs = [0, 1, 2, 3, 4, 5, 6, 13, 14]
    options.drop_tables += ["vhea", "vmtx", "VORG", "BASE", "GSUB", "GPOS", "DSIG"]
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=gb2312_characters())
    subsetter.subset(font)
    order = font.getGlyphOrder()
    glyph_set = font.getGlyphSet()
    glyf = newTable("glyf")
    glyf.glyphOrder, glyf.glyphs = order, {}
    for name in order:
        pen = TTGlyphPen(glyph_set)
        glyph_set[name].draw(Cu2QuPen(pen, 1.0, reverse_direction=True))
        glyf[name] = pen.glyph()
    font["loca"], font["glyf"] = newTable("loca"), glyf
    maxp = newTable("maxp")
    maxp.tableVersion = 0x00010000
    for attr in ("maxZones", "maxTwilightPoints", "maxStorage", "maxFunctionDefs", "maxInstructionDefs",
                 "maxStackElements", "maxSizeOfInstructions", "maxComponentElements"):
        setattr(maxp, attr, 0)
    maxp.maxZones = 1
    font["maxp"] = maxp
    post = font["post"]
    post.formatType, post.extraNames, post.mapping, post.glyphOrder = 2.0, [], {}, order
    del font["CFF "]
    font.sfntVersion = "\x00\x01\x00\x00"
    font["cmap"].tables = [t for t in font["cmap"].tables if (t.platformID, t.platEncID) == (3, 1)]
    names = font["name"]
    for name_id, value in ((1, family), (2, "Regular"), (3, family), (4, family), (6, family.replace(" ", "-"))):
        names.setName(value, name_id, 3, 1, 0x409)
        names.setName(value, name_id, 1, 0, 0)
    names.names = [n for n in names.names
                   if n.nameID not in (16, 17) and not (n.nameID in (1, 2, 3, 4, 6) and n.langID not in (0x409, 0))]
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".tmp")
    font.save(tmp)
    os.replace(tmp, out)


def subset_files(font_dir: Path) -> dict[str, Path]:
    """The two subsets (built once into ``font_dir``): family → file."""
    files = {"EduGuard Serif SC": (NOTO_SERIF, font_dir / "bench-serif.ttf"),
             "EduGuard Title SC": (NOTO_SERIF_BOLD, font_dir / "bench-title.ttf")}
    for family, (source, out) in files.items():
        if not out.exists():
            t = time.perf_counter()
            build_subset(source, family, out)
            print(f"built the {family} subset in {time.perf_counter() - t:.0f} s", flush=True)
    return {family: out for family, (_, out) in files.items()}


# --- the run ---------------------------------------------------------------------------


def build(args) -> None:
    """Number the letters and write the chunks' HTML and a copy of the stylesheet to ``args.work``."""
    from print_letters import ISSUED_ON, _config, issuer, make_contexts

    from edu_guard.app import create_app
    from edu_guard.db import db
    from edu_guard.letters import render, services

    work = Path(args.work)
    (work / "instance").mkdir(parents=True, exist_ok=True)
    for way in WAYS:
        shutil.copytree(render.LETTER_TEMPLATE_DIR, work / way, dirs_exist_ok=True)
        (work / way / "gbt9704.css").write_text(stylesheet(way, Path(args.font_dir)), encoding="utf-8")
    app = create_app(_config(work / "instance"))
    with app.app_context():
        db.create_all()
        items = []
        for town, ctx in make_contexts(args.letters):
            letter = services.issue_letter("order_to_correct", ctx, issuer=issuer(town),
                                           issued_on=ISSUED_ON, render=False)
            items.append(render.PrintItem(letter.kind, letter.context, letter.doc_number))
        db.session.commit()
        for i in range(0, len(items), CHUNK):
            (work / f"chunk{i // CHUNK:03d}.html").write_text(render.render_html(items[i:i + CHUNK]), encoding="utf-8")
        (work / "one.html").write_text(render.render_html(items[:1]), encoding="utf-8")


def stylesheet(way: str, font_dir: Path) -> str:
    """The letters' stylesheet for ``way``: as shipped, or with its serif and title
    font stacks replaced (and, for the subsets, their ``@font-face`` rules first)."""
    css = (render_dir() / "gbt9704.css").read_text(encoding="utf-8")
    if way == "system-fang":
        return css
    serif, title = FAMILIES[way]

    def replace(match: re.Match) -> str:
        stack = match.group(1)
        if "小标宋" in stack:
            return f"font-family: {title};"
        if any(face in stack for face in ("仿宋", "宋体", "楷体")):
            return f"font-family: {serif};"
        return match.group(0)

    css = re.sub(r"font-family:([^;]*);", replace, css)
    if way == "subsets":
        faces = "\n".join(f'@font-face {{ font-family: "{family}"; src: url("{path.as_uri()}"); }}'
                          for family, path in subset_files(font_dir).items())
        css = faces + "\n" + css
    return css


def render_dir() -> Path:
    from edu_guard.paths import TEMPLATE_DIR

    return TEMPLATE_DIR / "letters"


def embedded_fonts(pdf: bytes) -> list[str]:
    """The base names of the fonts a PDF embeds (subset prefix dropped)."""
    import io

    from pypdf import PdfReader

    names = set()
    for page in PdfReader(io.BytesIO(pdf)).pages:
        for font in (page.get("/Resources", {}).get("/Font", {}) or {}).values():
            names.add(str(font.get_object().get("/BaseFont")).lstrip("/").split("+")[-1])
    return sorted(names)


def measure(args) -> dict:
    """One way in this (fresh) process: one letter cold, five warm, then the run."""
    from weasyprint import HTML

    work = Path(args.work)
    base = (work / args.way).as_uri() + "/"
    one = (work / "one.html").read_text(encoding="utf-8")
    t = time.perf_counter()
    HTML(string=one, base_url=base).write_pdf()
    first = time.perf_counter() - t
    warm = []
    for _ in range(5):
        t = time.perf_counter()
        HTML(string=one, base_url=base).write_pdf()
        warm.append(time.perf_counter() - t)
    chunks = [p.read_text(encoding="utf-8") for p in sorted(work.glob("chunk*.html"))]
    t, c = time.perf_counter(), time.process_time()
    pdfs = [HTML(string=chunk, base_url=base).write_pdf() for chunk in chunks]
    run, cpu = time.perf_counter() - t, time.process_time() - c
    return {"first_s": round(first, 3), "warm_median_s": round(statistics.median(warm), 3), "run_s": round(run, 2),
            "cpu_s": round(cpu, 2),
            "bytes": sum(len(p) for p in pdfs), "fonts": embedded_fonts(pdfs[0])}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--letters", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--font-dir", default=os.environ.get("EDU_GUARD_BENCH_FONT_DIR")
                        or str(Path(tempfile.gettempdir()) / "edu_guard-bench-subsets"))
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
    t = time.perf_counter()
    subset_files(Path(args.font_dir))
    print(f"subsets ready in {time.perf_counter() - t:.0f} s (what a newcomer's first print waited for)", flush=True)
    subprocess.run([*common, "--phase", "build"], check=True)
    best: dict[str, dict] = {}
    runs: dict[str, list[float]] = {way: [] for way in WAYS}
    cpus: dict[str, list[float]] = {way: [] for way in WAYS}
    for _ in range(args.repeat):
        for way in WAYS:
            got = json.loads(subprocess.run([*common, "--phase", "measure", "--way", way], check=True,
                                            capture_output=True, text=True).stdout)
            print(way, got, flush=True)
            runs[way].append(got["run_s"])
            cpus[way].append(got["cpu_s"])
            old = best.get(way)
            best[way] = got if old is None else {**got, **{k: min(old[k], got[k]) for k in ("first_s", "warm_median_s", "run_s", "cpu_s")}}
    print(f"\n{args.letters} letters ({3 * args.letters} pages), chunks of {CHUNK}, best of {args.repeat}, "
          f"load average {os.getloadavg()[0]:.1f} at the end:")
    for way in WAYS:
        b = best[way]
        print(f"{way:12} one letter {b['first_s']:.2f} s cold, {b['warm_median_s']:.2f} s warm; "
              f"runs {' / '.join(f'{r:.1f}' for r in runs[way])} s, best {b['run_s']:.1f} s "
              f"({b['run_s'] / best['subsets']['run_s']:.2f}× subsets); CPU {' / '.join(f'{r:.1f}' for r in cpus[way])} s, "
              f"best {b['cpu_s']:.1f} s ({b['cpu_s'] / best['subsets']['cpu_s']:.2f}×); {b['bytes'] / 1e6:.1f} MB; "
              f"fonts: {', '.join(b['fonts'])}")
    ratio = best["system-fang"]["run_s"] / best["subsets"]["run_s"]
    cpu_ratio = best["system-fang"]["cpu_s"] / best["subsets"]["cpu_s"]
    print(f"rule: system fonts within 1.3× of the subsets → {'drop the subset builder' if max(ratio, cpu_ratio) <= 1.3 else 'keep subsets (shared cache)'} "
          f"(wall {ratio:.2f}×, CPU {cpu_ratio:.2f}×)")


if __name__ == "__main__":
    main()
