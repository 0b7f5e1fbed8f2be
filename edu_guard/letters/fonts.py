"""Fonts for printed letters: what the installed fonts can print, checked before printing.

The letters use the system's fonts through fontconfig, named by the stacks of
``templates/letters/gbt9704.css`` (仿宋_GB2312 / 方正仿宋 / FandolFang for the body,
方正小标宋 / Noto Serif CJK SC Bold for titles, Noto CJK behind them); WeasyPrint embeds the
glyphs a PDF uses, subset by HarfBuzz. No font files of our own are built: with
HarfBuzz-Subset the system fonts print within 1.05× of the former cached GB2312
subsets (``bench/letter_fonts.py``, figures in ``bench/README.md``).

What stays here is the check that makes a rare character a clear message instead of a
box on paper: a character that *no* installed font has is reported by
:meth:`LetterFonts.check` before anything is printed, naming the person.
"""

from __future__ import annotations

import bisect
import shutil
import subprocess
import unicodedata
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from edu_guard.i18n import Message
from edu_guard.letters.schemas import LetterError

#: The 仿宋 stack of the body text (GB/T 9704-2012 7.3.3), best first, as
#: ``templates/letters/gbt9704.css`` names it (a test keeps the two equal).
BODY_FACES = ("仿宋_GB2312,FangSong_GB2312,方正仿宋_GBK,方正仿宋简体,FZFangSong-Z02,FZFangSong-Z02S,"
              "FangSong,FandolFang")
#: The 小标宋 stack of titles (7.3.1); Noto Serif CJK SC Bold is the stated substitute.
TITLE_FACES = "方正小标宋简体,FZXiaoBiaoSong-B05S,方正小标宋_GBK,FZXiaoBiaoSong-B05,Noto Serif CJK SC"

INSTALL_HINT = "请安装中文字体 fonts-noto-cjk（apt-get install fonts-noto-cjk；或运行 tools/system-packages.sh）"


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
            Message("%(who)s：“%(char)s”（U+%(code)s，%(path)s）在本机已安装的字体中都没有，无法打印",
                    who=who, char=char, code=format(ord(char), "04X"), path=path)
            for who, path, char in problems
        ]
        super().__init__(Message("以下文字含有无法打印的字符，请核对（如为生僻字，可安装含该字的字体后重试）：\n%(lines)s",
                                 lines=Message.join(lines, "\n")))


def _fc(tool: str, *args: str) -> list[str] | None:
    """Run a fontconfig tool (``fc-list``, ``fc-match``); its lines, or ``None`` without it."""
    exe = shutil.which(tool)
    if exe is None:
        return None
    try:
        out = subprocess.run([exe, *args], capture_output=True, text=True, timeout=60, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    return [line for line in out.stdout.splitlines() if line.strip()]


def cjk_font_installed() -> bool:
    """Return whether fontconfig knows any Chinese font (``fc-list :lang=zh``).

    Without fontconfig's tools the answer is ``True``: WeasyPrint's own check (a
    ``.notdef`` box stops the print, :class:`edu_guard.letters.render.GlyphMissing`)
    still stands behind it.
    """
    lines = _fc("fc-list", ":lang=zh", "family")
    return True if lines is None else bool(lines)


def face_for(families: str) -> str | None:
    """Return the first installed family of a stack, e.g. ``"仿宋_GB2312,FandolFang"`` →
    ``"FandolFang"`` on a machine without 仿宋_GB2312: the face fontconfig gives the letters
    for that stack (Pango takes the first family that exists).

    Used to tell the admin which faces the letters will use (``edu-guard init``).

    :return: the family name, or ``None`` when none is installed (or fontconfig's tools are
        absent).
    """
    for family in (f.strip() for f in families.split(",")):
        if _fc("fc-list", family, "family"):
            return family
    return None


@dataclass
class LetterFonts:
    """What the installed fonts can print: the union of every font's character set.

    Built by :func:`load_fonts`; one per app in ``app.extensions`` (see
    :func:`edu_guard.letters.render.letter_fonts`).

    :ivar starts, ends: sorted, disjoint, inclusive code-point ranges; ``None`` when
        fontconfig's tools are absent (then every character passes this check).
    """

    starts: list[int] | None
    ends: list[int] | None

    def can_print(self, char: str) -> bool:
        """Return whether some installed font has ``char`` (layout whitespace always passes)."""
        if self.starts is None or char in "\n\r\t" or unicodedata.category(char) in ("Zs", "Zl", "Zp"):
            return True
        cp = ord(char)
        i = bisect.bisect_right(self.starts, cp) - 1
        return i >= 0 and cp <= self.ends[i]

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


def load_fonts() -> LetterFonts:
    """Read what the installed fonts cover (one ``fc-list --format %{charset}``, ~30 ms).

    :raises FontsMissing: no Chinese font is installed (the message says what to install).
    """
    if not cjk_font_installed():
        raise FontsMissing(Message("本机没有安装任何中文字体，无法打印文书。请安装中文字体 fonts-noto-cjk（apt-get install fonts-noto-"
                                   "cjk；或运行 tools/system-packages.sh）。"))
    lines = _fc("fc-list", "--format", "%{charset}\n")
    if lines is None:
        return LetterFonts(None, None)
    ranges: list[tuple[int, int]] = []
    for line in lines:
        for part in line.split():
            lo, _, hi = part.partition("-")
            try:
                ranges.append((int(lo, 16), int(hi or lo, 16)))
            except ValueError:
                continue
    starts: list[int] = []
    ends: list[int] = []
    for lo, hi in sorted(ranges):
        if ends and lo <= ends[-1] + 1:
            ends[-1] = max(ends[-1], hi)
        else:
            starts.append(lo)
            ends.append(hi)
    return LetterFonts(starts, ends)
