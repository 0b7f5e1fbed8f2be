"""The household-register comparison (户籍–学籍比对) on polars: a million rows read,
checked and joined in columns; only the rows that fail the fast checks go through the
registry's own row-by-row ID check (for its exact reason)."""

from __future__ import annotations

import io
import json
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import PurePosixPath

import polars as pl
import sqlalchemy as sa

from edu_guard import clock
from edu_guard import textfile
from edu_guard.comparisons.base import ENROLLED_STATUSES, Category, ComparisonError, Outcome
from edu_guard.comparisons.rules import compulsory_birth_range, rule_from_config
from edu_guard.db import db
from edu_guard.i18n import N_, Message, from_json, message_of, to_json
from edu_guard.registry import identity, readers
from edu_guard.registry.models import ENROLLMENT_STATUSES, Child, Enrollment, School, StatusChange
from edu_guard.uploads import UploadRefused, check_upload
from edu_guard.registry.normalize import COLUMN_ALIASES, clean_code, field_label, is_number_cell, match_header
from edu_guard.registry.schemas import _SCIENTIFIC, NUMERIC_ID_REASON, SCIENTIFIC_ID_REASON

_CHECK = "10X98765432"
HOUSEHOLD_FIELDS = frozenset({"id_number", "name", "sex", "birth_date", "hukou", "guardian_name", "guardian_phone"})


def _as_message(reason) -> Message:
    """A reason given by the registry (its text, marked for the catalogue, or a Message)."""
    return reason if isinstance(reason, Message) else Message(str(reason))


def id_number_reason(value: object, *, today: date) -> tuple[str | None, Message | None]:
    """Check one ID cell as the registry import does (:class:`edu_guard.registry.schemas.IdNumber`,
    with the rules of :mod:`edu_guard.registry.identity`: document types, area codes).

    :return: ``(canonical ID number, None)`` or ``(None, reason)``; the reason names
        the column (公民身份号码).
    """
    if isinstance(value, readers.ExcelError):
        return None, Message("公民身份号码%(reason)s", reason=_as_message(readers.excel_error_reason(value)))
    if is_number_cell(value):
        return None, Message("公民身份号码%(reason)s", reason=_as_message(NUMERIC_ID_REASON))
    code = clean_code(value)
    if code is None:
        return None, Message("公民身份号码不能为空")
    if _SCIENTIFIC.match(code):
        return None, Message("公民身份号码%(reason)s", reason=_as_message(SCIENTIFIC_ID_REASON))
    try:
        return identity.validate_document(code, today=today)[1], None
    except identity.IdNumberError as exc:
        return None, Message("公民身份号码“%(code)s”%(reason)s", code=code, reason=message_of(exc))


#: The reason of a row whose ID number an earlier row has (built in the frame as a stored Message).
DUPLICATE_REASON = N_("公民身份号码与第%(line)s行重复")


#: Besides the ID number and the name, a household register has at least one of these
#: (the sample's 性别, 出生日期, 户籍地址); a file with none (the bank's payment workbook:
#: 序号, 姓名, 身份证号, 金额, 账号 …) is another kind of list, not compared.
REGISTER_FIELDS = ("sex", "birth_date", "hukou")


#: Columns of a school roster (学籍花名册) that a public-security household register
#: never has: a file with any of them is a roster uploaded in the wrong place, and
#: comparing it would give a plausible but meaningless result (every pupil "enrolled").
ROSTER_ONLY_FIELDS = frozenset({"student_number", "school_code", "school_name", "grade", "class_name"})


