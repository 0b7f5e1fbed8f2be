"""Read import files into rows: Excel through python-calamine, CSV and tab-separated
text decoded by :mod:`edu_guard.textfile` (UTF-8 with or without BOM, GB18030, UTF-16).

A :class:`Table` is what the importers see: the header found below any title rows,
the canonical fields it names, and the data rows with the row number the clerk sees
in Excel (1-based; for CSV the line number, header line = 1 when the file has no
title lines). Blank rows are skipped and reading stops at the footer
(填表人/审核人 …).

A workbook is read as the clerk sees it in Excel: every visible sheet with the
header is a table (a roster split by grade over sheets gives one table per sheet);
hidden and very-hidden sheets are skipped and named with the reason; a merged cell
gives its value to every cell it covers; a grouped two-row header (学生信息 /
监护人信息 over a row that repeats 姓名) maps each column by its group; an Excel error
cell (``#N/A``, ``#REF!`` …) comes as :class:`ExcelError`, never as an empty cell;
and the workbook's date system (1900 or 1904) is reported for serial numbers.
python-calamine reads the cells, the visibility and the merged ranges; the date
system and the error cells come from the workbook's XML, read as a stream.

Cell values keep their spreadsheet type: calamine gives ``float`` for a numeric
cell, ``str`` for a text cell, ``date``/``datetime`` for a date cell. The importers
need that: an ID number in a numeric cell has already lost its last digits.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from xml.etree import ElementTree

from edu_guard import textfile
from edu_guard.i18n import N_, Message, message_of
from edu_guard.uploads import UploadRefused, check_upload, named, what_it_is
from edu_guard.registry.normalize import ALIAS_INDEX, WHITESPACE, as_message, halfwidth, header_key, match_header

#: How many rows at the top of a sheet may be titles before the header.
HEADER_SEARCH_ROWS = 30
#: A first cell starting with one of these ends the data (the signature footer).
FOOTER_MARKERS = (
    "填表人",
    "填报人",
    "制表人",
    "审核人",
    "审核",
    "负责人",
    "单位负责人",
    "填报日期",
    "填表日期",
    "制表日期",
    "合计",
    "总计",
)
#: These end the data only when followed by a colon (a child may be named 注…).
FOOTER_NOTES = ("备注", "说明", "注")

#: Excel files read; other spreadsheet formats (.xls, .xlsb, .ods) cannot be checked
#: before parsing and are refused by :func:`edu_guard.uploads.check_upload`.
EXCEL_SUFFIXES = (".xlsx", ".xlsm")
CSV_SUFFIXES = (".csv", ".txt")

#: (row number as the clerk sees it, cell values)
Row = tuple[int, list]


class ExcelError:
    """An Excel error cell (``#N/A``, ``#REF!``, ``#VALUE!`` …): the formula behind it
    failed, so the cell has no value the clerk meant."""

    __slots__ = ("code",)

    def __init__(self, code: str) -> None:
        self.code = code

    def __repr__(self) -> str:
        return f"ExcelError({self.code!r})"

    def __str__(self) -> str:
        return self.code

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ExcelError) and other.code == self.code

    def __hash__(self) -> int:
        return hash(("ExcelError", self.code))


class FormulaCell(ExcelError):
    """A formula cell saved without its result (a workbook written by a program, not
    by Excel: no cached value): calamine reads it as empty, yet the clerk sees a value
    once Excel has computed it. ``code`` is the formula (``=HYPERLINK(…)``)."""

    __slots__ = ()

    def __str__(self) -> str:
        return ""


#: The error values Excel shows in a cell (and writes into a CSV saved from it).
EXCEL_ERROR_CODES = frozenset(
    {"#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A", "#GETTING_DATA", "#SPILL!", "#CALC!", "#FIELD!"}
)


def excel_error_reason(value: "ExcelError") -> Message:
    """Return the reason for an error cell or a formula cell without a saved result
    (:class:`FormulaCell`); the reason follows the column's name (a
    :class:`~edu_guard.i18n.Message`)."""
    if isinstance(value, FormulaCell):
        return Message("：单元格是公式（没有保存计算结果），请在原表中复制后“选择性粘贴—数值”，再重新导入")
    return Message("为 Excel 错误值 %(code)s（公式出错），请在原表中改正后重新导入", code=value.code)


class ReadError(Exception):
    """The file cannot be read as a table; its argument (a :class:`~edu_guard.i18n.Message`)
    says why, in the reader's language."""


