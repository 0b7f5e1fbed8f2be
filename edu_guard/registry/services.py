"""Registry services: import a file (docs/domain.md §4), build the rejects workbook, load the
sample county.

:func:`import_file` is the one entry point of the CLI and the web UI. It reads the
file, loads every row through the kind's schema, lets the kind's importer upsert the
valid rows, and records an :class:`ImportRun` with the counts and the rejected rows.
It flushes and never commits: the caller commits once, or rolls back (docs/architecture.md).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from marshmallow import ValidationError

from edu_guard import excel
from edu_guard.auth import audit
from edu_guard.auth.audit import acting_county_code, acting_user_id
from edu_guard.db import db
from edu_guard.i18n import N_, Message, message_of
from edu_guard.registry import readers
from edu_guard.registry.identity import normalize_id
from edu_guard.registry.importers import Importer, LoadedRow, importers
from edu_guard.registry.models import ImportRun
from edu_guard.registry.normalize import as_message, field_label
from edu_guard.registry.schemas import RowLoader, validate_id_number
from edu_guard.registry.models import Guardian

#: ``progress(rows done, total rows)``; total is an upper bound until the last call.
Progress = Callable[[int, int], None]
#: Rows between two progress calls.
PROGRESS_EVERY = 1000


class ImportFileError(Exception):
    """The file cannot be imported at all; nothing was written.

    Raised when the file is unreadable, of the wrong kind or lacks a required column;
    its argument is a :class:`~edu_guard.i18n.Message` for the clerk (``str(exc)`` reads
    in the reader's language: Chinese in the CLI).
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
    #: ``{"row", "sheet", "column", "reason", "values"}`` per refused row, in row order
    #: (``sheet`` only when the file has several tables); ``column`` and ``reason`` are
    #: :class:`~edu_guard.i18n.Message` objects (shown in the reader's language).
    rejects: list[dict] = field(default_factory=list)
    #: The file's header, in order (of every sheet read, the names in order met).
    header: list[str] = field(default_factory=list)
    import_run_id: int | None = None
    #: What was read: sheets (name, header row, rows), sheets skipped with why, the
    #: encoding of a CSV, the date system, columns not imported (as text in the current
    #: language; :attr:`ImportRun.source` keeps them translatable).
    source: dict = field(default_factory=dict)
    #: ``{"row", "sheet", "column", "message"}`` of rows imported with a remark.
    warnings: list[dict] = field(default_factory=list)

    @property
    def skipped_rows(self) -> int:
        """Rows the file holds by design and the import passes over (e.g. the
        household heads of the 脱贫户 list): counted apart from imported and refused."""
        return sum(1 for w in self.warnings if w.get("skipped"))

    def counts_text(self) -> str:
        """``共 N 行；新增 …，更新 …，未变 …，未导入 …[，跳过 …]`` — every row counted once."""
        text = (f"共 {self.rows} 行；新增 {self.created}，更新 {self.updated}，"
                f"未变 {self.unchanged}，未导入 {len(self.rejects)}")
        return text + (f"，跳过 {self.skipped_rows}" if self.skipped_rows else "")

    def summary(self) -> dict:
        """Return the result as the JSON the CLI prints (rejects without their values;
        every text as it reads now: Chinese in the CLI)."""
        return _plain({
            "kind": self.kind,
            "rows": self.rows,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "rejected": [
                {k: r[k] for k in ("row", "sheet", "column", "reason") if k in r} for r in self.rejects
            ],
            "warnings": self.warnings,
            "read": self.source,
        })


def _plain(value):
    """``value`` with every :class:`~edu_guard.i18n.Message` in it as its text."""
    if isinstance(value, Message):
        return str(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def describe_source(source: dict | None) -> list[Message]:
    """Return the lines that tell the clerk what was read (Messages, in the reader's
    language): which sheet, which header row and which encoding, the sheets skipped with
    why and the columns not imported.

    :param source: :attr:`ImportResult.source` or :attr:`ImportRun.source`.
    """
    if not source:
        return []
    lines = []
    for sheet in source.get("sheets", []):
        if sheet.get("name"):
            lines.append(Message("读取工作表“%(sheet)s”：表头在第%(header_row)s行，数据 %(rows)s 行",
                                 sheet=sheet["name"], header_row=sheet["header_row"], rows=sheet["rows"]))
        else:
            lines.append(Message("读取文件：表头在第%(header_row)s行，数据 %(rows)s 行",
                                 header_row=sheet["header_row"], rows=sheet["rows"]))
    if source.get("encoding"):
        encoding = ENCODING_LABELS.get(source["encoding"], source["encoding"])
        lines.append(Message("CSV 编码：%(encoding)s", encoding=Message(encoding)))
    if source.get("date1904"):
        lines.append(Message("工作簿使用 1904 日期系统，日期序号按此换算"))
    for skipped in source.get("skipped", []):
        lines.append(Message("未导入工作表“%(sheet)s”：%(reason)s", sheet=skipped["name"],
                             reason=_translatable(skipped["reason"])))
    if source.get("unused_columns"):
        lines.append(Message("未导入的列：%(columns)s", columns=Message.join(source["unused_columns"], "、")))
    return lines


def _translatable(reason):
    """A stored reason as a Message: Messages as they are, text of runs recorded before
    reasons were kept as Messages looked up in the catalogue (it may be a known id)."""
    return reason if isinstance(reason, Message) or not reason else Message(str(reason))


ENCODING_LABELS = {"utf-8": "UTF-8", "gb18030": N_("GB18030（GBK）"), "utf-16": "UTF-16"}


def import_file(
    kind: str,
    source: bytes | str | Path,
    filename: str | None = None,
    *,
    user=None,
    progress: Progress | None = None,
) -> ImportResult:
    """Import a file of ``kind`` into the registry; flush, never commit.

    Valid rows are upserted by document number (by 学校标识码 for schools); rejected
    rows are reported with their row number (and sheet), the file's column name and
    every reason the row has (Messages, shown in the reader's language; Chinese in the
    CLI). An :class:`ImportRun` records the file
    (name, sha256), the user, the counts and what was read.

    :param kind: one of :data:`edu_guard.registry.importers.IMPORTERS` (``schools``,
        ``roster``, ``status-changes``, ``families``, ``disabled``).
    :param source: the file's bytes or its path.
    :param filename: the name the clerk gave the file (default: the path's name); its
        suffix picks the reader (.xlsx or .csv).
    :param user: who imports (recorded on the run and the audit rows); the signed-in
        user by default, ``None`` from the CLI.
    :param progress: called with (rows done, total) while rows are read.
    :return: the counts, the rejects and the warnings.
    :raises ImportFileError: the file is unreadable, of the wrong kind, or a sheet
        lacks a required column; nothing was written (or, for a CSV found malformed
        further down, the caller must roll back what was flushed, as the CLI and web
        views do).
    """
    if kind not in importers():
        raise ImportFileError(Message("未知的导入类型“%(kind)s”（可选：%(choices)s）", kind=kind,
                                      choices="、".join(importers())))
    importer_class = importers()[kind]
    if isinstance(source, (str, Path)):
        path = Path(source)
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise ImportFileError(Message("无法打开文件 %(path)s：%(error)s", path=str(path),
                                          error=exc.strerror or str(exc))) from None
        filename = filename or path.name
    else:
        data = source
        filename = filename or "upload"
    if not data:
        raise ImportFileError(Message("文件“%(name)s”是空的", name=filename))
    fields = importer_class.fields()
    try:
        workbook = readers.read_workbook(data, filename, fields)
    except readers.HeaderNotFound as exc:
        raise ImportFileError(Message(
            "%(kind)s“%(name)s”无法导入：%(reason)s（%(kind)s应有 %(columns)s 等列）", kind=Message(importer_class.label),
            name=filename, reason=message_of(exc), columns=_columns_text(importer_class.required_columns),
        )) from None
    except readers.ReadError as exc:
        raise ImportFileError(Message("%(kind)s“%(name)s”无法导入：%(reason)s", kind=Message(importer_class.label),
                                      name=filename, reason=message_of(exc))) from None
    for table in workbook.tables:
        missing = [g for g in importer_class.required_columns if not any(f in table.columns for f in g)]
        if missing:
            names = _columns_text(missing)
            kind_label = Message(importer_class.label)
            if table.sheet and len(workbook.tables) > 1:
                raise ImportFileError(Message(
                    "%(kind)s“%(name)s”工作表“%(sheet)s”缺少必需的列：%(columns)s（第%(header_row)s行的表头中没有找到）；未导入任何数据",
                    kind=kind_label, name=filename, sheet=table.sheet, columns=names, header_row=table.header_row))
            raise ImportFileError(Message(
                "%(kind)s“%(name)s”缺少必需的列：%(columns)s（第%(header_row)s行的表头中没有找到）；未导入任何数据",
                kind=kind_label, name=filename, columns=names, header_row=table.header_row))

    headers = [_unique_header(table.header) for table in workbook.tables]
    header = list(dict.fromkeys(name for names in headers for name in names))
    schema = importer_class.schema_class(date1904=workbook.date1904)
    loader = RowLoader(schema, memoise=fields - importer_class.unique_fields)

    run = ImportRun(
        kind=kind,
        filename=filename[:255],
        sha256=hashlib.sha256(data).hexdigest(),
        user_id=acting_user_id(user),
        county_code=acting_county_code(user),
        header=header,
    )
    db.session.add(run)
    db.session.flush()
    del data
    importer: Importer = importer_class(user_id=run.user_id, import_run_id=run.id)
    several = len(workbook.tables) > 1
    state = _Progress(progress, sum(t.total for t in workbook.tables))
    rejects: list[dict] = []
    sheets = []
    try:
        for table, names in zip(workbook.tables, headers):
            before = state.done
            sheet = table.sheet if several else None
            rejects += _import_rows(table, names, loader, importer, sheet, state)
            sheets.append({"name": table.sheet, "header_row": table.header_row, "rows": state.done - before})
        rejects += _flush(importer, state)
    except readers.ReadError as exc:  # a malformed CSV record further down: the caller rolls back
        raise ImportFileError(Message("%(kind)s“%(name)s”无法导入：%(reason)s；未导入任何数据",
                                      kind=Message(importer_class.label), name=filename, reason=message_of(exc))) from None
    outcome = importer.finish()
    rejects.sort(key=lambda r: (r.get("sheet") or "", r["row"]) if several else r["row"])
    unused = [
        (Message("%(sheet)s：%(column)s", sheet=t.sheet, column=c) if several else c)
        for t in workbook.tables for c in t.unused
    ]
    run.source = {
        "sheets": sheets,
        "skipped": [{"name": n, "reason": r} for n, r in workbook.skipped],
        "encoding": workbook.encoding,
        "date1904": workbook.date1904,
        "unused_columns": unused,
    }
    run.warnings = sorted(state.warnings, key=lambda w: (w.get("sheet") or "", w["row"]))
    run.rows = state.done
    run.created, run.updated, run.unchanged = outcome.created, outcome.updated, outcome.unchanged
    run.rejects = rejects
    audit.record("import", run, after={"kind": kind, "filename": run.filename, "sha256": run.sha256, "rows": run.rows,
                                       "created": run.created, "updated": run.updated, "unchanged": run.unchanged,
                                       "rejected": len(rejects)}, user=user)
    db.session.flush()
    db.session.expire_all()
    if progress:
        progress(state.done, state.done)
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
        source=_plain(run.source),  # the run keeps the Messages; the result reads as text now (the CLI)
        warnings=run.warnings,
    )


def _columns_text(groups) -> Message:
    """``学校标识码或学校名称、姓名 …``: the required column groups, each name as the
    catalogue has it."""
    def either(group):
        names = [Message(field_label(f)) for f in group]
        text = names[0]
        for name in names[1:]:
            text = Message("%(first)s或%(second)s", first=text, second=name)
        return text

    return Message.join([either(group) for group in groups], "、")


class _Progress:
    """The rows read so far, the pending chunk and the progress callback of one import."""

    def __init__(self, callback: Progress | None, total: int) -> None:
        self.callback = callback
        self.total = total
        self.done = 0
        self.chunk: list[LoadedRow] = []
        self.warnings: list[dict] = []
        #: (sheet, row) → (cells, header names) of the rows in the pending chunk.
        self.cells: dict[tuple[str | None, int], tuple[list, list[str], dict[str, str]]] = {}

    def report(self) -> None:
        if self.callback:
            self.callback(self.done, max(self.total, self.done))


def _flush(importer: Importer, state: _Progress) -> list[dict]:
    """Hand the pending chunk to the importer; return the rows it refused (its
    warnings go to ``state.warnings``)."""
    rejects = []
    importer.apply(state.chunk)
    for sheet, row, field_name, reason in importer.rejects:
        cells, names, column_of = state.cells[(sheet, row)]
        column = column_of.get(field_name, field_label(field_name))
        rejects.append(_reject(row, sheet, [(column, reason)], cells, names))
    importer.rejects.clear()
    for sheet, row, field_name, message in importer.warnings:
        known = state.cells.get((sheet, row))
        column = (known[2] if known else {}).get(field_name, field_label(field_name))
        warning = {"row": row, "column": column_message(column), "message": column_reason(column, message)}
        if sheet is not None:
            warning["sheet"] = sheet
        state.warnings.append(warning)
    importer.warnings.clear()
    state.chunk.clear()
    state.cells.clear()
    state.report()
    return rejects


def _import_rows(
    table: readers.Table,
    header: list[str],
    loader: RowLoader,
    importer: Importer,
    sheet: str | None,
    state: _Progress,
) -> list[dict]:
    """Load every data row of a table through the schema and hand the valid ones to the
    importer in chunks; return the rows refused.

    An Excel error cell (``#N/A``, ``#REF!`` …) in a column the importer reads is
    reported as such, never read as empty; a row lists every reason it has.
    """
    columns = list(table.columns.items())
    field_order = {f: i for f, i in columns}
    column_of = {f: header[i] if i < len(header) else field_label(f) for f, i in columns}
    chunk_size = importer.chunk_size
    rejects: list[dict] = []

    for number, cells in table.rows:
        raw = {}
        excel_errors = {}
        for f, i in columns:
            value = cells[i]
            if value is None or (value.__class__ is str and (not value or value.isspace())):
                continue
            if isinstance(value, readers.ExcelError) or (
                value.__class__ is str and value[0] == "#" and value in readers.EXCEL_ERROR_CODES
            ):
                cell = value if isinstance(value, readers.ExcelError) else readers.ExcelError(value)
                excel_errors[f] = [readers.excel_error_reason(cell)]
                continue
            raw[f] = value
        errors: dict[str, list[str]] = {}
        data: dict | None = None
        try:
            data = loader.load(raw)
        except ValidationError as exc:
            errors = importer.adjust_errors(raw, exc.normalized_messages())
            data = exc.data if isinstance(exc.data, dict) else {}
        if excel_errors:
            errors = {**errors, **excel_errors}
        for f, reasons in importer.precheck(data or {}, errors).items():
            if f not in errors:
                errors[f] = reasons
        skipped = importer.skip_reason(errors) if errors else None
        if skipped is not None:  # a row the file holds by design: a remark, not an error
            column = column_of.get(skipped[0], field_label(skipped[0]))
            remark = {"row": number, "column": column_message(column), "message": as_message(skipped[1]), "skipped": True}
            if sheet is not None:
                remark["sheet"] = sheet
            state.warnings.append(remark)
        elif errors:
            reasons = [
                (column_of.get(f, field_label(f)), message)
                for f in sorted(errors, key=lambda f: field_order.get(f, len(field_order)))
                for message in errors[f]
            ]
            rejects.append(_reject(number, sheet, reasons, cells, header))
        else:
            state.chunk.append(LoadedRow(number, data, cells, sheet))
            state.cells[(sheet, number)] = (cells, header, column_of)
        state.done += 1
        if chunk_size and len(state.chunk) >= chunk_size:
            rejects += _flush(importer, state)
        elif state.done % PROGRESS_EVERY == 0:
            state.report()
    return rejects


def column_message(column: str) -> "Message | str":
    """A column's name as the file wrote it, translated where the catalogue knows it
    (``身份证件号`` reads "ID number" on an English page)."""
    return Message(column) if column else column


def column_reason(column: str, reason) -> Message:
    """One reason of a row, which follows its column's name: ``身份证件号校验位错误…``
    (Chinese), "ID number: wrong check character …" (English).

    :param column: the column's name as the file wrote it.
    :param reason: a :class:`~edu_guard.i18n.Message`, a marshmallow message
        (:class:`~edu_guard.messages.Template`) or text.
    """
    return Message("%(column)s%(reason)s", column=column_message(column), reason=as_message(reason))


def _reject(row: int, sheet: str | None, reasons: list[tuple[str, Any]], cells: list, header: list[str]) -> dict:
    """Return the reject entry of a row: columns, reasons (Messages, in the reader's
    language when shown) and the original values.

    :param reasons: ``(column name, reason)`` pairs; a reason is a Message, a
        marshmallow message or text, and follows the column's name.
    """
    columns = list(dict.fromkeys(column for column, _ in reasons))
    entry = {
        "row": row,
        "column": Message.join([column_message(c) for c in columns], "、"),
        "reason": Message.join([column_reason(column, message) for column, message in reasons], "；"),
        "values": {name: _cell_json(cells[i]) if i < len(cells) else None for i, name in enumerate(header)},
    }
    if sheet is not None:
        entry["sheet"] = sheet
    return entry


def _cell_json(value: Any) -> Any:
    """Return a cell value as JSON-ready data (dates as ISO text, numbers kept)."""
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, readers.ExcelError):
        return value.code
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
SHEET_HEADER = "工作表"


