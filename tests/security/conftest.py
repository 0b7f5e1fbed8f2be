"""Helpers of the security tests: raw .xlsx files built from their XML, so that a
test can make a workbook no spreadsheet program would write (a lone far cell, a zip
bomb, millions of empty styled cells) without the cost of a writer library."""

from __future__ import annotations

import io
import zipfile

import pytest

_CT = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    "</Types>"
)
_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>'
    "</Relationships>"
)
_BOOK = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
    '<sheets><sheet name="花名册" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
_BOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>'
    "</Relationships>"
)
SHEET_PART = "xl/worksheets/sheet1.xml"


def sheet_xml(rows: str | bytes, dimension: str | None = None) -> bytes:
    """A worksheet part around ``rows`` (the ``<row>`` elements), with an optional
    ``<dimension ref>``."""
    dim = f'<dimension ref="{dimension}"/>' if dimension else ""
    head = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        f'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">{dim}<sheetData>'
    ).encode()
    body = rows.encode() if isinstance(rows, str) else rows
    return head + body + b"</sheetData></worksheet>"


def xlsx_from_sheet(sheet: bytes, level: int = 6) -> bytes:
    """A one-sheet workbook (sheet named 花名册) whose sheet part is ``sheet``."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=level) as z:
        z.writestr("[Content_Types].xml", _CT)
        z.writestr("_rels/.rels", _RELS)
        z.writestr("xl/workbook.xml", _BOOK)
        z.writestr("xl/_rels/workbook.xml.rels", _BOOK_RELS)
        z.writestr(SHEET_PART, sheet)
    return buf.getvalue()


def text_cell(ref: str, text: str) -> str:
    return f'<c r="{ref}" t="inlineStr"><is><t>{text}</t></is></c>'


def far_cell_xlsx(with_a1: bool) -> bytes:
    """The attack file: the only value (with ``with_a1``, a header in A1 too) in the
    sheet's last cell XFD1048576, the dimension declaring the whole sheet."""
    rows = ""
    if with_a1:
        rows += f'<row r="1">{text_cell("A1", "姓名")}</row>'
    rows += f'<row r="1048576">{text_cell("XFD1048576", "x")}</row>'
    return xlsx_from_sheet(sheet_xml(rows, "A1:XFD1048576"))


def roster_sheet(rows: int, columns: int = 25) -> bytes:
    """A roster sheet of ``rows`` pupils and ``columns`` columns (header in row 1):
    the size a big county's whole roster has."""
    from edu_guard.uploads import column_letters

    letters = [column_letters(c) for c in range(1, columns + 1)]
    names = ["姓名", "性别", "出生日期", "民族", "身份证件号", "学籍号", "学校名称", "年级", "班级"]
    header = "".join(text_cell(f"{letters[i]}1", names[i] if i < len(names) else f"备用{i}") for i in range(columns))
    parts = [f'<row r="1">{header}</row>']
    for r in range(2, rows + 2):
        cells = "".join(f'<c r="{letters[i]}{r}" t="inlineStr"><is><t>值{r}-{i}</t></is></c>' for i in range(columns))
        parts.append(f'<row r="{r}">{cells}</row>')
    return sheet_xml("".join(parts), f"A1:{letters[-1]}{rows + 1}")


@pytest.fixture
def rss_of():
    """Run ``code`` in a fresh Python and return ``(peak RSS in MB, its stdout)``:
    the memory an upload costs, measured where nothing else has grown the heap.

    The peak is the kernel's high-water mark of the new program (``VmHWM``, reset at
    exec); ``getrusage``'s ``ru_maxrss`` would include the forking test process."""
    import json
    import subprocess
    import sys

    def run(code: str) -> tuple[float, str]:
        wrapper = (
            code
            + "\nimport json, re\n"
            + "hwm = re.search(r'VmHWM:\\s+(\\d+) kB', open('/proc/self/status').read()).group(1)\n"
            + "print(json.dumps({'rss_mb': int(hwm) / 1024}))\n"
        )
        proc = subprocess.run([sys.executable, "-c", wrapper], capture_output=True, text=True, timeout=300)
        assert proc.returncode == 0, proc.stderr[-3000:]
        *out, last = proc.stdout.strip().splitlines()
        return json.loads(last)["rss_mb"], "\n".join(out)

    return run