def _require_register_columns(table: readers.Table) -> None:
    """Refuse a table that is not a household register (户籍名单).

    A school roster is refused by its columns (:data:`ROSTER_ONLY_FIELDS`), naming them.

    :raises ComparisonError: the ID number or name column is missing, or none of
        :data:`REGISTER_FIELDS` is there; the message lists the columns expected (with
        the aliases :data:`edu_guard.registry.normalize.COLUMN_ALIASES` knows) and
        those found.
    """
    found = "、".join(str(c).strip() for c in table.header if c is not None and str(c).strip()) or "（无）"
    roster = match_header(list(table.header), ROSTER_ONLY_FIELDS)
    if roster:
        named = "、".join(f"“{table.header[i]}”" for i in sorted(roster.values()))
        raise ComparisonError(
            Message("文件像学籍花名册而不是公安户籍名单：第%(header_row)s行表头有%(named)s列（户籍名单没有学籍号、学校、年级、班级）。户籍与学籍比对请上传公安部门提供的户籍名单；花名册请在“数据导入”中导入", header_row=table.header_row, named=named))
    missing = [f"“{field_label(f)}”" for f in ("id_number", "name") if f not in table.columns]
    if missing:
        raise ComparisonError(Message("文件不像户籍名单：缺少%(columns)s列（第%(header_row)s行表头为：%(found)s）", columns='、'.join(missing), header_row=table.header_row, found=found))
    if not any(f in table.columns for f in REGISTER_FIELDS):
        expected = "；".join("/".join(COLUMN_ALIASES[f]) for f in REGISTER_FIELDS)
        raise ComparisonError(
            Message("文件不像户籍名单：除“%(id_number)s”和“%(name)s”外，户籍名单还应至少有性别、出生日期、户籍地址中的一列（可写作：%(expected)s）；文件第%(header_row)s行表头为：%(found)s。请确认上传的是公安户籍名单", id_number=field_label('id_number'), name=field_label('name'), expected=expected, header_row=table.header_row, found=found))


#: Bytes at the top of a CSV file read to find its header and encoding.
_SNIFF_BYTES = 256 * 1024


def _polars_fault(exc: Exception) -> Message:
    """polars' (English) CSV error as the clerk's reason."""
    text = str(exc).lower()
    if "empty" in text or isinstance(exc, pl.exceptions.NoDataError):
        return Message("文件没有数据行")
    if "quote" in text:
        return Message("引号没有配对")
    if "field" in text or "column" in text:
        return Message("某些行的列数与表头不一致")
    return Message("无法按 CSV 格式读取，请在 Excel 中打开后另存为 CSV（逗号分隔）或 .xlsx")


def _csv_fault(filename: str | None, exc: Exception) -> Message:
    """``“户籍.csv”：CSV 文件格式有误：<why>`` (the file named as :func:`uploads.named` does)."""
    name = PurePosixPath(filename or "").name
    if not name:
        return Message("CSV 文件格式有误：%(fault)s", fault=_polars_fault(exc))
    return Message("“%(filename)s”：CSV 文件格式有误：%(fault)s", filename=name, fault=_polars_fault(exc))


def _household_frame(data: bytes, filename: str) -> pl.DataFrame:
    """Read the register into columns ``line, id_raw, name, address, guardian`` (and
    ``numeric`` for Excel files).

    The header is found with :func:`edu_guard.registry.readers.read_table` (title rows,
    column aliases, encodings); for a CSV only its top is given to it, then polars
    reads the rows. A CSV file is decoded by :mod:`edu_guard.textfile` (polars checks
    that a UTF-8 file is UTF-8 throughout; a file mixing encodings is refused with its
    line number). An Excel file's rows come through the registry reader: an ID from a
    numeric cell is kept as a number, so it is refused like in the roster import.
    """
    is_csv = filename.lower().endswith(readers.CSV_SUFFIXES)
    if is_csv:  # polars reads the whole file below; read_table sees only its top
        try:
            check_upload(data, filename)
        except UploadRefused as exc:
            raise ComparisonError(message_of(exc)) from None
    head = data
    if is_csv:
        try:
            # polars checks a UTF-8 file (in parallel); any other is decoded whole here
            data, _ = textfile.utf8_bytes(data, parser_checks_utf8=True)
        except textfile.DecodeError as exc:
            raise ComparisonError(message_of(exc)) from None
        head = data
        if len(data) > _SNIFF_BYTES:
            head = data[: data.rfind(b"\n", 0, _SNIFF_BYTES) + 1] or data
    try:
        table = readers.read_table(head, filename, HOUSEHOLD_FIELDS, min_matches=2)
    except readers.ReadError as exc:
        raise ComparisonError(message_of(exc)) from None
    _require_register_columns(table)
    cols = {key: table.columns.get(field_name) for key, field_name in (
        ("id_raw", "id_number"), ("name", "name"), ("address", "hukou"), ("guardian", "guardian_name"))}
    if table.source == "csv":
        wanted = {k: i for k, i in cols.items() if i is not None}
        order = sorted(set(wanted.values()))
        try:
            frame = pl.read_csv(
                io.BytesIO(data), has_header=False, skip_rows=table.header_row, infer_schema=False,
                columns=order, truncate_ragged_lines=True, quote_char='"', separator=readers.separator_of(head), encoding="utf8",
            )
        except pl.exceptions.ComputeError as exc:
            if "utf-8" not in str(exc).lower() and "utf8" not in str(exc).lower():
                raise ComparisonError(_csv_fault(filename, exc)) from None
            try:  # not UTF-8 throughout: the decoder names the line
                textfile.decode(data)
            except textfile.DecodeError as bad:
                raise ComparisonError(message_of(bad)) from None
            raise ComparisonError(_csv_fault(filename, exc)) from None
        except pl.exceptions.NoDataError as exc:
            raise ComparisonError(_csv_fault(filename, exc)) from None
        frame = frame.rename(dict(zip(frame.columns, [f"c{i}" for i in order])))
        frame = frame.with_row_index("line", offset=table.header_row + 1).select(
            pl.col("line").cast(pl.Int64), *[pl.col(f"c{i}").alias(k) for k, i in wanted.items()],
            *[pl.lit(None, pl.String).alias(k) for k, i in cols.items() if i is None],
        )
        # The signature footer (填表人 …) can only be among the last rows.
        tail = frame.tail(50)
        first = tail.get_column(min(wanted, key=wanted.get)).to_list()
        for offset, cell in enumerate(first):
            if readers.is_footer([cell]):
                frame = frame.head(frame.height - tail.height + offset)
                break
        return frame.filter(~pl.all_horizontal([pl.col(k).is_null() for k in wanted]))
    lines, values = [], {k: [] for k in cols}
    numeric = []
    for number, cells in table.rows:
        lines.append(number)
        for key, index in cols.items():
            cell = cells[index] if index is not None and index < len(cells) else None
            if key == "id_raw":
                numeric.append(is_number_cell(cell))
                cell = None if cell is None else (repr(cell) if is_number_cell(cell) else str(cell))
            else:
                cell = None if cell is None or cell == "" else str(cell)
            values[key].append(cell)
    return pl.DataFrame({"line": lines, **values, "numeric": numeric},
                        schema={"line": pl.Int64, **{k: pl.String for k in cols}, "numeric": pl.Boolean})


