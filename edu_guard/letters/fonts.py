"""Fonts for printed letters: cached GB2312 subsets of Noto CJK, and coverage checks.

Why subsets: WeasyPrint embeds a *subset* of every font a PDF uses, and subsetting the
system's Noto CJK collection (a 26 MB ``.ttc`` with 65,535 CFF glyphs per face) costs
seconds per ``write_pdf`` call. So once per machine we cut the Simplified Chinese face
down to GB2312 + ASCII + CJK punctuation (about 7,800 glyphs) and convert its CFF
outlines to TrueType ones, which fontTools subsets about five times faster. The result
is cached under ``<instance>/fonts/`` (or ``EDU_GUARD_LETTER_FONT_DIR``) and referenced
by ``@font-face`` rules that the letters' URL fetcher serves.

A character outside a subset (a rare name character such as 堃 or 𠮷) still prints
right: the CSS font stacks continue with the full system font (``"Noto Serif CJK SC"``)
and Pango falls back per character. A character that *no* installed font has is
reported by :meth:`LetterFonts.check` before anything is printed, naming the person.

The Noto CJK fonts are under the SIL Open Font License 1.1; the subsets keep the
copyright and licence names and are renamed (``EduGuard …``) as the OFL asks of
modified versions.
"""

from __future__ import annotations

import bisect
import hashlib
import os
import shutil
import subprocess
import tempfile
import unicodedata
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from edu_guard.letters.schemas import LetterError

#: Bump when the subset recipe changes, so cached fonts are rebuilt.
BUILD_VERSION = "2"

#: Debian's ``fonts-noto-cjk`` paths, used when ``fc-list`` is not available.
KNOWN_FONT_FILES = {
    "serif": "/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc",
    "title": "/usr/share/fonts/opentype/noto/NotoSerifCJK-Bold.ttc",
    "sans": "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
}

#: What each role sets, for messages.
ROLE_LABELS = {"serif": "正文", "title": "标题", "sans": "黑体小标题"}

INSTALL_HINT = "请安装中文字体 fonts-noto-cjk（apt-get install fonts-noto-cjk）"


class FontsMissing(LetterError):
    """No Chinese (CJK) font is installed, so no letter can be printed."""


class MissingCharacters(LetterError):
    """Some user text has characters that no installed font can print.

    :ivar problems: ``[(who, field, char), …]``: the person (or letter) the text
        belongs to, the context path of the text, and the character.
    """

    def __init__(self, problems: list[tuple[str, str, str]]):
        self.problems = problems
        lines = [
            f"{who}：“{char}”（U+{ord(char):04X}，{path}）在本机已安装的字体中都没有，无法打印"
            for who, path, char in problems
        ]
        super().__init__(
            "以下文字含有无法打印的字符，请核对（如为生僻字，可安装含该字的字体后重试）：\n" + "\n".join(lines)
        )


@dataclass(frozen=True)
class FaceSpec:
    """A font face the letters use: its CSS family and the system face it is cut from.

    :ivar role: ``serif`` (仿宋 body text), ``title`` (小标宋 titles) or ``sans`` (黑体).
    :ivar css_family: the ``@font-face`` family name of the subset.
    :ivar system_families: family names of the system face to cut it from, best first.
    :ivar style: the fontconfig style of that face.
    """

    role: str
    css_family: str
    system_families: tuple[str, ...]
    style: str


#: The three faces: Noto Serif CJK SC Regular for 仿宋 body text, Noto Serif CJK SC
#: Bold for 小标宋 titles and the red issuer's name (GB/T 9704 7.2.1), Noto Sans CJK SC
#: Regular for 黑体 headings (GB/T 9704 7.3.3 "一、").
FACES = (
    FaceSpec("serif", "EduGuard Serif SC", ("Noto Serif CJK SC", "Noto Serif SC", "Source Han Serif SC"), "Regular"),
    FaceSpec("title", "EduGuard Title SC", ("Noto Serif CJK SC", "Noto Serif SC", "Source Han Serif SC"), "Bold"),
    FaceSpec("sans", "EduGuard Sans SC", ("Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC"), "Regular"),
)


@dataclass(frozen=True)
class SystemFace:
    """A face of an installed font file (``index`` is the face in a collection)."""

    path: str
    index: int
    family: str
    style: str


