"""The household-register comparison (户籍–学籍比对) on polars: a million rows read,
checked and joined in columns; only the rows that fail the fast checks go through the
registry's own row-by-row ID check (for its exact reason)."""

from __future__ import annotations

import io
from datetime import date

import polars as pl
import sqlalchemy as sa

from edu_guard.comparisons.kinds import ENROLLED_STATUSES, Category, ComparisonError, Outcome, _truthy
from edu_guard.comparisons.rules import compulsory_birth_range, rule_from_config
from edu_guard.db import db
from edu_guard.registry import readers
from edu_guard.registry.models import Child, Enrollment, School, StatusChange
from edu_guard.registry.normalize import clean_code, field_label, is_number_cell
from edu_guard.registry.schemas import (
    _SCIENTIFIC,
    NUMERIC_ID_REASON,
    SCIENTIFIC_ID_REASON,
    IdNumberError,
    _area_known,
    validate_id_number,
)

#: GB 11643 weights of digits 1–17.
_WEIGHTS = [2 ** (17 - i) % 11 for i in range(17)]
_CHECK = "10X98765432"
HOUSEHOLD_FIELDS = frozenset({"id_number", "name", "sex", "birth_date", "hukou", "guardian_name", "guardian_phone"})


def id_number_reason(value: object, *, accept_sample: bool, today: date) -> tuple[str | None, str | None]:
    """Check one ID cell as the registry import does (:class:`edu_guard.registry.schemas.IdNumber`).

    :return: ``(canonical ID number, None)`` or ``(None, reason)``; the reason names
        the column (公民身份号码).
    """
    label = "公民身份号码"
    if is_number_cell(value):
        return None, label + NUMERIC_ID_REASON
    code = clean_code(value)
    if code is None:
        return None, label + "不能为空"
    if _SCIENTIFIC.match(code):
        return None, label + SCIENTIFIC_ID_REASON
    try:
        return validate_id_number(code, accept_sample_check_digits=accept_sample, today=today), None
    except IdNumberError as exc:
        return None, f"{label}“{code}”{exc}"


def _check_char(ids: pl.Expr, weights: list[int], start: int) -> pl.Expr:
    total = pl.sum_horizontal([ids.str.slice(start + i, 1).cast(pl.Int32) * w for i, w in enumerate(weights)])
    return (total % 11).replace_strict(dict(enumerate(_CHECK)), return_dtype=pl.String)


def _household_frame(data: bytes, filename: str) -> pl.DataFrame:
    """Read the register into columns ``line, id_raw, name, address, guardian``.

    The header is found with :func:`edu_guard.registry.readers.read_table` (title rows,
    column aliases, encodings); a CSV's rows are then read by polars, an Excel file's
    through the registry reader (an ID from a numeric cell is kept as a number, so it
    is refused like in the roster import).
    """
    try:
        table = readers.read_table(data, filename, HOUSEHOLD_FIELDS, min_matches=2)
    except readers.ReadError as exc:
        raise ComparisonError(str(exc)) from None
    if "id_number" not in table.columns:
        raise ComparisonError(f"文件缺少“{field_label('id_number')}”列（公民身份号码）")
    cols = {key: table.columns.get(field_name) for key, field_name in (
        ("id_raw", "id_number"), ("name", "name"), ("address", "hukou"), ("guardian", "guardian_name"))}
    if table.source == "csv":
        raw = data if table.encoding == "utf-8" else data.decode("gb18030").encode("utf-8")
        wanted = {k: i for k, i in cols.items() if i is not None}
        order = sorted(set(wanted.values()))
        frame = pl.read_csv(
            io.BytesIO(raw), has_header=False, skip_rows=table.header_row, infer_schema=False,
            columns=order, truncate_ragged_lines=True, quote_char='"', encoding="utf8-lossy",
        )
        frame = frame.rename(dict(zip(frame.columns, [f"c{i}" for i in order])))
        frame = frame.with_row_index("line", offset=table.header_row + 1).select(
            pl.col("line").cast(pl.Int64), *[pl.col(f"c{i}").alias(k) for k, i in wanted.items()],
            *[pl.lit(None, pl.String).alias(k) for k, i in cols.items() if i is None],
        )
        first = pl.col(f"{min(wanted, key=wanted.get)}").fill_null("").str.strip_chars()
        footer = first.str.starts_with(readers.FOOTER_MARKERS[0])
        for marker in readers.FOOTER_MARKERS[1:]:
            footer = footer | first.str.starts_with(marker)
        ends = frame.select(footer.arg_true().first()).item()
        if ends is not None:
            frame = frame.head(ends)
        blank = pl.all_horizontal([pl.col(k).fill_null("").str.strip_chars() == "" for k in wanted])
        return frame.filter(~blank)
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