class HeaderNotFound(ReadError):
    """No row near the top names enough known columns: the file is of another kind."""


@dataclass
class Table:
    """A table found in an import file."""

    #: The header cells as written in the file (text), in order.
    header: list[str]
    #: Row number of the header (1-based, as in Excel).
    header_row: int
    #: Canonical field → column index, for the fields the importer asked about.
    columns: dict[str, int]
    #: The data rows: ``(row number, cells)``; blank rows and the footer are skipped.
    rows: Iterator[Row]
    #: An upper bound of the number of data rows (for progress bars).
    total: int
    #: ``xlsx`` or ``csv``; for CSV, the encoding that decoded it.
    source: str = "xlsx"
    encoding: str | None = None
    #: Name of the worksheet the table was found on.
    sheet: str | None = None
    #: Header cells (text) that name no field this importer reads, with their column
    #: letter or number (Messages: ``备注（第9列）``): reported to the clerk, never
    #: dropped silently.
    unused: list[Message] = field(default_factory=list)
    #: The workbook counts dates from 1904-01-01 (Excel for Mac's old system).
    date1904: bool = False


@dataclass
class Workbook:
    """Every table of an import file, and the sheets skipped with why."""

    tables: list[Table]
    #: ``(sheet name, reason)`` of the sheets not imported (the reason a Message).
    skipped: list[tuple[str, Message]] = field(default_factory=list)
    source: str = "xlsx"
    encoding: str | None = None
    date1904: bool = False


def read_table(data: bytes | str | Path, filename: str, fields: frozenset[str], min_matches: int = 3) -> Table:
    """Return the first table of :func:`read_workbook` (for readers of one table).

    :raises ReadError: as :func:`read_workbook`.
    """
    return read_workbook(data, filename, fields, min_matches).tables[0]


def read_workbook(
    data: bytes | str | Path, filename: str, fields: frozenset[str], min_matches: int = 3
) -> Workbook:
    """Find the tables in an Excel or CSV file and return them with row iterators.

    :param data: the file's bytes, or a path to it.
    :param filename: the file's name; its suffix picks the reader.
    :param fields: the canonical fields the importer knows (see
        :data:`edu_guard.registry.normalize.COLUMN_ALIASES`).
    :param min_matches: how many known column names make a row the header.
    :return: a :class:`Workbook`: one table per visible sheet with the header (one for
        a CSV), and the sheets skipped with the reason.
    :raises ReadError: when the file is not an Excel or CSV file, cannot be decoded or
        holds no row that looks like a header on a visible sheet, or is refused by
        :func:`edu_guard.uploads.check_upload` (too many cells, rows or columns, too
        large inflated: the reader never lays out such a sheet).
    """
    try:
        check_upload(data, filename)
    except UploadRefused as exc:
        raise ReadError(message_of(exc)) from None
    suffix = Path(filename).suffix.lower()
    try:
        if suffix in EXCEL_SUFFIXES:
            return _read_excel(data, fields, min_matches)
        if suffix in CSV_SUFFIXES:
            raw = data if isinstance(data, bytes) else Path(data).read_bytes()
            table = _read_csv(raw, fields, min_matches)
            return Workbook([table], source="csv", encoding=table.encoding)
    except HeaderNotFound:
        raise
    except ReadError as exc:  # the file itself cannot be read: say which file
        raise ReadError(named(filename, message_of(exc))) from None
    raise ReadError(Message("不支持的文件类型“%(suffix)s”：请上传 Excel（.xlsx）或 CSV 文件", suffix=suffix or filename))


