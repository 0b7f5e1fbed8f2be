"""Read import files into rows: Excel through python-calamine, CSV in UTF-8, UTF-8
with BOM or GB18030.

A :class:`Table` is what the importers see: the header found below any title rows,
the canonical fields it names, and the data rows with the row number the clerk sees
in Excel (1-based; for CSV the line number, header line = 1 when the file has no
title lines). Blank rows are skipped and reading stops at the footer
(填表人/审核人 …).

Cell values keep their spreadsheet type: calamine gives ``float`` for a numeric
cell, ``str`` for a text cell, ``date``/``datetime`` for a date cell. The importers
need that: an ID number in a numeric cell has already lost its last digits.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from edu_guard.registry.normalize import WHITESPACE, halfwidth, match_header

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


class ReadError(Exception):
    """The file cannot be read as a table; ``str(exc)`` is a Chinese message."""


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


def read_table(data: bytes | str | Path, filename: str, fields: frozenset[str], min_matches: int = 3) -> Table:
    """Find the table in an Excel or CSV file and return it with a row iterator.

    :param data: the file's bytes, or a path to it.
    :param filename: the file's name; its suffix picks the reader.
    :param fields: the canonical fields the importer knows (see
        :data:`edu_guard.registry.normalize.COLUMN_ALIASES`).
    :param min_matches: how many known column names make a row the header.
    :raises ReadError: when the file is not an Excel or CSV file, cannot be decoded or
        holds no row that looks like a header, or is refused by
        :func:`edu_guard.uploads.check_upload` (too many cells, rows or columns, too
        large inflated: the reader never lays out such a sheet).
    """
    from edu_guard.uploads import UploadRefused, check_upload

    try:
        check_upload(data, filename)
    except UploadRefused as exc:
        raise ReadError(str(exc)) from None
    suffix = Path(filename).suffix.lower()
    if suffix in EXCEL_SUFFIXES:
        return _read_excel(data, fields, min_matches)
    if suffix in CSV_SUFFIXES:
        raw = data if isinstance(data, bytes) else Path(data).read_bytes()
        return _read_csv(raw, fields, min_matches)
    raise ReadError(f"不支持的文件类型“{suffix or filename}”：请上传 Excel（.xlsx）或 CSV 文件")


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


def _find_header(rows: Iterator[Row], fields: frozenset[str], min_matches: int) -> tuple[Row, dict[str, int]] | None:
    """Scan the top rows for the header: the first with ``min_matches`` known names.

    Consumes ``rows`` up to and including the header.
    """
    needed = max(1, min(min_matches, len(fields)))
    scanned = 0
    for number, cells in rows:
        if is_blank(cells):
            continue
        columns = match_header(cells, fields)
        if len(columns) >= needed:
            return (number, cells), columns
        scanned += 1
        if scanned >= HEADER_SEARCH_ROWS:
            break
    return None


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


def _read_excel(data: bytes | str | Path, fields: frozenset[str], min_matches: int) -> Table:
    from python_calamine import CalamineWorkbook

    try:
        if isinstance(data, bytes):
            workbook = CalamineWorkbook.from_filelike(io.BytesIO(data))
        else:
            workbook = CalamineWorkbook.from_path(str(data))
    except Exception as exc:  # noqa: BLE001 - calamine raises several error types
        raise ReadError(f"无法读取 Excel 文件（文件已损坏或不是 Excel 格式）：{exc}") from None

    for sheet_name in workbook.sheet_names:
        try:
            sheet = workbook.get_sheet_by_name(sheet_name)
        except Exception as exc:  # noqa: BLE001
            raise ReadError(f"无法读取工作表“{sheet_name}”：{exc}") from None
        rows = _numbered_excel_rows(sheet)
        found = _find_header(rows, fields, min_matches)
        if found is None:
            continue
        (header_row, header_cells), columns = found
        header = [_header_text(c) for c in header_cells]
        while header and not header[-1]:
            header.pop()
        last_row = sheet.end[0] + 1 if sheet.end else header_row
        return Table(
            header=header,
            header_row=header_row,
            columns=columns,
            rows=_data_rows(rows, len(header)),
            total=max(0, last_row - header_row),
            source="xlsx",
            sheet=sheet_name,
        )
    raise HeaderNotFound(_no_header_message())


def _numbered_excel_rows(sheet) -> Iterator[Row]:
    """Yield ``(Excel row number, cells)`` for the rows of a calamine sheet.

    Whether ``iter_rows`` yields the blank rows above the used range differs between
    sheets, so the numbering is anchored on the first non-blank row, which calamine
    reports at ``sheet.start`` (0-based).
    """
    first_used = sheet.start[0] + 1 if sheet.start else 1
    iterator = iter(sheet.iter_rows())
    for cells in iterator:
        if not is_blank(cells):
            yield first_used, cells
            yield from enumerate(iterator, start=first_used + 1)
            return


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
        raise ReadError(f"CSV 文件格式有误（第{line}行）：{exc}") from None


def _decode(raw: bytes) -> tuple[str, str]:
    """Decode CSV bytes: UTF-8 (with or without BOM), else GB18030."""
    try:
        return raw.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return raw.decode("gb18030"), "gb18030"
    except UnicodeDecodeError:
        raise ReadError("无法识别 CSV 文件的编码：请另存为 UTF-8 或 GB18030（GBK）编码的 CSV") from None


def _read_csv(raw: bytes, fields: frozenset[str], min_matches: int) -> Table:
    text, encoding = _decode(raw)
    if "\x00" in text:
        raise ReadError("文件含有二进制内容，不是 CSV 文本文件：Excel 文件请保存为 .xlsx 后上传")
    head = text[:4096]
    dialect = csv.excel_tab if head.count("\t") > head.count(",") else csv.excel
    rows = _numbered_csv_rows(csv.reader(io.StringIO(text, newline=""), dialect))
    found = _find_header(rows, fields, min_matches)
    if found is None:
        raise HeaderNotFound(_no_header_message())
    (header_row, header_cells), columns = found
    header = [_header_text(c) for c in header_cells]
    while header and not header[-1]:
        header.pop()
    return Table(
        header=header,
        header_row=header_row,
        columns=columns,
        rows=_data_rows(rows, len(header)),
        total=max(0, text.count("\n") + (not text.endswith("\n")) - header_row),
        source="csv",
        encoding=encoding,
    )


def _no_header_message() -> str:
    return f"在文件前{HEADER_SEARCH_ROWS}行中找不到表头：文件类型不对，或表头的列名无法识别"