@dataclass
class LetterFonts:
    """The subset fonts of one font cache, and what the installed fonts can print.

    Built by :func:`ensure_fonts`; one per app in ``app.extensions`` (see
    :func:`edu_guard.letters.render.letter_fonts`).

    :ivar files: role → path of the cached subset (``.ttf``).
    :ivar coverage: code points every subset covers (no fallback needed).
    :ivar system_faces: the installed faces the subsets were cut from (fallbacks).
    """

    cache_dir: Path
    files: dict[str, Path]
    coverage: frozenset[int]
    system_faces: list[SystemFace]
    _installed: tuple[list[int], list[int]] | None = field(default=None, repr=False)

    def font_face_css(self) -> str:
        """Return the ``@font-face`` rules of the subsets (``file:`` URLs).

        The URLs point into :attr:`cache_dir`, which the letters' URL fetcher serves.
        """
        rules = []
        for spec in FACES:
            url = self.files[spec.role].resolve().as_uri()
            rules.append(
                f'@font-face {{ font-family: "{spec.css_family}"; src: url("{url}") format("truetype"); '
                "font-weight: normal; font-style: normal; }"
            )
        return "\n".join(rules)

    def can_print(self, char: str) -> bool:
        """Return whether some installed font (a subset or a system font) has ``char``.

        The subsets' cmap answers for GB2312; anything else is looked up in the
        coverage of every font fontconfig knows (what Pango falls back to), read once.
        Layout characters (spaces, line breaks) always pass.
        """
        cp = ord(char)
        if cp in self.coverage or char in "\n\r\t" or unicodedata.category(char) in ("Zs", "Zl", "Zp"):
            return True
        if self._installed is None:
            self._installed = installed_coverage(self.system_faces)
        starts, ends = self._installed
        i = bisect.bisect_right(starts, cp) - 1
        return i >= 0 and cp <= ends[i]

    def missing_characters(self, text: str) -> list[str]:
        """Return the distinct characters of ``text`` no installed font has, in order."""
        seen: dict[str, None] = {}
        for char in text:
            if char not in seen and not self.can_print(char):
                seen[char] = None
        return list(seen)

    def check(self, context: Mapping, label: str) -> list[tuple[str, str, str]]:
        """Return ``(who, path, char)`` for every unprintable character of ``context``.

        Walks every string of the (dumped) context. ``who`` is the ``name`` of the
        nearest enclosing object that has one (the child, the guardian …), else
        ``label`` (the letter).

        :param context: the plain letter context (dicts, lists, strings, numbers).
        :param label: how to name the letter in a message (its title or number).
        """
        problems = []
        for path, who, text in _walk_strings(context, "", label):
            for char in self.missing_characters(text):
                problems.append((who, path, char))
        return problems


def _walk_strings(value, path: str, who: str) -> Iterator[tuple[str, str, str]]:
    if isinstance(value, str):
        yield path, who, value
    elif isinstance(value, Mapping):
        name = value.get("name")
        if isinstance(name, str) and name:
            who = f"{name}（{who}）" if path else who
        for key, item in value.items():
            yield from _walk_strings(item, f"{path}.{key}" if path else str(key), who)
    elif isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            yield from _walk_strings(item, f"{path}[{i}]", who)


def gb2312_characters() -> set[int]:
    """Return the code points of GB 2312 plus ASCII, Latin-1 and CJK punctuation.

    GB 2312-1980 holds the 6,763 汉字 of official documents and 682 symbols; ASCII
    and the punctuation blocks cover numbers, 〔〕 of document numbers and the ``—``
    of page numbers (GB/T 9704 7.5).
    """
    chars = set()
    for hi in range(0xA1, 0xF8):
        for lo in range(0xA1, 0xFF):
            try:
                chars.add(ord(bytes((hi, lo)).decode("gb2312")))
            except UnicodeDecodeError:
                continue
    ranges = (
        (0x20, 0x7E),  # ASCII
        (0xA0, 0xFF),  # Latin-1 (×, ·, °)
        (0x2000, 0x206F),  # General punctuation (— “” ‘’ …)
        (0x2100, 0x218F),  # Letterlike, number forms (℃, Ⅰ)
        (0x2460, 0x24FF),  # Enclosed alphanumerics (①)
        (0x25A0, 0x25FF),  # Geometric shapes (□ ■ ○)
        (0x2610, 0x2612),  # Ballot boxes (☐ ☑ ☒)
        (0x3000, 0x303F),  # CJK symbols and punctuation (、。〔〕《》)
        (0xFF00, 0xFFEF),  # Full-width forms
    )
    for lo, hi in ranges:
        chars.update(range(lo, hi + 1))
    return chars