def is_blank(cells: Iterable[object]) -> bool:
    """Return whether every cell of a row is empty or whitespace."""
    for cell in cells:
        if cell is None:
            continue
        if isinstance(cell, str):
            if cell and not cell.isspace():
                return False
        else:
            return False
    return True


def is_footer(cells: list) -> bool:
    """Return whether a row is the signature footer (填表人/审核人 …) under the data.

    The first non-empty cell decides: it starts with one of :data:`FOOTER_MARKERS`,
    or with one of :data:`FOOTER_NOTES` and a colon.
    """
    for cell in cells:
        if cell is None or cell == "":
            continue
        if not isinstance(cell, str):
            return False
        key = WHITESPACE.sub("", halfwidth(cell))
        return key.startswith(FOOTER_MARKERS) or key.startswith(tuple(note + ":" for note in FOOTER_NOTES))
    return False


def _header_text(cell: object) -> str:
    if cell is None:
        return ""
    if isinstance(cell, float) and cell.is_integer():
        return str(int(cell))
    return str(cell).strip()


def _find_header(
    rows: Iterator[Row], fields: frozenset[str], min_matches: int
) -> tuple[Row, dict[str, int], list | None] | None:
    """Scan the top rows for the header: the first with ``min_matches`` known names.

    Consumes ``rows`` up to and including the header.

    :return: the header row, its columns, and the non-blank row just above it (a
        possible group row), or ``None``.
    """
    needed = max(1, min(min_matches, len(fields)))
    scanned = 0
    previous = None
    for number, cells in rows:
        if is_blank(cells):
            continue
        columns = match_header(cells, fields)
        if len(columns) >= needed:
            return (number, cells), columns, previous
        previous = cells
        scanned += 1
        if scanned >= HEADER_SEARCH_ROWS:
            break
    return None


#: Group titles of a two-row header: a column under a guardian group names a
#: guardian's detail (its 姓名 is the guardian's name).
GUARDIAN_GROUP = re.compile(r"监护人|家长|父亲|母亲|联系人|法定代理人")
#: Header names under a guardian group → field.
GUARDIAN_SUBFIELDS = {
    header_key(name): field_name
    for names, field_name in (
        (("姓名", "名字"), "guardian_name"),
        (("联系电话", "电话", "手机", "手机号", "手机号码", "联系方式", "电话号码"), "guardian_phone"),
        (("关系", "与学生关系", "与学生的关系", "与儿童关系", "称谓"), "guardian_relation"),
    )
    for name in names
}
#: Header names that are not data (a row counter): never reported as unused.
_NOT_DATA = {header_key(name) for name in ("序号", "编号", "行号", "No", "No.")}


def _grouped_columns(
    header_cells: list, group_cells: list | None, fields: frozenset[str], columns: dict[str, int]
) -> tuple[dict[str, int], list[str]]:
    """Map the columns of a header by the group row above it, when there is one.

    A group row has at least two different titles and one of them is a guardian
    group (:data:`GUARDIAN_GROUP`): its columns are read as the guardian's name,
    phone and relation (:data:`GUARDIAN_SUBFIELDS`); other columns under it are not
    imported. Without a group row the header's own mapping stands.

    :return: the columns and, per column, its group title ("" when none).
    """
    width = len(header_cells)
    groups = [_header_text(c) for c in (group_cells or [])][:width]
    groups += [""] * (width - len(groups))
    if len({g for g in groups if g}) < 2 or not any(GUARDIAN_GROUP.search(g) for g in groups):
        return columns, [""] * width
    found: dict[str, int] = {}
    for index, cell in enumerate(header_cells):
        key = header_key(cell)
        if GUARDIAN_GROUP.search(groups[index]):
            field_name = GUARDIAN_SUBFIELDS.get(key)
            if field_name is None and ALIAS_INDEX.get(key, "").startswith("guardian_"):
                field_name = ALIAS_INDEX[key]
        else:
            field_name = ALIAS_INDEX.get(key)
        if field_name is not None and field_name in fields and field_name not in found:
            found[field_name] = index
    return found, groups


