"""The check every uploaded table passes before it is parsed (上传文件安全检查).

A spreadsheet is a zip of XML parts: a few kilobytes can declare a sheet of 17
billion cells, inflate to gigabytes, or hold millions of empty styled cells, and the
Excel reader (python-calamine) allocates the used range of a sheet densely — from
its first to its last used cell, rows × columns. So before any reader sees a file,
:func:`check_upload` reads only what is cheap and bounded:

* ``.xlsx``/``.xlsm``: the zip's end record (number of parts) and central directory
  (declared sizes, compression ratios), then every part streamed through
  :mod:`zipfile` in chunks (which stops at the declared size and checks the CRC, so
  a part cannot inflate beyond what it declares); the workbook part is read with
  :mod:`defusedxml` (no DTDs, no entities), and each sheet's ``<dimension ref>``, its
  ``<c>`` elements (counted) and their ``r`` references (for the real used range) are
  scanned from the stream without building a tree;
* ``.csv``/``.txt``: size and number of lines (a CSV is read in proportion to its
  size; there is nothing to inflate);
* other spreadsheet formats (``.xls``, ``.xlsb``, ``.ods``) are refused: they cannot
  be checked this way, and every spreadsheet program saves ``.xlsx``.

Limits are settings (``EDU_GUARD_UPLOAD_*`` in :mod:`edu_guard.config`); the
reasoning behind their defaults is in ``docs/security.md``. A refusal is an
:class:`UploadRefused` whose text is the Chinese message for the clerk.
"""

from __future__ import annotations

import io
import os
import re
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import BinaryIO

from defusedxml import ElementTree as SafeET
from defusedxml.common import DefusedXmlException

from edu_guard import config as defaults
from edu_guard.i18n import N_, Message, message_of

ZIP_SUFFIXES = (".xlsx", ".xlsm")
CSV_SUFFIXES = (".csv", ".txt")
#: Spreadsheet formats the readers could open but this module cannot check.
UNCHECKED_SUFFIXES = (".xls", ".xlsb", ".ods")

#: Bytes read from a zip part at a time (bounds the memory of the scan).
CHUNK = 1 << 20
#: Parts smaller than this (uncompressed) are not held to the ratio limit: a few
#: kilobytes of repetitive XML legitimately compress very well.
RATIO_FLOOR = 1 << 20
#: Largest workbook part (sheet list) read as a tree, in bytes.
WORKBOOK_PART_MAX = 4 << 20

_MAIN_NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_REL_NS = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_PKG_REL_NS = "{http://schemas.openxmlformats.org/package/2006/relationships}"


class UploadRefused(ValueError):
    """The file is refused before parsing; its argument (a :class:`~edu_guard.i18n.Message`)
    says why: ``str(exc)`` reads in the reader's language."""


@dataclass(frozen=True)
class Limits:
    """The bounds an upload must keep (see ``EDU_GUARD_UPLOAD_*`` in :mod:`edu_guard.config`)."""

    max_rows: int
    max_columns: int
    max_cells: int
    max_uncompressed: int
    max_ratio: int
    max_parts: int

    @classmethod
    def from_config(cls, config=None) -> "Limits":
        """Read the limits from ``config`` (a mapping), else from the current app's
        config, else from the defaults of :mod:`edu_guard.config`."""
        if config is None:
            from flask import current_app, has_app_context

            if has_app_context():
                config = current_app.config
            else:
                config = {k: getattr(defaults, k) for k in dir(defaults) if k.startswith("EDU_GUARD_UPLOAD_")}
        return cls(
            max_rows=int(config["EDU_GUARD_UPLOAD_MAX_ROWS"]),
            max_columns=int(config["EDU_GUARD_UPLOAD_MAX_COLUMNS"]),
            max_cells=int(config["EDU_GUARD_UPLOAD_MAX_CELLS"]),
            max_uncompressed=int(config["EDU_GUARD_UPLOAD_MAX_UNCOMPRESSED"]),
            max_ratio=int(config["EDU_GUARD_UPLOAD_MAX_RATIO"]),
            max_parts=int(config["EDU_GUARD_UPLOAD_MAX_PARTS"]),
        )


