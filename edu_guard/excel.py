"""Writing Excel workbooks (Excel 导出): the one writer every .xlsx the product makes
goes through (openpyxl).

What it guarantees, for every cell of every export:

- **Text stays text.** A value that begins with ``=``, ``+``, ``-``, ``@``, a tab or a
  carriage return is never a formula: the cell is stored as a string
  (``data_type = "s"``) with Excel's quote prefix (the ``'`` a user types), so neither
  opening the file nor editing the cell runs it. A name like ``=HYPERLINK(…)`` imported
  into the registry comes out as that text (the "CSV/formula injection" of OWASP).
- **IDs and long codes stay text**: strings are never turned into numbers, and an
  integer of more than 11 digits (an ID number or a bank account that came in as a
  number) is written as text, since Excel keeps only 15 significant digits and shows
  12 or more in scientific notation.
- Dates are dates (``yyyy-mm-dd``), Decimal yuan keep two places (``0.00``), other
  Decimals keep the places they have (万元 with four: ``0.0000``).
- A sheet has a title row (bold, merged across the table), a bold header, 合计 rows in
  bold where a table has sums, column widths from the content (a CJK character counts
  two), and the panes frozen below the header.
- A :class:`~edu_guard.i18n.Message` is written as its text in the current language
  (the downloader's; an official workbook passes ``msg.chinese()``).
- Control characters that XML cannot hold (other than tab, CR, LF) are dropped from
  text rather than failing the export.

Large sheets (a comparison run's rows) use openpyxl's write-only mode (``streaming``):
the same cell rules, widths from the header and the first rows.
"""

from __future__ import annotations

import io
import re
from collections import UserString
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

# openpyxl (0.2 s to import) is imported when a workbook is made, not when the app
# starts: most commands (the household comparison, imports) never write one.

#: First characters that make a spreadsheet read a text as a formula (or run it).
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
#: Integers with more digits than this are written as text.
MAX_NUMBER_DIGITS = 11
#: Column widths (in characters) are kept between these.
MIN_WIDTH, MAX_WIDTH = 6, 50
#: Rows looked at to size the columns of a streaming sheet.
SIZING_ROWS = 200

#: Control characters that XML 1.0 cannot hold (openpyxl's ``ILLEGAL_CHARACTERS_RE``).
ILLEGAL_CHARACTERS_RE = re.compile(r"[\000-\010]|[\013-\014]|[\016-\037]")


def display_width(value: Any) -> int:
    """The width of ``value`` as printed, in Latin characters (a CJK character is two)."""
    if value is None:
        return 0
    if isinstance(value, (date, datetime)):
        return 10
    text = str(value)
    return sum(2 if ord(ch) > 0x2E7F else 1 for ch in text)


def _prepare(cell, value: Any) -> None:
    """Set ``cell`` to ``value`` by this module's rules (text as text, formats)."""
    if isinstance(value, bool):
        value = "是" if value else "否"
    elif isinstance(value, UserString):  # an edu_guard.i18n.Message: its text now (a document passes .chinese())
        value = str(value)
    if isinstance(value, int) and len(str(abs(value))) > MAX_NUMBER_DIGITS:
        value = str(value)
    if isinstance(value, str):
        value = ILLEGAL_CHARACTERS_RE.sub("", value)  # control characters XML cannot hold
        cell.value = value
        cell.data_type = "s"  # openpyxl would make "=…" a formula
        if value.startswith(FORMULA_TRIGGERS):
            cell.quotePrefix = True
        return
    cell.value = value
    if isinstance(value, datetime):
        cell.number_format = "yyyy-mm-dd hh:mm"
    elif isinstance(value, date):
        cell.number_format = "yyyy-mm-dd"
    elif isinstance(value, Decimal):
        places = max(0, -value.as_tuple().exponent) if value.is_finite() else 0
        cell.number_format = "0." + "0" * places if places else "0"