def _header_names(header_cells: list, groups: list[str]) -> list[str]:
    """Return the header's text; a name met twice carries its group (姓名（监护人信息）)."""
    header = [_header_text(c) for c in header_cells]
    counts: dict[str, int] = {}
    for name in header:
        counts[name] = counts.get(name, 0) + 1
    for index, name in enumerate(header):
        if name and counts[name] > 1 and index < len(groups) and groups[index]:
            header[index] = f"{name}（{groups[index]}）"
    while header and not header[-1]:
        header.pop()
    return header


def column_letter(index: int) -> str:
    """Return the Excel column letters of a 0-based column index (0 → A, 27 → AB)."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _unused_columns(header: list[str], columns: dict[str, int], col_offset: int | None) -> list[Message]:
    """Return the named header cells no field was read from, with their column."""
    used = set(columns.values())
    out = []
    for index, name in enumerate(header):
        if not name or index in used or header_key(name) in _NOT_DATA:
            continue
        where = (Message("%(letter)s列", letter=column_letter(index + col_offset)) if col_offset is not None
                 else Message("第%(n)s列", n=index + 1))
        out.append(Message("%(name)s（%(where)s）", name=name, where=where))
    return out


def _data_rows(rows: Iterator[Row], width: int) -> Iterator[Row]:
    """Yield the non-blank rows up to the footer, padded or cut to ``width`` cells."""
    for number, cells in rows:
        if is_blank(cells):
            continue
        if is_footer(cells):
            return
        if len(cells) < width:
            cells = list(cells) + [""] * (width - len(cells))
        yield number, cells


HIDDEN_REASON = N_("隐藏的工作表，未导入（如需导入，请在 Excel 中取消隐藏后重新上传）")
VERY_HIDDEN_REASON = N_("深度隐藏（veryHidden）的工作表，未导入")
NO_HEADER_REASON = N_("没有找到表头，未导入")


def _read_excel(data: bytes | str | Path, fields: frozenset[str], min_matches: int) -> Workbook:
    from python_calamine import CalamineWorkbook, SheetTypeEnum, SheetVisibleEnum

    if not isinstance(data, bytes):
        try:
            data = Path(data).read_bytes()  # the compressed file: the metadata reader opens it too
        except OSError as exc:
            raise ReadError(Message("无法打开文件：%(error)s", error=exc.strerror or str(exc))) from None
    try:
        workbook = CalamineWorkbook.from_filelike(io.BytesIO(data))
    except Exception as exc:  # noqa: BLE001 - calamine raises several error types
        raise ReadError(what_it_is(data)) from None
    meta = _OoxmlMeta.read(data)

    tables: list[Table] = []
    skipped: list[tuple[str, Message]] = []
    hidden: list[str] = []
    for info in workbook.sheets_metadata:
        name = info.name
        if info.typ not in (SheetTypeEnum.WorkSheet,):
            skipped.append((name, Message("不是数据工作表（图表、宏表等），未导入")))
            continue
        if info.visible != SheetVisibleEnum.Visible:  # never read unless nothing else has the list
            skipped.append((name, Message(HIDDEN_REASON if info.visible == SheetVisibleEnum.Hidden else VERY_HIDDEN_REASON)))
            hidden.append(name)
            continue
        table = _sheet_table(_sheet(workbook, name), name, fields, min_matches, meta)
        if table is None:
            skipped.append((name, Message(NO_HEADER_REASON)))
            continue
        tables.append(table)
    if not tables:
        with_header = [
            name for name in hidden
            if _find_header(_numbered_excel_rows(_sheet(workbook, name)), fields, min_matches) is not None
        ]
        if with_header:
            names = "、".join(f"“{n}”" for n in with_header)
            raise HeaderNotFound(Message(
                "名单只在隐藏的工作表%(names)s中：隐藏的工作表不导入；如需导入，请在 Excel 中取消隐藏后重新上传", names=names
            ))
        raise HeaderNotFound(_no_header_message())
    return Workbook(tables, skipped, source="xlsx", date1904=meta.date1904)


def _sheet(workbook, name: str):
    """Return a calamine sheet by name.

    :raises ReadError: the sheet cannot be read.
    """
    try:
        return workbook.get_sheet_by_name(name)
    except Exception as exc:  # noqa: BLE001 - calamine raises several error types
        raise ReadError(Message("无法读取工作表“%(sheet)s”：工作表已损坏，请在 Excel 中打开后另存再上传", sheet=name)) from None


def _sheet_table(sheet, name: str, fields: frozenset[str], min_matches: int, meta: _OoxmlMeta) -> Table | None:
    """Return the table of one visible sheet, or ``None`` when it has no header."""
    start_col = sheet.start[1] if sheet.start else 0
    rows = _numbered_excel_rows(sheet)
    errors = meta.errors(name)
    if errors:
        rows = _with_errors(rows, errors, start_col)
    merges = list(sheet.merged_cell_ranges or ())
    if merges:
        rows = _with_merges(rows, merges, start_col)
    found = _find_header(rows, fields, min_matches)
    if found is None:
        return None
    (header_row, header_cells), columns, group_cells = found
    columns, groups = _grouped_columns(list(header_cells), group_cells, fields, columns)
    header = _header_names(list(header_cells), groups)
    last_row = sheet.end[0] + 1 if sheet.end else header_row
    return Table(
        header=header,
        header_row=header_row,
        columns=columns,
        rows=_data_rows(rows, len(header)),
        total=max(0, last_row - header_row),
        source="xlsx",
        sheet=name,
        unused=_unused_columns(header, columns, start_col),
        date1904=meta.date1904,
    )


def _numbered_excel_rows(sheet) -> Iterator[Row]:
    """Yield ``(Excel row number, cells)`` for the rows of a calamine sheet, from its
    first non-blank row on.

    ``iter_rows`` yields either every row from the sheet's top or only those of the
    used range, whose first row calamine reports at ``sheet.start`` (0-based): when
    at least that many blank rows come first they are the sheet's own rows.
    """
    start = sheet.start[0] if sheet.start else 0
    leading = 0
    iterator = iter(sheet.iter_rows())
    for cells in iterator:
        if is_blank(cells):
            leading += 1
            continue
        first = leading + 1 if start > 0 and leading >= start else leading + start + 1
        yield first, cells
        yield from enumerate(iterator, start=first + 1)
        return


def _with_errors(rows: Iterator[Row], errors: dict[int, dict[int, str]], start_col: int) -> Iterator[Row]:
    """Put an :class:`ExcelError` in each error cell and a :class:`FormulaCell` in each
    formula cell without a saved result (calamine reads both as empty)."""
    for number, cells in rows:
        found = errors.get(number)
        if found:
            cells = list(cells)
            for col, code in found.items():
                j = col - start_col
                if 0 <= j:
                    if j >= len(cells):
                        cells.extend([""] * (j + 1 - len(cells)))
                    elif isinstance(code, FormulaCell) and not is_blank([cells[j]]):
                        continue  # calamine found a value after all
                    cells[j] = code if isinstance(code, FormulaCell) else ExcelError(code)
        yield number, cells


def _with_merges(rows: Iterator[Row], merges: list, start_col: int) -> Iterator[Row]:
    """Give each merged range's value (its top-left cell) to every cell it covers, as
    Excel shows it. Ranges are calamine's ``((row, col), (row, col))``, 0-based.

    Only the rows and columns that exist are touched: a range declared over a whole
    column costs nothing beyond the rows read.
    """
    pending = sorted(merges)
    active: list[tuple[int, int, int, object]] = []  # (last row, first col, last col, value)
    position = 0
    for number, cells in rows:
        r = number - 1
        active = [m for m in active if m[0] >= r]
        while position < len(pending) and pending[position][0][0] <= r:
            (r0, c0), (r1, c1) = pending[position]
            position += 1
            if r1 < r or (r1 == r0 and c1 == c0):
                continue
            j = c0 - start_col
            value = cells[j] if r0 == r and 0 <= j < len(cells) else ""
            active.append((r1, c0, c1, value))
        if active:
            cells = list(cells)
            for _last, c0, c1, value in active:
                for j in range(max(c0 - start_col, 0), min(c1 - start_col + 1, len(cells))):
                    cells[j] = value
        yield number, cells


_MAIN_NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_REL_NS = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_PKG_REL_NS = "{http://schemas.openxmlformats.org/package/2006/relationships}"
_CELL_REF = re.compile(r"^([A-Z]+)(\d+)$")


class _OoxmlMeta:
    """What python-calamine does not tell of an .xlsx: the date system and the error
    cells. Read from the package's XML as a stream (the cells are never all held)."""

    def __init__(self, archive: zipfile.ZipFile | None, date1904: bool, paths: dict[str, str]) -> None:
        self.archive = archive
        self.date1904 = date1904
        self.paths = paths

    @classmethod
    def read(cls, data: bytes) -> _OoxmlMeta:
        """Read the workbook part of an .xlsx/.xlsm (other formats: nothing known)."""
        try:
            archive = zipfile.ZipFile(io.BytesIO(data))
            workbook = ElementTree.fromstring(archive.read("xl/workbook.xml"))
            rels = ElementTree.fromstring(archive.read("xl/_rels/workbook.xml.rels"))
        except (zipfile.BadZipFile, KeyError, ElementTree.ParseError, OSError):
            return cls(None, False, {})
        pr = workbook.find(f"{_MAIN_NS}workbookPr")
        date1904 = pr is not None and pr.get("date1904", "0").lower() in ("1", "true")
        targets = {r.get("Id"): r.get("Target", "") for r in rels.iter(f"{_PKG_REL_NS}Relationship")}
        paths = {}
        for sheet in workbook.iter(f"{_MAIN_NS}sheet"):
            target = targets.get(sheet.get(f"{_REL_NS}id"), "")
            if target:
                path = target.lstrip("/") if target.startswith("/") else str(PurePosixPath("xl") / target)
                paths[sheet.get("name")] = path
        return cls(archive, date1904, paths)

    def errors(self, sheet_name: str) -> dict[int, dict[int, str | FormulaCell]]:
        """Return ``{Excel row number: {0-based column: error code or FormulaCell}}`` of
        a sheet: the error cells and the formula cells saved without a result.

        The sheet's XML is scanned in chunks for an error cell (``t="e"``) or a formula
        (``<f``) first; only a sheet that has one is parsed (as a stream).
        """
        path = self.paths.get(sheet_name)
        if self.archive is None or path is None or not self._has_error_cells(path):
            return {}
        found: dict[int, dict[int, str]] = {}
        with self.archive.open(path) as stream:
            for _event, element in ElementTree.iterparse(stream):
                if element.tag == f"{_MAIN_NS}c" and element.get("t") == "e":
                    match = _CELL_REF.match(element.get("r") or "")
                    value = element.find(f"{_MAIN_NS}v")
                    if match and value is not None and value.text:
                        found.setdefault(int(match.group(2)), {})[_column_index(match.group(1))] = value.text
                elif element.tag == f"{_MAIN_NS}c" and (formula := element.find(f"{_MAIN_NS}f")) is not None:
                    match = _CELL_REF.match(element.get("r") or "")
                    value = element.find(f"{_MAIN_NS}v")
                    inline = element.find(f"{_MAIN_NS}is")
                    if match and inline is None and (value is None or not value.text):
                        found.setdefault(int(match.group(2)), {})[_column_index(match.group(1))] = FormulaCell(
                            "=" + (formula.text or ""))
                elif element.tag == f"{_MAIN_NS}row":
                    element.clear()
        return found

    def _has_error_cells(self, path: str) -> bool:
        try:
            with self.archive.open(path) as stream:
                tail = b""
                while chunk := stream.read(1 << 20):
                    window = tail + chunk
                    if b't="e"' in window or b"<f>" in window or b"<f " in window:
                        return True
                    tail = chunk[-8:]
        except KeyError:
            return False
        return False