@dataclass
class SheetFacts:
    """What the scan found in one sheet: cells counted and the used range (1-based)."""

    name: str
    cells: int = 0
    max_row: int = 0
    max_col: int = 0
    min_row: int = 0
    min_col: int = 0
    declared: str | None = None


def check_upload(data: bytes | str | Path, filename: str, limits: Limits | None = None) -> list[SheetFacts]:
    """Refuse a table file that is too large to parse safely, before any reader sees it.

    :param data: the file's bytes, or a path to it.
    :param filename: the name as uploaded; its suffix picks the checks.
    :param limits: the bounds; by default :meth:`Limits.from_config`.
    :return: per sheet, the cells counted and the used range (an empty list for CSV).
    :raises UploadRefused: the file exceeds a limit or is not a well-formed ``.xlsx``
        or CSV file; the message, in Chinese, names the file (``“花名册.xlsx”：…``), the
        limit or what the file really is (:func:`what_it_is`) and what to do.
    """
    try:
        return _check_upload(data, filename, limits or Limits.from_config())
    except UploadRefused as exc:
        raise UploadRefused(named(filename, message_of(exc))) from None


def named(filename: str | None, message: "str | Message") -> "str | Message":
    """``“花名册.xlsx”：<message>`` — the clerk sees which file a refusal is about (a
    message that already starts with the name is returned as it is). The result is a
    :class:`~edu_guard.i18n.Message` (read in the reader's language)."""
    name = PurePosixPath(filename or "").name
    if not name or message.startswith(f"“{name}”"):
        return message
    return Message("“%(name)s”：%(message)s", name=name, message=message)


#: Leading bytes of the files clerks upload by mistake under an Excel name, and what to say.
_MAGIC = (
    (b"%PDF", N_("这是 PDF 文件")),
    (b"\xd0\xcf\x11\xe0", N_("这是旧版 Office 文件（如 Excel 97-2003 的 .xls 或 Word 的 .doc）")),
    (b"\x89PNG", N_("这是 PNG 图片")),
    (b"\xff\xd8\xff", N_("这是 JPG 图片")),
    (b"Rar!", N_("这是 RAR 压缩包")),
    (b"7z\xbc\xaf", N_("这是 7z 压缩包")),
    (b"{\\rtf", N_("这是 RTF 文档")),
)
_SAVE_AS = N_("请在 Excel 或 WPS 中打开名单，“另存为” Excel 工作簿（.xlsx）后再上传")


def _broken(advice: str = _SAVE_AS) -> Message:
    return Message("无法读取 Excel 文件（文件已损坏或不是 Excel 格式）。%(advice)s", advice=Message(advice))


def what_it_is(data: bytes | str | Path, parts: list[str] | None = None) -> Message:
    """Say in Chinese why bytes sent as an ``.xlsx`` are not an Excel workbook, from
    what they really are (an empty file, a PDF, an old ``.xls``, a Word ``.docx``, a
    text or HTML file renamed …), ending with what to do.

    :param data: the file's bytes, or a path to it (only its first bytes are read).
    :param parts: for a zip file, the names of its parts (``word/document.xml`` …).
    """
    if not isinstance(data, (bytes, bytearray)):
        try:
            with open(data, "rb") as fh:
                data = fh.read(8192)
        except OSError:
            return _broken()
    head = bytes(data[:8192])
    if not head:
        return Message("无法读取 Excel 文件：文件是空的（0 字节），可能上传时选错了文件或文件未保存完整。请重新选择文件")
    for magic, what in _MAGIC:
        if head.startswith(magic):
            return Message("无法读取 Excel 文件：%(what)s，不是 Excel 工作簿（.xlsx），只是扩展名被改成了 .xlsx。%(advice)s",
                           what=Message(what), advice=Message(_SAVE_AS))
    if head.startswith(b"PK"):
        head = head + "\n".join(parts or ()).encode()
        if b"word/" in head:
            what = N_("这是 Word 文档（.docx）")
        elif b"ppt/" in head:
            what = N_("这是 PowerPoint 演示文稿（.pptx）")
        elif b"content.xml" in head or b"opendocument" in head:
            what = N_("这是 OpenDocument 文件（如 .ods）")
        else:
            return Message("无法读取 Excel 文件：文件已损坏或不是 Excel 工作簿（压缩包结构不完整，可能未下载或复制完整）。"
                           "%(advice)s", advice=Message(_SAVE_AS))
        return Message("无法读取 Excel 文件：%(what)s，不是 Excel 工作簿（.xlsx）。%(advice)s",
                       what=Message(what), advice=Message(_SAVE_AS))
    lowered = head.lstrip().lower()
    if lowered.startswith((b"<html", b"<!doctype html", b"<table", b"<?xml", b"mime-version")):
        return Message("无法读取 Excel 文件：这是网页或 XML 格式的表格（一些系统导出的“Excel”实为网页），"
                       "不是 Excel 工作簿（.xlsx）。%(advice)s", advice=Message(_SAVE_AS))
    if b"\x00" not in head:
        return Message("无法读取 Excel 文件：这是文本文件（可能是改了扩展名的 CSV），不是 Excel 工作簿（.xlsx）。"
                       "请把扩展名改为 .csv 再上传，或在 Excel 中“另存为” .xlsx")
    return _broken()