def rejects_workbook(run: ImportRun | ImportResult) -> bytes:
    """Return an .xlsx of the rejected rows: a title row, the original header plus 原行号
    and 错误原因, one line per rejected row with its original values.

    The header stays Chinese whatever the interface language (the importer reads it when
    the clerk re-uploads the fixed rows); the reasons read in the current language (the
    downloader's page language; Chinese in the CLI).

    A 工作表 column names each row's sheet when the file had several. The clerk fixes
    the rows and re-uploads the file (the importer finds the header below the title). Numbers stay numbers (a numeric ID cell shows what Excel kept); dates
    are written as ``2010-05-03`` text, which the importer reads back as dates; the
    value columns are formatted as text so that a retyped ID number stays text. Text
    that looks like a formula stays text (:mod:`edu_guard.excel`).

    :param run: a recorded :class:`ImportRun` or the :class:`ImportResult` of an import.
    :return: the workbook's bytes.
    """
    header = list(run.header or [])
    rejects = run.rejects or []
    sheets = any(r.get("sheet") for r in rejects)
    book = excel.Workbook()
    columns = [*header, *([SHEET_HEADER] if sheets else []), ROW_HEADER, REASON_HEADER]
    sheet = book.sheet("未导入的行", widths=[14] * len(header) + ([12] if sheets else []) + [8, 60])
    sheet.title(f"未导入的行（{run.filename}，共{len(rejects)}行）", len(columns))
    sheet.header(columns, text_columns=range(len(header)))
    for reject in rejects:
        values = reject.get("values") or {}
        where = [reject.get("sheet")] if sheets else []
        sheet.row([values.get(name) for name in header] + where + [reject["row"], str(reject["reason"])])
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
    call changes nothing.

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

    name = (name or "").strip()
    if not name:
        raise ValueError(Message("请填写监护人姓名"))
    id_number = normalize_id(id_number) or None
    if id_number:
        try:
            id_number = validate_id_number(id_number)
        except ValueError as exc:
            raise ValueError(Message("监护人身份证号 %(number)s 无效：%(reason)s", number=id_number,
                                     reason=message_of(exc))) from None
    guardian = Guardian(child=child, name=name, relation=(relation or "").strip() or None,
                        phone=(phone or "").strip() or None,
                        address=(address or "").strip() or getattr(child, "address", None) or None, id_number=id_number)
    db.session.add(guardian)
    db.session.flush()
    audit.record("create", guardian, user=user)
    return guardian