def _fc_list(*args: str) -> list[str] | None:
    """Run ``fc-list`` and return its lines, or ``None`` if fontconfig is absent."""
    exe = shutil.which("fc-list")
    if exe is None:
        return None
    try:
        out = subprocess.run([exe, *args], capture_output=True, text=True, timeout=60, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    return [line for line in out.stdout.splitlines() if line.strip()]


def cjk_font_installed() -> bool:
    """Return whether fontconfig knows any Chinese font (``fc-list :lang=zh``).

    Without ``fc-list`` the known Debian paths are checked instead.
    """
    lines = _fc_list(":lang=zh", "family")
    if lines is None:
        return any(Path(p).exists() for p in KNOWN_FONT_FILES.values())
    return bool(lines)


def find_system_face(spec: FaceSpec) -> SystemFace | None:
    """Find the installed face to cut ``spec`` from: the SC face, picked by name.

    Asks fontconfig (``fc-list``) for each of ``spec.system_families``; without it,
    opens the known Debian collection and picks the face whose family name matches.

    :return: the face, or ``None`` if none is installed.
    """
    for family in spec.system_families:
        lines = _fc_list(f"{family}:style={spec.style}", "--format", "%{file}\t%{index}\t%{family[0]}\t%{style[0]}\n")
        if lines is None:
            break
        for line in sorted(lines):
            parts = line.split("\t")
            if len(parts) == 4 and Path(parts[0]).exists():
                return SystemFace(parts[0], int(parts[1] or 0), parts[2], parts[3])
    known = KNOWN_FONT_FILES.get(spec.role)
    if known and Path(known).exists():
        from fontTools.ttLib import TTCollection

        collection = TTCollection(known, lazy=True)
        for index, font in enumerate(collection.fonts):
            if font["name"].getDebugName(1) in spec.system_families:
                return SystemFace(known, index, font["name"].getDebugName(1), spec.style)
    return None


def _merge(ranges: list[tuple[int, int]]) -> tuple[list[int], list[int]]:
    starts: list[int] = []
    ends: list[int] = []
    for lo, hi in sorted(ranges):
        if ends and lo <= ends[-1] + 1:
            ends[-1] = max(ends[-1], hi)
        else:
            starts.append(lo)
            ends.append(hi)
    return starts, ends


def installed_coverage(fallback_faces: Iterable[SystemFace] = ()) -> tuple[list[int], list[int]]:
    """Return the code points some installed font has, as sorted disjoint ranges.

    One ``fc-list --format %{charset}`` call lists every font's character set (about
    30 ms); without fontconfig's tools the cmaps of ``fallback_faces`` are read.

    :return: ``(starts, ends)``, inclusive ranges for :func:`bisect.bisect_right`.
    """
    lines = _fc_list("--format", "%{charset}\n")
    ranges: list[tuple[int, int]] = []
    if lines is not None:
        for line in lines:
            for part in line.split():
                lo, _, hi = part.partition("-")
                try:
                    ranges.append((int(lo, 16), int(hi or lo, 16)))
                except ValueError:
                    continue
    else:
        from fontTools.ttLib import TTFont

        for face in fallback_faces:
            font = TTFont(face.path, fontNumber=face.index, lazy=True)
            ranges.extend((cp, cp) for cp in (font.getBestCmap() or {}))
            font.close()
    return _merge(ranges)


def _cache_key(face: SystemFace) -> str:
    stat = os.stat(face.path)
    raw = f"{BUILD_VERSION}|{face.path}|{face.index}|{stat.st_size}|{stat.st_mtime_ns}"
    return hashlib.sha256(raw.encode()).hexdigest()[:12]


def build_subset(face: SystemFace, css_family: str, out: Path, chars: Iterable[int] | None = None) -> Path:
    """Cut ``face`` down to ``chars`` (GB2312 by default) as a TrueType font at ``out``.

    Layout features, hinting and vertical metrics are dropped (the letters are set
    horizontally in a fixed-width script); CFF outlines are converted to quadratic
    ones (``cu2qu``, error ≤ 1 unit of 1,000), the family renamed to ``css_family``;
    glyph names and a single cmap subtable are kept. Each of these makes WeasyPrint's
    own per-PDF subsetting of the font cheaper (about 0.1 s instead of 1 s).
    The file is written atomically, so concurrent builders never see half a font.

    :param face: the installed face (a Noto CJK SC face).
    :param css_family: the family name to give the subset.
    :param out: where to write it.
    :param chars: the code points to keep.
    :return: ``out``.
    """
    from fontTools import subset
    from fontTools.pens.cu2quPen import Cu2QuPen
    from fontTools.pens.ttGlyphPen import TTGlyphPen
    from fontTools.ttLib import TTFont, newTable

    font = TTFont(face.path, fontNumber=face.index, lazy=True)
    options = subset.Options()
    options.layout_features = []
    options.hinting = False
    options.desubroutinize = True
    options.notdef_outline = True
    options.ignore_missing_glyphs = True
    options.name_IDs = [0, 1, 2, 3, 4, 5, 6, 13, 14]
    options.drop_tables += ["vhea", "vmtx", "VORG", "BASE", "GSUB", "GPOS", "DSIG"]
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=sorted(chars if chars is not None else gb2312_characters()))
    subsetter.subset(font)

    if "CFF " in font:
        glyph_order = font.getGlyphOrder()
        glyph_set = font.getGlyphSet()
        glyf = newTable("glyf")
        glyf.glyphOrder = glyph_order
        glyf.glyphs = {}
        for name in glyph_order:
            pen = TTGlyphPen(glyph_set)
            glyph_set[name].draw(Cu2QuPen(pen, 1.0, reverse_direction=True))
            glyf[name] = pen.glyph()
        font["loca"] = newTable("loca")
        font["glyf"] = glyf
        maxp = newTable("maxp")
        maxp.tableVersion = 0x00010000
        for attr in (
            "maxZones", "maxTwilightPoints", "maxStorage", "maxFunctionDefs", "maxInstructionDefs",
            "maxStackElements", "maxSizeOfInstructions", "maxComponentElements",
        ):
            setattr(maxp, attr, 0)
        maxp.maxZones = 1
        font["maxp"] = maxp
        # Keep glyph names (post format 2): without them fontTools rebuilds names
        # from the cmap on every load, which triples WeasyPrint's subsetting time.
        post = font["post"]
        post.formatType = 2.0
        post.extraNames = []
        post.mapping = {}
        post.glyphOrder = glyph_order
        del font["CFF "]
        font.sfntVersion = "\x00\x01\x00\x00"

    # One cmap subtable (Windows BMP) is all Pango and WeasyPrint read.
    cmap = font["cmap"]
    cmap.tables = [t for t in cmap.tables if (t.platformID, t.platEncID) == (3, 1)] or cmap.tables

    names = font["name"]
    full = f"{css_family} {face.style}".strip()
    for name_id, value in ((1, css_family), (2, "Regular"), (3, f"{full};{BUILD_VERSION}"), (4, full), (6, full.replace(" ", "-"))):
        names.setName(value, name_id, 3, 1, 0x409)
        names.setName(value, name_id, 1, 0, 0)
    names.names = [n for n in names.names if n.nameID not in (16, 17) and not (n.nameID in (1, 2, 3, 4, 6) and n.langID not in (0x409, 0))]

    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".building-", suffix=".ttf", dir=out.parent)
    os.close(fd)
    try:
        font.save(tmp)
        os.replace(tmp, out)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    font.close()
    return out