def _column_index(letters: str) -> int:
    """Return the 0-based index of Excel column letters (A → 0, AB → 27)."""
    index = 0
    for char in letters:
        index = index * 26 + ord(char) - 64
    return index - 1


def _numbered_csv_rows(reader) -> Iterator[Row]:
    """Yield ``(line number, cells)`` per CSV record (a quoted line break inside a
    cell makes a record span lines: it is numbered by its first line).

    :raises ReadError: for a malformed record (may come in the middle of an import).
    """
    line = 1
    try:
        for cells in reader:
            yield line, cells
            line = reader.line_num + 1
    except csv.Error as exc:
        raise ReadError(Message("CSV 文件格式有误（第%(line)s行）：%(fault)s", line=line, fault=csv_fault(exc))) from None


def csv_fault(exc: Exception) -> Message:
    """The reason of a CSV reader's (English) error, for the clerk (a Message)."""
    text = str(exc).lower()
    if "field larger than field limit" in text:
        return Message("单元格内容过长，多半是某个引号没有配对（一个单元格吞进了后面的很多行）")
    if "nul" in text:
        return Message("含有空字符（二进制内容），不是文本文件")
    if "new-line" in text or "newline" in text or "eof" in text or "quot" in text:
        return Message("引号没有配对，或单元格内的换行未加引号")
    return Message("无法按 CSV 格式读取，请在 Excel 中打开后另存为 CSV（逗号分隔）或 .xlsx")


