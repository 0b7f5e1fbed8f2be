"""Registry services: import a file (SPEC 2.1), build the rejects workbook, load the
sample county.

:func:`import_file` is the one entry point of the CLI and the web UI. It reads the
file, loads every row through the kind's schema, lets the kind's importer upsert the
valid rows, and records an :class:`ImportRun` with the counts and the rejected rows.
It flushes and never commits: the caller commits once, or rolls back (STYLE rule 5).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import current_app
from marshmallow import ValidationError

from edu_guard import excel
from edu_guard.auth.audit import acting_user_id
from edu_guard.db import db
from edu_guard.registry import readers
from edu_guard.registry.importers import Importer, LoadedRow, importers
from edu_guard.registry.models import ImportRun
from edu_guard.registry.normalize import field_label
from edu_guard.registry.schemas import RowLoader

#: ``progress(rows done, total rows)``; total is an upper bound until the last call.
Progress = Callable[[int, int], None]
#: Rows between two progress calls.
PROGRESS_EVERY = 1000


class ImportFileError(Exception):
    """The file cannot be imported at all; nothing was written.

    Raised when the file is unreadable, of the wrong kind or lacks a required column;
    ``str(exc)`` is a Chinese message for the clerk.
    """


@dataclass
class ImportResult:
    """The outcome of one import."""

    kind: str
    filename: str
    sha256: str
    #: Data rows read (blank rows and the footer not counted).
    rows: int
    created: int
    updated: int
    unchanged: int
    #: ``{"row", "column", "reason", "values"}`` per refused row, in row order.
    rejects: list[dict] = field(default_factory=list)
    #: The file's header, in order.
    header: list[str] = field(default_factory=list)
    import_run_id: int | None = None

    def summary(self) -> dict:
        """Return the result as the JSON the CLI prints (rejects without their values)."""
        return {
            "kind": self.kind,
            "rows": self.rows,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "rejected": [{"row": r["row"], "column": r["column"], "reason": r["reason"]} for r in self.rejects],
        }


def import_file(
    kind: str,
    source: bytes | str | Path,
    filename: str | None = None,
    *,
    user=None,
    progress: Progress | None = None,
) -> ImportResult:
    """Import a file of ``kind`` into the registry; flush, never commit.

    Valid rows are upserted by ID number (by 学校标识码 for schools); rejected rows are
    reported with their row number, the file's column name and a Chinese reason. An
    :class:`ImportRun` records the file (name, sha256), the user and the counts.

    :param kind: one of :data:`edu_guard.registry.importers.IMPORTERS` (``schools``,
        ``roster``, ``status-changes``, ``families``, ``disabled``).
    :param source: the file's bytes or its path.
    :param filename: the name the clerk gave the file (default: the path's name); its
        suffix picks the reader (.xlsx or .csv).
    :param user: who imports (recorded on the run and the audit rows); the signed-in
        user by default, ``None`` from the CLI.
    :param progress: called with (rows done, total) while rows are read.
    :return: the counts and the rejects.
    :raises ImportFileError: the file is unreadable, of the wrong kind, or lacks a
        required column; nothing was written (or, for a CSV found malformed further
        down, the caller must roll back what was flushed, as the CLI and web views do).
    """
    if kind not in importers():
        raise ImportFileError(f"未知的导入类型“{kind}”（可选：{'、'.join(importers())}）")
    importer_class = importers()[kind]
    if isinstance(source, (str, Path)):
        path = Path(source)
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise ImportFileError(f"无法打开文件 {path}：{exc.strerror or exc}") from None
        filename = filename or path.name
    else:
        data = source
        filename = filename or "upload"
    if not data:
        raise ImportFileError(f"文件“{filename}”是空的")
    fields = importer_class.fields()
    try:
        table = readers.read_table(data, filename, fields)
    except readers.HeaderNotFound as exc:
        expected = "、".join("或".join(field_label(f) for f in group) for group in importer_class.required_columns)
        raise ImportFileError(
            f"{importer_class.label}“{filename}”无法导入：{exc}（{importer_class.label}应有 {expected} 等列）"
        ) from None
    except readers.ReadError as exc:
        raise ImportFileError(f"{importer_class.label}“{filename}”无法导入：{exc}") from None
    missing = [group for group in importer_class.required_columns if not any(f in table.columns for f in group)]
    if missing:
        names = "、".join("或".join(field_label(f) for f in group) for group in missing)
        raise ImportFileError(
            f"{importer_class.label}“{filename}”缺少必需的列：{names}（第{table.header_row}行的表头中没有找到）；未导入任何数据"
        )

    header = _unique_header(table.header)
    schema = importer_class.schema_class()
    loader = RowLoader(schema, memoise=fields - importer_class.unique_fields)
    column_of = {f: header[i] if i < len(header) else field_label(f) for f, i in table.columns.items()}

    run = ImportRun(
        kind=kind,
        filename=filename[:255],
        sha256=hashlib.sha256(data).hexdigest(),
        user_id=acting_user_id(user),
        header=header,
    )
    db.session.add(run)
    db.session.flush()
    del data
    importer: Importer = importer_class(user_id=run.user_id, import_run_id=run.id)
    try:
        rejects, rows_read = _import_rows(table, header, loader, importer, column_of, progress)
    except readers.ReadError as exc:  # a malformed CSV record further down: the caller rolls back
        raise ImportFileError(f"{importer_class.label}“{filename}”无法导入：{exc}；未导入任何数据") from None
    outcome = importer.finish()
    rejects.sort(key=lambda r: r["row"])
    run.rows = rows_read
    run.created, run.updated, run.unchanged = outcome.created, outcome.updated, outcome.unchanged
    run.rejects = rejects
    db.session.flush()
    db.session.expire_all()
    if progress:
        progress(rows_read, rows_read)
    return ImportResult(
        kind=kind,
        filename=run.filename,
        sha256=run.sha256,
        rows=run.rows,
        created=run.created,
        updated=run.updated,
        unchanged=run.unchanged,
        rejects=rejects,
        header=header,
        import_run_id=run.id,
    )


def _import_rows(
    table: readers.Table,
    header: list[str],
    loader: RowLoader,
    importer: Importer,
    column_of: dict[str, str],
    progress: Progress | None,
) -> tuple[list[dict], int]:
    """Load every data row through the schema and hand the valid ones to the importer
    in chunks; return the rejects and the number of rows read."""
    columns = list(table.columns.items())
    field_order = {f: i for f, i in columns}
    chunk_size = importer.chunk_size
    chunk: list[LoadedRow] = []
    rejects: list[dict] = []
    done = 0

    def write_chunk() -> None:
        importer.apply(chunk)
        if importer.rejects:
            cells_of = {r.row: r.cells for r in chunk}
            for row, field_name, reason in importer.rejects:
                rejects.append(
                    _reject(row, [(column_of.get(field_name, field_label(field_name)), reason)], cells_of[row], header)
                )
            importer.rejects.clear()
        chunk.clear()
        if progress:
            progress(done, max(table.total, done))

    for number, cells in table.rows:
        raw = {}
        for f, i in columns:
            value = cells[i]
            if value is None or (value.__class__ is str and (not value or value.isspace())):
                continue
            raw[f] = value
        try:
            data = loader.load(raw)
        except ValidationError as exc:
            errors = importer.adjust_errors(raw, exc.normalized_messages())
            reasons = [
                (column_of.get(f, field_label(f)), message)
                for f in sorted(errors, key=lambda f: field_order.get(f, len(field_order)))
                for message in errors[f]
            ]
            rejects.append(_reject(number, reasons, cells, header))
        else:
            chunk.append(LoadedRow(number, data, cells))
        done += 1
        if chunk_size and len(chunk) >= chunk_size:
            write_chunk()
        elif progress and done % PROGRESS_EVERY == 0:
            progress(done, max(table.total, done))
    write_chunk()
    return rejects, done


def _reject(row: int, reasons: list[tuple[str, str]], cells: list, header: list[str]) -> dict:
    """Return the reject entry of a row: columns, reasons and the original values."""
    columns = list(dict.fromkeys(column for column, _ in reasons))
    return {
        "row": row,
        "column": "、".join(columns),
        "reason": "；".join(f"{column}{message}" for column, message in reasons),
        "values": {name: _cell_json(cells[i]) if i < len(cells) else None for i, name in enumerate(header)},
    }


def _cell_json(value: Any) -> Any:
    """Return a cell value as JSON-ready data (dates as ISO text, numbers kept)."""
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if value is None or isinstance(value, (str, bool, int, float)):
        return value
    return str(value)


def _unique_header(header: list[str]) -> list[str]:
    """Return the header with blank or repeated names made unique (列5, 姓名(2))."""
    seen: dict[str, int] = {}
    out = []
    for index, name in enumerate(header):
        name = name or f"列{index + 1}"
        if name in seen:
            seen[name] += 1
            name = f"{name}({seen[name]})"
        else:
            seen[name] = 1
        out.append(name)
    return out


# --- rejects workbook ---------------------------------------------------------------

REASON_HEADER = "错误原因"
ROW_HEADER = "原行号"


def rejects_workbook(run: ImportRun | ImportResult) -> bytes:
    """Return an .xlsx of the rejected rows: a title row, the original header plus 原行号
    and 错误原因, one line per rejected row with its original values.

    The clerk fixes them and re-uploads the file (the importer finds the header below
    the title). Numbers stay numbers (a numeric ID cell shows what Excel kept); dates
    are written as ``2010-05-03`` text, which the importer reads back as dates; the
    value columns are formatted as text so that a retyped ID number stays text. Text
    that looks like a formula stays text (:mod:`edu_guard.excel`).

    :param run: a recorded :class:`ImportRun` or the :class:`ImportResult` of an import.
    :return: the workbook's bytes.
    """
    header = list(run.header or [])
    rejects = run.rejects or []
    book = excel.Workbook()
    columns = [*header, ROW_HEADER, REASON_HEADER]
    sheet = book.sheet("未导入的行", widths=[14] * len(header) + [8, 60])
    sheet.title(f"未导入的行（{run.filename}，共{len(rejects)}行）", len(columns))
    sheet.header(columns, text_columns=range(len(header)))
    for reject in rejects:
        values = reject.get("values") or {}
        sheet.row([values.get(name) for name in header] + [reject["row"], reject["reason"]])
    sheet.highlight_column(len(columns) - 1)
    return book.to_bytes()


# --- sample county ------------------------------------------------------------------

#: The sample county's files in load order: (kind, file name).
DEMO_FILES = (
    ("schools", "schools.csv"),
    ("roster", "roster_2021_spring.xlsx"),
    ("roster", "roster_2021_spring_menghan.csv"),
    ("status-changes", "status_changes_2021.csv"),
    ("families", "monitoring_households_2021.xlsx"),
    ("disabled", "disabled_children_2021.csv"),
)


def demo_dir() -> Path:
    """Return the folder of the sample county's files (景洪市, 2021 spring term)."""
    return Path(__file__).resolve().parent.parent / "demo" / "county_2021"


def load_demo(
    progress: Callable[[str, ImportResult | None], None] | None = None,
) -> list[tuple[str, str, ImportResult | None]]:
    """Import the sample county once; flush, never commit.

    A file whose sha256 already has an import run of its kind is skipped, so a second
    call changes nothing. The sample's ID numbers carry check digits made with an
    off-by-one weighting (a defect of the sample generator), so they are accepted
    here; real imports check GB 11643 strictly.

    :param progress: called with (file name, result or ``None`` when skipped).
    :return: ``(kind, file name, result or None)`` per file, in load order.
    """
    folder = demo_dir()
    out = []
    for kind, name in DEMO_FILES:
        data = (folder / name).read_bytes()
        digest = hashlib.sha256(data).hexdigest()
        seen = db.session.execute(
            sa.select(ImportRun.id).where(ImportRun.kind == kind, ImportRun.sha256 == digest).limit(1)
        ).first()
        result = None if seen else import_file(kind, data, name)
        out.append((kind, name, result))
        if progress:
            progress(name, result)
    return out


def add_guardian(child, *, name: str, relation: str | None = None, phone: str | None = None,
                 address: str | None = None, id_number: str | None = None, user=None):
    """Register a guardian (监护人) of ``child`` by hand, with an audit row.

    :param address: 住址 (by default the child's, e.g. the register's 户籍住址).
    :param id_number: the guardian's resident ID number (checked with python-stdnum).

    :raises ValueError: the name is empty.
    :return: the flushed :class:`~edu_guard.registry.models.Guardian`.
    """
    from edu_guard.auth import audit
    from edu_guard.db import db
    from edu_guard.registry.models import Guardian

    name = (name or "").strip()
    if not name:
        raise ValueError("请填写监护人姓名")
    id_number = (id_number or "").strip().upper() or None
    if id_number:
        from edu_guard.registry.schemas import validate_id_number

        try:
            id_number = validate_id_number(id_number)
        except ValueError as exc:
            raise ValueError(f"监护人身份证号 {id_number} 无效：{exc}") from None
    guardian = Guardian(child=child, name=name, relation=(relation or "").strip() or None,
                        phone=(phone or "").strip() or None,
                        address=(address or "").strip() or getattr(child, "address", None) or None, id_number=id_number)
    db.session.add(guardian)
    db.session.flush()
    audit.record("create", guardian, user=user)
    return guardian