def _as_cell(raw: str | None) -> object:
    """A text cell as the importers see it: an Excel error written into a CSV
    (``#N/A``, ``#REF!`` …) is an error cell."""
    return readers.ExcelError(raw) if raw in readers.EXCEL_ERROR_CODES else raw


#: Check character → its residue (the position in "10X98765432").
_RESIDUE_OF = {c: i for i, c in enumerate(_CHECK)}


def _key(number: str) -> int:
    """The integer key of a valid ID number: its first 17 digits read in base 13 (one
    to one; the check character follows from them)."""
    return int(number[:17], 13)


def _key_expr(column: str) -> pl.Expr:
    """:func:`_key` of a column of valid ID numbers."""
    return pl.col(column).str.slice(0, 17).str.to_integer(base=13, strict=False)


def _decimal_digits(value: int, width: int) -> str:
    """The decimal digits that, read in base 13, give ``value`` (inverse of the key's parse)."""
    out = []
    for _ in range(width):
        value, digit = divmod(value, 13)
        out.append(str(digit))
    return "".join(reversed(out))


def _registry_frame() -> pl.DataFrame:
    """Each child of the registry with enrollments: ``id_number, school, status, enrolled, deceased``."""
    connection = db.session.connection()
    stmt = sa.select(Child.id_number, Enrollment.school_id, Enrollment.status, Enrollment.id).join(
        Enrollment, Enrollment.child_id == Child.id)
    # The driver's own cursor: 100,000 plain tuples without SQLAlchemy's per-row work
    # (the statement has no parameters and only text and integer columns).
    cursor = connection.connection.driver_connection.cursor()
    try:
        cursor.execute(str(stmt.compile(dialect=connection.dialect)))
        result = cursor.fetchall()
    finally:
        cursor.close()
    schools = dict(connection.execute(sa.select(School.id, School.name)).all())
    frame = pl.DataFrame(result, schema={"id_number": pl.String, "school_id": pl.Int64, "status": pl.String, "eid": pl.Int64},
                         orient="row").with_columns(_key_expr("id_number").alias("key"))
    enrolled = pl.col("status").is_in(ENROLLED_STATUSES)
    return (
        frame.sort([enrolled, "eid"])  # the last row per child: an enrolled one if any, else the latest
        .group_by("key", maintain_order=True)
        .agg(pl.col("school_id").last(), pl.col("status").last(), (pl.col("status") == "死亡注销").any().alias("dead_status"))
        .with_columns(pl.col("status").is_in(ENROLLED_STATUSES).alias("enrolled"),
                      pl.col("school_id").replace_strict(schools, default=None, return_dtype=pl.String).alias("school"))
        .drop("school_id")
    )