def separator_of(text: str | bytes) -> str:
    """The separator of a CSV/text file from its first 4 KB: a tab when there are more
    tabs than commas (Excel's "Unicode text"), else a comma."""
    head = text[:4096]
    tab, comma = ("\t", ",") if isinstance(head, str) else (b"\t", b",")
    return "\t" if head.count(tab) > head.count(comma) else ","


def _read_csv(raw: bytes, fields: frozenset[str], min_matches: int) -> Table:
    try:
        decoded = textfile.decode(raw)
    except textfile.DecodeError as exc:
        raise ReadError(as_message(exc.args[0])) from None
    text, encoding = decoded.text, decoded.encoding
    if "\x00" in text:
        raise ReadError(Message("文件含有二进制内容，不是 CSV 文本文件：Excel 文件请保存为 .xlsx 后上传"))
    dialect = csv.excel_tab if separator_of(text) == "\t" else csv.excel
    rows = _numbered_csv_rows(csv.reader(io.StringIO(text, newline=""), dialect))
    found = _find_header(rows, fields, min_matches)
    if found is None:
        raise HeaderNotFound(_no_header_message())
    (header_row, header_cells), columns, group_cells = found
    columns, groups = _grouped_columns(list(header_cells), group_cells, fields, columns)
    header = _header_names(list(header_cells), groups)
    return Table(
        header=header,
        header_row=header_row,
        columns=columns,
        rows=_data_rows(rows, len(header)),
        total=max(0, text.count("\n") + (not text.endswith("\n")) - header_row),
        source="csv",
        encoding=encoding,
        unused=_unused_columns(header, columns, None),
    )


def _no_header_message() -> Message:
    return Message("在文件前%(rows)s行中找不到表头：文件类型不对，或表头的列名无法识别", rows=HEADER_SEARCH_ROWS)