def _subset_cmap(path: Path) -> set[int]:
    from fontTools.ttLib import TTFont

    font = TTFont(path, lazy=True)
    try:
        return set(font.getBestCmap() or {})
    finally:
        font.close()


def ensure_fonts(cache_dir: str | os.PathLike, *, log=None) -> LetterFonts:
    """Build (once) and load the letters' subset fonts in ``cache_dir``.

    A subset is rebuilt when the installed face changes (its path, size or mtime are
    in the file name). The first build takes about a minute per face.

    :param cache_dir: the font cache (``<instance>/fonts`` by default).
    :param log: called with a progress message before each build (e.g. ``click.echo``).
    :return: the fonts and their coverage.
    :raises FontsMissing: when no Chinese font is installed at all, or the Noto CJK
        SC faces are missing (message says to install ``fonts-noto-cjk``).
    """
    cache = Path(cache_dir)
    if not cjk_font_installed():
        raise FontsMissing(f"本机没有安装任何中文字体，无法打印文书。{INSTALL_HINT}。")
    files: dict[str, Path] = {}
    faces: list[SystemFace] = []
    coverage: set[int] | None = None
    for spec in FACES:
        face = find_system_face(spec)
        if face is None:
            raise FontsMissing(
                f"找不到字体 {spec.system_families[0]} {spec.style}（公文{ROLE_LABELS[spec.role]}用），"
                f"无法打印文书。{INSTALL_HINT}。"
            )
        faces.append(face)
        out = cache / f"{spec.role}-{_cache_key(face)}.ttf"
        if not out.exists():
            if log:
                log(f"正在生成公文字体子集 {out.name}（只需一次，约一分钟）…")
            build_subset(face, spec.css_family, out)
        files[spec.role] = out
        cmap = _subset_cmap(out)
        coverage = cmap if coverage is None else coverage & cmap
    return LetterFonts(cache_dir=cache, files=files, coverage=frozenset(coverage or ()), system_faces=faces)