class Sheet:
    """A worksheet being written: :meth:`title`, :meth:`header`, :meth:`row`,
    :meth:`total`; widths are set by :meth:`Workbook.to_bytes`."""

    def __init__(self, workbook: "Workbook", ws, widths: Sequence[int] | None):
        from openpyxl.styles import Alignment, Font

        self._bold, self._title_font, self._centre = Font(bold=True), Font(bold=True, size=14), Alignment(horizontal="center")
        self._book = workbook
        self.ws = ws
        self._widths = list(widths) if widths else None
        self._seen: list[int] = []  # widest value per column so far
        self._rows = 0
        self._header_row: int | None = None
        self._text_columns: set[int] = set()
        self._sized = False

    def _measure(self, values: Sequence[Any]) -> None:
        if self._book.streaming and self._rows > SIZING_ROWS:
            return
        for i, value in enumerate(values):
            if i >= len(self._seen):
                self._seen.append(0)
            self._seen[i] = max(self._seen[i], display_width(value))

    def _write(self, values: Sequence[Any], font: Any = None, text_format: bool = False) -> None:
        if self._book.streaming:
            cells = []
            for i, value in enumerate(values):
                cell = self._book.write_only_cell(self.ws)
                _prepare(cell, value)
                if font is not None:
                    cell.font = font
                if text_format and i in self._text_columns:
                    cell.number_format = "@"
                cells.append(cell)
            self.ws.append(cells)
        else:
            r = self._rows + 1
            for i, value in enumerate(values, start=1):
                cell = self.ws.cell(row=r, column=i)
                _prepare(cell, value)
                if font is not None:
                    cell.font = font
                if text_format and (i - 1) in self._text_columns:
                    cell.number_format = "@"
        self._rows += 1

    def _size_streaming(self) -> None:
        """A write-only sheet takes its widths before its first row."""
        if self._book.streaming and not self._sized:
            self._sized = True
            for i, width in enumerate(self._widths or [], start=1):
                self.ws.column_dimensions[self._book.column_letter(i)].width = width

    def title(self, text: str, span: int) -> "Sheet":
        """Write the title row: ``text`` in bold, merged over ``span`` columns."""
        self._size_streaming()
        self._write([text], font=self._title_font)
        if not self._book.streaming:
            if span > 1:
                self.ws.merge_cells(start_row=self._rows, start_column=1, end_row=self._rows, end_column=span)
            self.ws.cell(row=self._rows, column=1).alignment = self._centre
        return self

    def header(self, names: Sequence[str], text_columns: Iterable[int] = ()) -> "Sheet":
        """Write the header row in bold; the panes are frozen below it.

        :param text_columns: 0-based columns formatted as text (``@``) in the rows
            after it, so a value retyped there (an ID number) stays text.
        """
        self._size_streaming()
        self._text_columns = set(text_columns)
        self._write(list(names), font=self._bold)
        self._measure(names)
        self._header_row = self._rows
        if self._book.streaming:
            self.ws.freeze_panes = f"A{self._rows + 1}"
        else:
            self.ws.freeze_panes = self.ws.cell(row=self._rows + 1, column=1)
        return self

    def row(self, values: Sequence[Any]) -> "Sheet":
        """Write one row of values (text, numbers, Decimal, dates, ``None``)."""
        self._size_streaming()
        self._write(list(values), text_format=True)
        self._measure(values)
        return self

    def rows(self, rows: Iterable[Sequence[Any]]) -> "Sheet":
        """Write many rows (:meth:`row` each)."""
        for values in rows:
            self.row(values)
        return self

    def total(self, values: Sequence[Any]) -> "Sheet":
        """Write a 合计 row in bold (``values`` usually start with ``"合计"``)."""
        self._size_streaming()
        self._write(list(values), font=self._bold)
        self._measure(values)
        return self

    def merge(self, row: int, first: int, last: int) -> "Sheet":
        """Merge the cells of ``row`` (1-based) from column ``first`` to ``last`` (1-based)."""
        self.ws.merge_cells(start_row=row, start_column=first, end_row=row, end_column=last)
        return self

    def highlight_column(self, column: int, colour: str = "FFF2CC") -> "Sheet":
        """Fill the data cells of ``column`` (0-based) in ``colour`` and wrap their
        text (the reasons of a rejects workbook)."""
        from openpyxl.styles import Alignment, PatternFill

        fill, wrap = PatternFill("solid", fgColor=colour), Alignment(wrap_text=True)
        first = (self._header_row or 0) + 1
        for (cell,) in self.ws.iter_rows(min_row=first, min_col=column + 1, max_col=column + 1):
            cell.fill, cell.alignment = fill, wrap
        return self

    def _apply_widths(self) -> None:
        if self._book.streaming:
            return
        widths = self._widths or [max(MIN_WIDTH, min(MAX_WIDTH, w + 2)) for w in self._seen]
        for i, width in enumerate(widths, start=1):
            self.ws.column_dimensions[self._book.column_letter(i)].width = width


class Workbook:
    """An .xlsx being made. ``Workbook().sheet("名单")`` gives a :class:`Sheet`;
    :meth:`to_bytes` returns the file.

    :param streaming: openpyxl's write-only mode, for sheets of many thousand rows;
        such a sheet's widths must be given to :meth:`sheet` (they cannot be measured
        after the rows are out), titles are not merged.
    """

    def __init__(self, streaming: bool = False):
        from openpyxl import Workbook as OpenpyxlWorkbook
        from openpyxl.cell import WriteOnlyCell
        from openpyxl.utils import get_column_letter

        self.write_only_cell, self.column_letter = WriteOnlyCell, get_column_letter
        self.streaming = streaming
        self._wb = OpenpyxlWorkbook(write_only=streaming)
        self._sheets: list[Sheet] = []

    def sheet(self, name: str, widths: Sequence[int] | None = None) -> Sheet:
        """Add a worksheet called ``name`` (cut to Excel's 31 characters).

        :param widths: column widths in characters; measured from the content when
            not given (not for a streaming workbook).
        """
        name = name[:31]
        if not self.streaming and not self._sheets:
            ws = self._wb.active
            ws.title = name
        else:
            ws = self._wb.create_sheet(name)
        sheet = Sheet(self, ws, widths)
        self._sheets.append(sheet)
        return sheet

    def to_bytes(self) -> bytes:
        """Return the workbook as .xlsx bytes."""
        for sheet in self._sheets:
            sheet._apply_widths()
        out = io.BytesIO()
        self._wb.save(out)
        return out.getvalue()


def table(title: str, header: Sequence[str], rows: Iterable[Sequence[Any]], *, sheet: str | None = None,
          totals: Sequence[Any] | None = None, text_columns: Iterable[int] = ()) -> bytes:
    """Return a one-sheet workbook: the title row, the header, the rows and, when
    given, a 合计 row.

    :param totals: the 合计 row's values (the first is usually ``"合计"``).
    """
    book = Workbook()
    ws = book.sheet(sheet or title).title(title, len(header)).header(header, text_columns).rows(rows)
    if totals is not None:
        ws.total(totals)
    return book.to_bytes()