def _check_upload(data: bytes | str | Path, filename: str, limits: Limits) -> list[SheetFacts]:
    suffix = PurePosixPath(filename or "").suffix.lower()
    if suffix in UNCHECKED_SUFFIXES:
        raise UploadRefused(Message("不接受 %(suffix)s 格式的文件：请在 Excel 或 WPS 中“另存为” Excel 工作簿（.xlsx）后再上传",
                                    suffix=suffix))
    if suffix in CSV_SUFFIXES:
        _check_csv(data, limits)
        return []
    if suffix in ZIP_SUFFIXES:
        try:
            if isinstance(data, (bytes, bytearray)):
                return _check_xlsx(io.BytesIO(data), limits)
            with open(data, "rb") as fh:
                return _check_xlsx(fh, limits)
        except _NotAWorkbook as exc:
            raise UploadRefused(what_it_is(data, parts=exc.args[0] if exc.args else None)) from None
    return []  # the readers refuse other suffixes with their own message


class _NotAWorkbook(Exception):
    """The bytes are not a zip at all, or not a workbook's zip: :func:`what_it_is` says what."""


def _mib(n: int) -> str:
    return f"{n / (1 << 20):.0f} MB"


def _check_csv(data: bytes | str | Path, limits: Limits) -> None:
    size = len(data) if isinstance(data, (bytes, bytearray)) else Path(data).stat().st_size
    if size > limits.max_uncompressed:
        raise UploadRefused(Message("文件过大：%(size)s，超过允许的 %(limit)s。请分成几个文件上传",
                                    size=_mib(size), limit=_mib(limits.max_uncompressed)))
    raw = data if isinstance(data, (bytes, bytearray)) else Path(data).read_bytes()
    lines = raw.count(b"\n") + (not raw.endswith(b"\n"))
    if lines > limits.max_rows:
        raise UploadRefused(Message("文件行数过多：%(lines)s 行，超过允许的 %(limit)s 行。请分成几个文件上传",
                                    lines=lines, limit=limits.max_rows))


def _zip_entry_count(fh: BinaryIO) -> int:
    """Read the number of entries from the zip's end record, before :mod:`zipfile`
    builds one object per entry of the central directory."""
    fh.seek(0, io.SEEK_END)
    size = fh.tell()
    fh.seek(max(0, size - 65557))
    tail = fh.read()
    at = tail.rfind(b"PK\x05\x06")
    if at < 0 or len(tail) < at + 22:
        raise _NotAWorkbook
    return int.from_bytes(tail[at + 10 : at + 12], "little")