def _changes_frame(as_of: date) -> pl.DataFrame:
    """The latest status change of each ID number up to ``as_of``, and its death if any."""
    result = db.session.execute(
        sa.select(StatusChange.id_number, StatusChange.kind, StatusChange.changed_on, StatusChange.to_school, StatusChange.id)
        .where(StatusChange.changed_on <= as_of)
    ).all()
    frame = pl.DataFrame(result, schema={"id_number": pl.String, "kind": pl.String, "changed_on": pl.Date,
                                         "to_school": pl.String, "sid": pl.Int64}, orient="row").with_columns(
        _key_expr("id_number").alias("key"))
    return (
        frame.sort(["changed_on", "sid"])
        .group_by("key", maintain_order=True)
        .agg(
            pl.col("kind").last().alias("last_kind"),
            pl.col("changed_on").last().alias("last_on"),
            pl.col("to_school").last().alias("last_to"),
            pl.col("changed_on").filter(pl.col("kind") == "死亡注销").first().alias("died_on"),
        )
    )



def compare(*, as_of: date, settings: dict, data: bytes | None, filename: str | None) -> FrameOutcome:
    """Sort every row of the register into one category with its reason.

    Categories, in order of precedence: invalid row, deceased (死亡注销 in the registry
    or the status changes), enrolled (a 在读 or 休学 学籍 anywhere in the county), too
    young / too old (:func:`~edu_guard.comparisons.rules.compulsory_birth_range`),
    transferred out to a named school (the latest change is a 转出 with a destination),
    else out of school.

    :raises ComparisonError: no file, or it cannot be read as a register.
    """
    if not data:
        raise ComparisonError(Message("没有上传户籍文件，或文件是空的"))
    rule = rule_from_config(settings)
    born_after, born_by = compulsory_birth_range(as_of, **rule)
    today = max(as_of, clock.today())
    # The registry is read from the database while another thread parses the file:
    # polars' CSV reader and SQLite both release the GIL, so the two overlap.
    with ThreadPoolExecutor(max_workers=1) as pool:
        parsing = pool.submit(_household_frame, data, filename or "upload.csv")
        registry, changes = _registry_frame(), _changes_frame(as_of)
        frame = parsing.result()

    # Fast path, in columns: an ID number typed in its clean form (18 characters,
    # upper-case X) whose check character, birth date and area code are right.
    # GB 11643's weights are 2^(17-i) mod 11, and 13 ≡ 2 (mod 11): the 17 digits read
    # as a base-13 number V give Σ digit × 2^(16-i), so the MOD 11-2 residue is 2V mod 11
    # — one integer parse instead of seventeen digit operations. V is also the key rows
    # are matched on: it is one-to-one on 17 digits, and a valid number's check
    # character follows from them. Area codes are checked once per distinct code with
    # the registry's rule (identity.area_code_existed).
    shaped = pl.col("id_raw").str.contains(r"^[0-9]{17}[0-9X]$").fill_null(False)
    if "numeric" in frame.columns:
        shaped = shaped & ~pl.col("numeric")
    frame = frame.with_columns(
        shaped.alias("shaped"),
        pl.col("id_raw").str.slice(0, 17).str.to_integer(base=13, strict=False).alias("v"),
        pl.col("id_raw").str.slice(17, 1).replace_strict(_RESIDUE_OF, default=-1, return_dtype=pl.Int64).alias("last"),
        pl.col("id_raw").str.slice(6, 8).str.to_date("%Y%m%d", strict=False).alias("birth"),
    )
    v, last = pl.col("v"), pl.col("last")
    check_ok = v % 11 * 2 % 11 == last
    ok = pl.col("shaped") & check_ok & pl.col("birth").is_not_null() & (pl.col("birth") <= today)
    area = v // 13 ** 11  # the first six digits, in base 13
    areas = frame.filter(ok).select(area.alias("a")).unique().get_column("a").to_list()
    bad_areas = [a for a in areas if not identity.area_code_existed(_decimal_digits(a, 6))]
    if bad_areas:  # (a 永居证 number starting with 9 is among them: the slow path checks it)
        ok = ok & ~area.is_in(bad_areas)
    frame = frame.with_columns(
        pl.when(ok).then(pl.col("id_raw")).alias("id"),
        pl.when(ok).then(v).alias("key"),
        pl.when(ok).then(pl.col("birth")).alias("birth"),
        pl.lit(None, pl.String).alias("invalid"),
    ).drop("v", "last", "shaped")
    # The rest (full-width digits, spaces, a lower-case x, bad check digits …): the
    # registry's own check, row by row, for the exact reason.
    slow_at = frame.select(pl.arg_where(pl.col("id").is_null())).to_series()
    if slow_at.len():
        raws = frame.get_column("id_raw").gather(slow_at).to_list()
        numeric = frame.get_column("numeric").gather(slow_at).to_list() if "numeric" in frame.columns else [False] * len(raws)
        ids, keys, births, reasons = [], [], [], []
        for raw, is_numeric in zip(raws, numeric):
            number, reason = id_number_reason(float(raw) if is_numeric else _as_cell(raw), today=today)
            ids.append(number)
            reasons.append(_encoded(reason))
            keys.append(_key(number) if number and len(number) == 18 else None)
            births.append(identity.birth_date_from_number(number) if number else None)
        frame = frame.with_columns(
            frame.get_column("id").scatter(slow_at, pl.Series(ids, dtype=pl.String)),
            frame.get_column("key").scatter(slow_at, pl.Series(keys, dtype=pl.Int64)),
            frame.get_column("birth").scatter(slow_at, pl.Series(births, dtype=pl.Date)),
            frame.get_column("invalid").scatter(slow_at, pl.Series(reasons, dtype=pl.String)),
        )
    # A number met again further down is a duplicate row.
    keys = frame.get_column("key")
    if keys.n_unique() - keys.has_nulls() < keys.len() - keys.null_count():
        dup = pl.col("key").is_not_null() & pl.col("key").is_duplicated()
        repeated = frame.filter(dup).select("line", "key")
        firsts = repeated.group_by("key").agg(pl.col("line").min().alias("first_line"))
        repeated = repeated.join(firsts, on="key").filter(pl.col("line") != pl.col("first_line")).select(
            "line", pl.concat_str(pl.lit('{"_msg": ' + json.dumps(DUPLICATE_REASON, ensure_ascii=False) + ', "args": {"line": '),
                                 pl.col("first_line").cast(pl.String), pl.lit("}}")).alias("dup"))
        frame = frame.join(repeated, on="line", how="left", maintain_order="left").with_columns(
            pl.coalesce("invalid", "dup").alias("invalid")).drop("dup")

    frame = frame.join(registry, on="key", how="left", maintain_order="left")
    # A number ending in 000 may have been cut by Excel: held back unless the registry
    # knows the child by it (identity.may_be_truncated, the importers' rule).
    truncated = (
        pl.col("id").str.ends_with("000").fill_null(False) & (pl.col("id").str.len_chars() == 18)
        & pl.col("status").is_null() & pl.col("invalid").is_null()
    )
    frame = frame.with_columns(
        pl.when(truncated)
        .then(pl.concat_str(pl.lit('{"_msg": "公民身份号码“%(code)s”%(reason)s", "args": {"code": "'), pl.col("id"),
                            pl.lit('", "reason": ' + _encoded(_as_message(identity.TRUNCATED_REASON)) + "}}")))
        .otherwise(pl.col("invalid"))
        .alias("invalid")
    )
    if changes.height:
        frame = frame.join(changes, on="key", how="left", maintain_order="left")
    else:
        frame = frame.with_columns(pl.lit(None, pl.String).alias("last_kind"), pl.lit(None, pl.Date).alias("last_on"),
                                   pl.lit(None, pl.String).alias("last_to"), pl.lit(None, pl.Date).alias("died_on"))
    category = (
        pl.when(pl.col("invalid").is_not_null()).then(pl.lit("invalid"))
        .when(pl.col("dead_status").fill_null(False) | pl.col("died_on").is_not_null()).then(pl.lit("deceased"))
        .when(pl.col("enrolled").fill_null(False)).then(pl.lit("enrolled"))
        .when(pl.col("birth") > born_by).then(pl.lit("too_young"))
        .when(pl.col("birth") <= born_after).then(pl.lit("too_old"))
        .when((pl.col("last_kind") == "转出") & (pl.col("last_to").fill_null("") != "")).then(pl.lit("transferred"))
        .otherwise(pl.lit("out_of_school"))
    )
    frame = frame.select("line", "id", "id_raw", "name", "birth", "address", "guardian", "invalid", "school", "status",
                         "died_on", "last_on", "last_to", category.alias("category"))
    entry_year = as_of.year if (as_of.month, as_of.day) >= (9, 1) else as_of.year - 1
    texts = {"cutoff": Message("%(year)s年%(month)s月%(day)s日", year=entry_year, month=rule["cutoff"][0],
                               day=rule["cutoff"][1]), "min_age": rule["min_age"],
             "old_age": rule["max_age"] + 1, "as_of": as_of.isoformat()}
    return FrameOutcome(frame, texts, params={
        "rule": {**rule, "cutoff": list(rule["cutoff"])}, "born_after": born_after.isoformat(),
        "born_by": born_by.isoformat()})