def _registry_frame() -> pl.DataFrame:
    """Each child of the registry with enrollments: ``id_number, school, status, enrolled, deceased``."""
    result = db.session.execute(
        sa.select(Child.id_number, School.name, Enrollment.status, Enrollment.id)
        .join(Enrollment, Enrollment.child_id == Child.id)
        .join(School, School.id == Enrollment.school_id)
    ).all()
    frame = pl.DataFrame(result, schema={"id_number": pl.String, "school": pl.String, "status": pl.String, "eid": pl.Int64},
                         orient="row")
    enrolled = pl.col("status").is_in(ENROLLED_STATUSES)
    return (
        frame.sort([enrolled, "eid"])  # the last row per child: an enrolled one if any, else the latest
        .group_by("id_number", maintain_order=True)
        .agg(pl.col("school").last(), pl.col("status").last(), (pl.col("status") == "死亡注销").any().alias("dead_status"))
        .with_columns(pl.col("status").is_in(ENROLLED_STATUSES).alias("enrolled"))
    )


def _changes_frame(as_of: date) -> pl.DataFrame:
    """The latest status change of each ID number up to ``as_of``, and its death if any."""
    result = db.session.execute(
        sa.select(StatusChange.id_number, StatusChange.kind, StatusChange.changed_on, StatusChange.to_school, StatusChange.id)
        .where(StatusChange.changed_on <= as_of)
    ).all()
    frame = pl.DataFrame(result, schema={"id_number": pl.String, "kind": pl.String, "changed_on": pl.Date,
                                         "to_school": pl.String, "sid": pl.Int64}, orient="row")
    return (
        frame.sort(["changed_on", "sid"])
        .group_by("id_number", maintain_order=True)
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
        raise ComparisonError("没有上传户籍文件，或文件是空的")
    accept = _truthy(settings.get("EDU_GUARD_ACCEPT_SAMPLE_CHECK_DIGITS", False))
    rule = rule_from_config(settings)
    born_after, born_by = compulsory_birth_range(as_of, **rule)
    today = max(as_of, date.today())
    frame = _household_frame(data, filename or "upload.csv")

    ids = pl.col("id_raw").fill_null("").str.strip_chars().str.to_uppercase()
    frame = frame.with_columns(ids.alias("id"))
    shaped = pl.col("id").str.contains(r"^[0-9]{17}[0-9X]$")
    if "numeric" in frame.columns:
        shaped = shaped & ~pl.col("numeric")
    frame = frame.with_columns(shaped.alias("shaped"))
    good = frame.filter("shaped").with_columns(
        pl.col("id").str.slice(6, 8).str.to_date("%Y%m%d", strict=False).alias("birth"),
        _check_char(pl.col("id"), _WEIGHTS, 0).alias("gb"),
        _check_char(pl.col("id"), _WEIGHTS[1:], 0).alias("sample"),
    )
    areas = good.select(pl.col("id").str.slice(0, 6).alias("a"), pl.col("birth").dt.year().alias("y")).unique()
    bad_areas = [(a, y) for a, y in areas.iter_rows() if y is None or not _area_known(a, y)]
    check_ok = pl.col("id").str.slice(17, 1) == pl.col("gb")
    if accept:
        check_ok = check_ok | (pl.col("id").str.slice(17, 1) == pl.col("sample"))
    area_bad = pl.lit(False)
    if bad_areas:
        bad = pl.DataFrame(bad_areas, schema={"a": pl.String, "y": pl.Int32}, orient="row")
        area_bad = pl.concat_str([pl.col("id").str.slice(0, 6), pl.col("birth").dt.year().cast(pl.String)]).is_in(
            bad.select(pl.concat_str(["a", pl.col("y").cast(pl.String)])).to_series().implode())
    valid = pl.col("birth").is_not_null() & (pl.col("birth") <= today) & check_ok & ~area_bad
    valid_fast = good.filter(valid).select("line", "id", "birth")
    # The rest (full-width digits, spaces, bad check digits …): the registry's own
    # check, row by row, for the exact reason.
    slow = frame.join(valid_fast.select("line"), on="line", how="anti")
    slow_ids, slow_reasons = [], []
    numeric_flags = slow["numeric"].to_list() if "numeric" in slow.columns else [False] * slow.height
    for raw, is_numeric in zip(slow["id_raw"].to_list(), numeric_flags):
        value = float(raw) if is_numeric else raw
        number, reason = id_number_reason(value, accept_sample=accept, today=today)
        slow_ids.append(number)
        slow_reasons.append(reason)
    slow = slow.select("line").with_columns(
        pl.Series("id", slow_ids, pl.String), pl.Series("invalid", slow_reasons, pl.String)
    ).with_columns(pl.col("id").str.slice(6, 8).str.to_date("%Y%m%d", strict=False).alias("birth"))
    checked = pl.concat([valid_fast.with_columns(pl.lit(None, pl.String).alias("invalid")), slow.select("line", "id", "birth", "invalid")])
    frame = frame.drop("id").join(checked, on="line", how="left").sort("line")

    first_line = frame.filter(pl.col("id").is_not_null()).group_by("id").agg(pl.col("line").min().alias("first_line"))
    frame = frame.join(first_line, on="id", how="left")
    frame = frame.with_columns(
        pl.when(pl.col("invalid").is_null() & (pl.col("line") != pl.col("first_line")))
        .then(pl.format("公民身份号码与第{}行重复", pl.col("first_line")))
        .otherwise(pl.col("invalid")).alias("invalid")
    )
    frame = frame.join(_registry_frame(), left_on="id", right_on="id_number", how="left")
    frame = frame.join(_changes_frame(as_of), left_on="id", right_on="id_number", how="left")
    birth = pl.col("birth").dt.to_string("%Y-%m-%d")
    category = (
        pl.when(pl.col("invalid").is_not_null()).then(pl.lit("invalid"))
        .when(pl.col("dead_status").fill_null(False) | pl.col("died_on").is_not_null()).then(pl.lit("deceased"))
        .when(pl.col("enrolled").fill_null(False)).then(pl.lit("enrolled"))
        .when(pl.col("birth") > born_by).then(pl.lit("too_young"))
        .when(pl.col("birth") <= born_after).then(pl.lit("too_old"))
        .when((pl.col("last_kind") == "转出") & (pl.col("last_to").fill_null("") != "")).then(pl.lit("transferred"))
        .otherwise(pl.lit("out_of_school"))
    )
    entry_year = (as_of.year if (as_of.month, as_of.day) >= (9, 1) else as_of.year - 1)
    cutoff = f"{entry_year}年{rule['cutoff'][0]}月{rule['cutoff'][1]}日"
    reason = (
        pl.when(pl.col("category") == "invalid").then(pl.col("invalid"))
        .when(pl.col("category") == "deceased").then(
            pl.when(pl.col("died_on").is_not_null())
            .then(pl.format("已于{}死亡注销", pl.col("died_on").dt.to_string("%Y-%m-%d")))
            .otherwise(pl.format("学籍状态为死亡注销（{}）", pl.col("school"))))
        .when(pl.col("category") == "enrolled").then(pl.format("在{}就读（学籍状态：{}）", pl.col("school"), pl.col("status")))
        .when(pl.col("category") == "too_young").then(
            pl.format("出生于{}，{}前未满{}周岁，未到入学年龄", birth, pl.lit(cutoff), pl.lit(rule["min_age"])))
        .when(pl.col("category") == "too_old").then(
            pl.format("出生于{}，至{}已满{}周岁，超过义务教育年龄", birth, pl.lit(as_of.isoformat()), pl.lit(rule["max_age"] + 1)))
        .when(pl.col("category") == "transferred").then(
            pl.format("已于{}转出至{}，请核实转学", pl.col("last_on").dt.to_string("%Y-%m-%d"), pl.col("last_to")))
        .when(pl.col("status").is_not_null()).then(
            pl.format("全县无在读学籍（原{}，学籍状态：{}）；适龄未入学，疑似失学辍学", pl.col("school"), pl.col("status")))
        .otherwise(pl.lit("全县学籍中无此人；适龄未入学，疑似失学辍学"))
    )
    frame = frame.with_columns(category.alias("category")).with_columns(reason.alias("reason"))
    frame = frame.with_columns(pl.col("name").str.replace_all(r"\s+", ""))
    out = frame.select(
        "line", pl.coalesce("id", "id_raw").alias("id_number"), "name", "category", "reason",
        birth.alias("birth_date"), "address", "guardian",
    )
    return FrameOutcome(out, params={"rule": {**rule, "cutoff": list(rule["cutoff"])}, "born_after": born_after.isoformat(),
                                     "born_by": born_by.isoformat(), "accept_sample_check_digits": accept})



class FrameOutcome(Outcome):
    """An :class:`Outcome` whose rows are a polars frame (a register of a million rows
    is never turned into a million dicts unless a caller asks for them)."""

    def __init__(self, frame: pl.DataFrame, params: dict) -> None:
        self.frame = frame
        self.params = params

    @property
    def rows(self) -> list[dict]:  # type: ignore[override]
        return [_row_dict(r) for r in self.frame.iter_rows(named=True)]

    def counts(self, categories) -> dict[str, int]:
        out = dict.fromkeys(categories, 0)
        for cat, n in self.frame.group_by("category").len().iter_rows():
            out[cat] = n
        return out

    def stored_rows(self, categories: dict[str, Category]) -> list[dict]:
        """The rows of the stored categories as dicts."""
        keep = [c for c, cat in categories.items() if cat.stored]
        return [_row_dict(r) for r in self.frame.filter(pl.col("category").is_in(keep)).iter_rows(named=True)]


def _row_dict(r: dict) -> dict:
    extra = {k: r[k] for k in ("birth_date", "address", "guardian") if r.get(k)}
    return {"line": r["line"], "id_number": (r["id_number"] or "")[:32] or None, "name": (r["name"] or None),
            "category": r["category"], "reason": r["reason"], "data": extra or None}