def _check_xlsx(fh: BinaryIO, limits: Limits) -> list[SheetFacts]:
    entries = _zip_entry_count(fh)
    if entries >= 0xFFFF or entries > limits.max_parts:
        raise UploadRefused(Message("Excel 文件结构异常：包含 %(parts)s 个部件，超过允许的 %(limit)s 个",
                                    parts=entries, limit=limits.max_parts))
    fh.seek(0)
    try:
        zf = zipfile.ZipFile(fh)
    except (zipfile.BadZipFile, OSError, ValueError):
        raise _NotAWorkbook from None
    with zf:
        infos = zf.infolist()
        if not any(i.filename.startswith("xl/") for i in infos):  # a zip, but not a workbook's
            raise _NotAWorkbook([i.filename for i in infos])
        total = sum(i.file_size for i in infos)
        if total > limits.max_uncompressed:
            raise UploadRefused(Message(
                "Excel 文件解压后过大：%(size)s，超过允许的 %(limit)s。请删除多余的工作表、"
                "图片和格式，或分成几个文件上传", size=_mib(total), limit=_mib(limits.max_uncompressed))
            )
        for info in infos:
            ratio = info.file_size / max(1, info.compress_size)
            if info.file_size > RATIO_FLOOR and ratio > limits.max_ratio:
                raise UploadRefused(Message(
                    "Excel 文件压缩比异常（部件 %(part)s 压缩了 %(ratio)s 倍，允许 %(limit)s 倍）："
                    "文件中可能有大量空白但带格式的单元格。请删除多余的行、列后另存再上传",
                    part=info.filename, ratio=f"{ratio:.0f}", limit=limits.max_ratio)
                )
        sheets = _sheet_names(zf)
        facts = []
        for info in infos:
            if info.is_dir():
                continue
            if info.filename in sheets:
                facts.append(_scan_sheet(zf, info, sheets[info.filename], limits))
            else:
                _drain(zf, info)
        cells = sum(f.cells for f in facts)
        if cells > limits.max_cells:
            raise UploadRefused(Message(
                "Excel 文件的单元格过多：共 %(cells)s 个（含空白但带格式的单元格），超过允许的 %(limit)s 个。"
                "请删除多余的行、列后另存，或分成几个文件上传", cells=cells, limit=limits.max_cells)
            )
    return facts


def _sheet_names(zf: zipfile.ZipFile) -> dict[str, str]:
    """Return zip part name → sheet name, from the workbook part and its relations
    (read with defusedxml, size-bounded); any ``xl/worksheets/*.xml`` part not named
    there is still scanned, under its file name."""
    names: dict[str, str] = {}
    try:
        book = _small_xml(zf, "xl/workbook.xml")
        rels = _small_xml(zf, "xl/_rels/workbook.xml.rels")
    except KeyError:
        book = rels = None
    if book is not None and rels is not None:
        targets = {}
        for rel in rels.iter(f"{_PKG_REL_NS}Relationship"):
            target = rel.get("Target", "")
            path = target.lstrip("/") if target.startswith("/") else str(PurePosixPath("xl") / target)
            targets[rel.get("Id")] = path
        for sheet in book.iter(f"{_MAIN_NS}sheet"):
            part = targets.get(sheet.get(f"{_REL_NS}id"))
            if part:
                names[part] = sheet.get("name") or part
    for name in zf.namelist():
        if name.startswith("xl/worksheets/") and name.endswith(".xml") and name not in names:
            names[name] = PurePosixPath(name).name
    return names


def _small_xml(zf: zipfile.ZipFile, name: str):
    info = zf.getinfo(name)
    if info.file_size > WORKBOOK_PART_MAX:
        raise UploadRefused(Message("Excel 文件结构异常：%(part)s 过大", part=name))
    try:
        return SafeET.fromstring(zf.read(name))
    except (DefusedXmlException, SafeET.ParseError, zipfile.BadZipFile, OSError):
        raise UploadRefused(Message("Excel 文件结构异常：无法读取 %(part)s（文件已损坏，或含有不允许的 XML 声明）",
                                    part=name)) from None


def _zip_fault(exc: BaseException) -> Message:
    """A zip reader's English error as a clerk's reason (the file is cut short, its
    check sum is wrong, it is encrypted, it uses a compression the reader lacks)."""
    text = str(exc).lower()
    if "crc" in text:
        return Message("校验和不符，文件在下载或复制时损坏")
    if "encrypt" in text or "password" in text:
        return Message("文件已加密，请取消密码保护后另存再上传")
    if "compression" in text or isinstance(exc, NotImplementedError):
        return Message("使用了不支持的压缩方式，请在 Excel 中另存后再上传")
    if isinstance(exc, EOFError) or "truncat" in text or "end" in text:
        return Message("文件不完整，可能未下载或复制完整")
    return Message("数据无法解压")