def _reasons(frame: pl.DataFrame, texts: dict) -> pl.DataFrame:
    """Add the output columns and what the reason of each row's category says (done
    only for the rows a caller asks for); :func:`_reason` makes the reason of a row."""
    return frame.select(
        "line", pl.coalesce("id", "id_raw").alias("id_number"), pl.col("name").str.replace_all(r"\s+", ""), "category",
        pl.col("birth").dt.to_string("%Y-%m-%d").alias("birth_date"), "address", "guardian", "invalid", "school",
        "status", pl.col("died_on").dt.to_string("%Y-%m-%d").alias("died_on"),
        pl.col("last_on").dt.to_string("%Y-%m-%d").alias("last_on"), "last_to",
    )


def _encoded(reason: Message | None) -> str | None:
    """A reason as the JSON text a :class:`MessageText` column keeps (kept in a frame)."""
    return None if reason is None else json.dumps(to_json(reason), ensure_ascii=False)


def _reason(r: dict, texts: dict) -> Message:
    """The reason of a row of :func:`_reasons`, in the reader's language when shown."""
    cat, school, status = r["category"], r["school"], r["status"]
    if status in ENROLLMENT_STATUSES:
        status = Message(status)  # a state of the registry: in the reader's language
    if cat == "invalid":
        return from_json(json.loads(r["invalid"]))
    if cat == "deceased":
        if r["died_on"]:
            return Message("已于%(date)s死亡注销", date=r["died_on"])
        return Message("学籍状态为死亡注销（%(school)s）", school=school)
    if cat == "enrolled":
        return Message("在%(school)s就读（学籍状态：%(status)s）", school=school, status=status)
    if cat == "too_young":
        return Message("出生于%(birth)s，%(cutoff)s前未满%(age)s周岁，未到入学年龄", birth=r["birth_date"],
                       cutoff=texts["cutoff"], age=texts["min_age"])
    if cat == "too_old":
        return Message("出生于%(birth)s，至%(as_of)s已满%(age)s周岁，超过义务教育年龄", birth=r["birth_date"],
                       as_of=texts["as_of"], age=texts["old_age"])
    if cat == "transferred":
        return Message("已于%(date)s转出至%(school)s，请核实转学", date=r["last_on"], school=r["last_to"])
    if status is not None:
        return Message("全县无在读学籍（原%(school)s，学籍状态：%(status)s）；适龄未入学，疑似失学辍学",
                       school=school, status=status)
    return Message("全县学籍中无此人；适龄未入学，疑似失学辍学")


class FrameOutcome(Outcome):
    """An :class:`Outcome` whose rows are a polars frame (a register of a million rows
    is never turned into a million dicts unless a caller asks for them)."""

    def __init__(self, frame: pl.DataFrame, texts: dict, params: dict) -> None:
        self.frame = frame
        self.texts = texts
        self.params = params

    @property
    def rows(self) -> list[dict]:  # type: ignore[override]
        return [_row_dict(r, self.texts) for r in _reasons(self.frame, self.texts).iter_rows(named=True)]

    def counts(self, categories) -> dict[str, int]:
        out = dict.fromkeys(categories, 0)
        for cat, n in self.frame.group_by("category").len().iter_rows():
            out[cat] = n
        return out

    def stored_rows(self, categories: dict[str, Category]) -> list[dict]:
        """The rows of the stored categories as dicts."""
        keep = [c for c, cat in categories.items() if cat.stored]
        chosen = _reasons(self.frame.filter(pl.col("category").is_in(keep)), self.texts)
        return [_row_dict(r, self.texts) for r in chosen.iter_rows(named=True)]


def _row_dict(r: dict, texts: dict) -> dict:
    extra = {k: r[k] for k in ("birth_date", "address", "guardian") if r.get(k)}
    return {"line": r["line"], "id_number": (r["id_number"] or "")[:32] or None, "name": (r["name"] or None),
            "category": r["category"], "reason": _reason(r, texts), "data": extra or None}