def _drain(zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> None:
    """Inflate a part in chunks and drop it: a part larger than it declares, or with
    a wrong CRC, fails here rather than inside the reader."""
    try:
        with zf.open(info) as part:
            head = part.read(4096)
            if _DTD.search(head):
                raise UploadRefused(Message("Excel 文件含有不允许的 XML 声明（DOCTYPE/ENTITY）：%(part)s", part=info.filename))
            while part.read(CHUNK):
                pass
    except (zipfile.BadZipFile, OSError, EOFError, NotImplementedError, RuntimeError) as exc:
        raise UploadRefused(Message("无法读取 Excel 文件：部件 %(part)s 已损坏（%(fault)s）",
                                    part=info.filename, fault=_zip_fault(exc))) from None


_DTD = re.compile(rb"<!(?:DOCTYPE|ENTITY)", re.IGNORECASE)
#: A ``<row …>`` or ``<c …>`` start tag (any namespace prefix) and its attributes.
_TAG = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?(row|c)(?=[\s/>])([^>]*)>")
_R_ATTR = re.compile(rb'\sr\s*=\s*["\']([A-Za-z]*)(\d+)["\']')
_DIMENSION = re.compile(rb'<(?:[A-Za-z_][\w.-]*:)?dimension\s[^>]*ref\s*=\s*["\']([^"\']+)["\']')
_REF = re.compile(r"([A-Za-z]{1,4})(\d{1,8})")


def column_number(letters: str) -> int:
    """``"A"`` → 1, ``"Z"`` → 26, ``"AA"`` → 27, ``"XFD"`` → 16384."""
    n = 0
    for ch in letters.upper():
        n = n * 26 + (ord(ch) - 64)
    return n


def column_letters(n: int) -> str:
    """1 → ``"A"``, 16384 → ``"XFD"``."""
    out = ""
    while n > 0:
        n, rem = divmod(n - 1, 26)
        out = chr(65 + rem) + out
    return out


def _declared(ref: str) -> tuple[int, int] | None:
    """Rows and columns of a ``<dimension ref>`` like ``A1:Y100001`` (``None`` if unreadable)."""
    refs = _REF.findall(ref)
    if not refs:
        return None
    rows = [int(r) for _, r in refs]
    cols = [column_number(c) for c, _ in refs]
    return max(rows) - min(rows) + 1, max(cols) - min(cols) + 1


def _scan_sheet(zf: zipfile.ZipFile, info: zipfile.ZipInfo, name: str, limits: Limits) -> SheetFacts:
    """Stream one sheet part: check its declared dimension, count its cells and find
    the range they really use; refuse as soon as a limit is passed."""
    facts = SheetFacts(name=name)
    state = _ScanState()
    patterns = None
    max_row = max_col = 0
    carry = b""
    first = True
    try:
        with zf.open(info) as part:
            while True:
                chunk = part.read(CHUNK)
                if not chunk and not carry:
                    break
                buf = carry + chunk
                if chunk:
                    cut = buf.rfind(b"<")
                    if cut >= 0 and buf.find(b">", cut) < 0:
                        buf, carry = buf[:cut], buf[cut:]
                        if len(carry) > CHUNK:
                            raise UploadRefused(Message("工作表“%(sheet)s”结构异常（标签过长）", sheet=name))
                    else:
                        carry = b""
                else:
                    carry = b""
                if first:
                    first = False
                    if _DTD.search(buf[:65536]):
                        raise UploadRefused(Message("Excel 文件含有不允许的 XML 声明（DOCTYPE/ENTITY）：工作表“%(sheet)s”",
                                                    sheet=name))
                    dim = _DIMENSION.search(buf[:65536])
                    if dim:
                        facts.declared = dim.group(1).decode("ascii", "replace")
                        size = _declared(facts.declared)
                        if size is not None:
                            _check_extent(name, size[0], size[1], limits, Message("声明的范围 %(range)s", range=facts.declared),
                                          area=False)
                if patterns is None:
                    root = _ROOT.search(buf)
                    patterns = _patterns(root.group(1) or b"" if root else b"")
                state = _scan_chunk(buf, state, patterns)
                facts.cells = state.cells
                max_row, max_col = state.max_row, state.max_col
                if facts.cells > limits.max_cells:
                    raise UploadRefused(Message(
                        "工作表“%(sheet)s”的单元格过多：超过允许的 %(limit)s 个（含空白但带格式的单元格）。"
                        "请删除多余的行、列后另存，或分成几个文件上传", sheet=name, limit=limits.max_cells)
                    )
                if max_row > limits.max_rows or max_col > limits.max_columns:
                    _check_extent(name, max_row, max_col, limits, Message("在 %(cell)s 附近有内容", cell=f"{column_letters(max_col)}{max_row}"))
                if not chunk:
                    break
    except (zipfile.BadZipFile, OSError, EOFError, NotImplementedError, RuntimeError) as exc:
        raise UploadRefused(Message("无法读取 Excel 文件：工作表“%(sheet)s”已损坏（%(fault)s）",
                                    sheet=name, fault=_zip_fault(exc))) from None
    if facts.cells:
        facts.min_row, facts.min_col = state.min_row, state.min_col
        facts.max_row, facts.max_col = state.max_row, state.max_col
        rows, cols = facts.max_row - facts.min_row + 1, facts.max_col - facts.min_col + 1
        where = Message("已用范围 %(range)s", range=f"{column_letters(facts.min_col)}{facts.min_row}:"
                                                      f"{column_letters(facts.max_col)}{facts.max_row}")
        _check_extent(name, rows, cols, limits, where)
    return facts


@dataclass
class _ScanState:
    """Cells counted and the used range so far, and the position of the last cell
    (for cells written without an ``r`` reference, which follow the previous one)."""

    cells: int = 0
    row: int = 0
    col: int = 0
    min_row: int = 0
    min_col: int = 0
    max_row: int = 0
    max_col: int = 0


_ROOT = re.compile(rb"<([A-Za-z_][\w.-]*:)?worksheet[\s>]")
_SPACES = (b" ", b">", b"/", b"\n", b"\r", b"\t")


def _patterns(prefix: bytes) -> tuple:
    """The byte strings and patterns of the fast scan for a sheet whose elements
    carry the namespace ``prefix`` (``b""`` for the usual default namespace)."""
    p = re.escape(prefix)
    return (
        tuple(b"<" + prefix + b"c" + s for s in _SPACES),
        re.compile(rb"<" + p + rb'c\s[^>]*?\br\s*=\s*["\']([A-Za-z]{1,4})\d'),
        re.compile(rb"<" + p + rb'row\s[^>]*?\br\s*=\s*["\'](\d{1,8})["\']'),
        tuple(b"<" + prefix + b"row" + s for s in _SPACES),
    )


def _by_length(b: bytes) -> tuple[int, bytes]:
    return len(b), b.upper()


def _scan_chunk(buf: bytes, state: _ScanState, patterns: tuple) -> _ScanState:
    """Count the cells of a chunk of sheet XML (whole tags only) and widen the used
    range. When every cell and row carries its ``r`` reference (as Excel, WPS and
    openpyxl write them) the chunk is scanned at C speed (``bytes.count``,
    ``findall``); otherwise it is walked tag by tag."""
    cell_tags, col_ref, row_ref, row_tags = patterns
    count = sum(buf.count(t) for t in cell_tags)
    rows = row_ref.findall(buf)
    if len(rows) != sum(buf.count(t) for t in row_tags):
        return _walk_chunk(buf, state)
    if count:
        cols = col_ref.findall(buf)
        if len(cols) != count:
            return _walk_chunk(buf, state)
        letters = set(cols)
        _widen(state, state.row if not rows else int(min(rows, key=_by_length)),
               column_number(min(letters, key=_by_length).decode()))
        _widen(state, state.row if not rows else int(max(rows, key=_by_length)),
               column_number(max(letters, key=_by_length).decode()))
        state.cells += count
        state.col = column_number(cols[-1].decode())
    if rows:
        state.row = int(rows[-1])
    return state


def _widen(state: _ScanState, row: int, col: int) -> None:
    if not state.min_row or row < state.min_row:
        state.min_row = row
    if not state.min_col or col < state.min_col:
        state.min_col = col
    state.max_row = max(state.max_row, row)
    state.max_col = max(state.max_col, col)


def _walk_chunk(buf: bytes, state: _ScanState) -> _ScanState:
    for m in _TAG.finditer(buf):
        r = _R_ATTR.search(m.group(2))
        if m.group(1) == b"row":
            state.row = int(r.group(2)) if r else state.row + 1
            state.col = 0
            continue
        state.cells += 1
        if r and r.group(1):
            state.col = column_number(r.group(1).decode("ascii"))
            state.row = int(r.group(2))
        else:
            state.col += 1
        _widen(state, state.row, state.col)
    return state


def _check_extent(name: str, rows: int, cols: int, limits: Limits, where: Message, area: bool = True) -> None:
    """Refuse a sheet whose range (declared or used) is beyond the row or column
    limits, or (``area``: the used range, which the reader lays out as rows ×
    columns) beyond the cell limit."""
    fix = Message("请删除表格以外多余的内容（选中多余的行、列后“删除”，而不是“清除内容”）后另存再上传")
    if rows > limits.max_rows:
        raise UploadRefused(Message("工作表“%(sheet)s”行数过多（%(where)s，%(rows)s 行），超过允许的 %(limit)s 行。%(advice)s",
                                    sheet=name, where=where, rows=rows, limit=limits.max_rows, advice=fix))
    if cols > limits.max_columns:
        raise UploadRefused(Message("工作表“%(sheet)s”列数过多（%(where)s，%(cols)s 列），超过允许的 %(limit)s 列。%(advice)s",
                                    sheet=name, where=where, cols=cols, limit=limits.max_columns, advice=fix))
    if area and rows * cols > limits.max_cells:
        raise UploadRefused(Message(
            "工作表“%(sheet)s”的范围过大（%(where)s，%(rows)s 行 × %(cols)s 列），超过允许的 %(limit)s 个单元格。%(advice)s",
            sheet=name, where=where, rows=rows, cols=cols, limit=limits.max_cells, advice=fix)
        )


# --- where uploads are kept, and for how long -------------------------------------


def private_folder(path: Path) -> Path:
    """Create ``path`` (and its parents) if needed and make it readable by the
    service's user only (0700): raw uploads hold whole ID numbers."""
    path.mkdir(parents=True, exist_ok=True)
    try:
        path.chmod(0o700)
    except OSError:
        pass
    return path


def write_private(path: Path, data: bytes, prefix: str = ".part-") -> None:
    """Write ``data`` to ``path`` whole or not at all: into a temporary file (0600) of a
    private folder (0700, :func:`private_folder`), then renamed over ``path``
    (``os.replace``, atomic on one file system). A crash leaves no half-written file
    under ``path``'s name; the temporary file is removed on any error.

    :raises OSError: the folder cannot be created or written.
    """
    private_folder(path.parent)
    fd, tmp = tempfile.mkstemp(prefix=prefix, suffix=path.suffix, dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def uploads_folder(app=None) -> Path:
    """``<instance>/uploads``: the raw files of imports, by sha256 (0700)."""
    from flask import current_app

    app = app or current_app
    return private_folder(Path(app.instance_path) / "uploads")


def expired_files(folder: Path, name: str, keep_days: int, now, recorded: dict) -> list[tuple[Path, object]]:
    """The files of ``folder`` due for deletion under a retention of ``keep_days`` days.

    Only files whose whole name matches the regular expression ``name`` are considered
    (other files in the folder are never touched). A file's age counts from the time
    the database records for it (``recorded``: file name → aware or naive-UTC
    ``datetime``, e.g. its last import or its job's end), else from when it was
    written (its mtime).

    :param now: the current time (aware, UTC).
    :return: ``[(path, since), …]`` of the files older than ``now - keep_days``, in
        name order (shorter names first), ``since`` aware UTC.
    """
    from datetime import datetime, timedelta, timezone

    if not folder.is_dir():
        return []
    cutoff = now - timedelta(days=int(keep_days))
    due = []
    for path in sorted(folder.iterdir(), key=lambda p: (len(p.name), p.name)):
        if not path.is_file() or not re.fullmatch(name, path.name):
            continue
        since = recorded.get(path.name)
        if since is None:
            since = datetime.fromtimestamp(path.stat().st_mtime, timezone.utc)
        elif since.tzinfo is None:
            since = since.replace(tzinfo=timezone.utc)
        if since < cutoff:
            due.append((path, since))
    return due
