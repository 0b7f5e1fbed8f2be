"""The comparison kinds (比对类型): one class each, with a common interface, kept in
:data:`KINDS` (the one registry of kinds; a plugin hook can later add to it).

Every kind has a ``name``, a Chinese ``label``, its ``categories`` (each with a label,
whether it is *flagged* — cases may be opened from it — and whether its rows are
stored) and ``run(...)``, which sorts every input row into exactly one category with
its reason and returns a :class:`Outcome`.
"""

from __future__ import annotations

import io
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from datetime import date, timedelta

import polars as pl
import sqlalchemy as sa

from edu_guard.comparisons.rules import compulsory_birth_range
from edu_guard.db import db
from edu_guard.registry import readers
from edu_guard.registry.models import Child, DisabilityRecord, Enrollment, School, StatusChange
from edu_guard.registry.normalize import clean_code, clean_name, field_label, is_number_cell
from edu_guard.registry.schemas import (
    _SCIENTIFIC,
    NUMERIC_ID_REASON,
    SCIENTIFIC_ID_REASON,
    IdNumberError,
    validate_id_number,
)

#: Enrollment statuses that count as "enrolled in the county" (学籍保留).
ENROLLED_STATUSES = ("在读", "休学")


class ComparisonError(Exception):
    """The input cannot be compared; ``str(exc)`` is a Chinese message."""


@dataclass(frozen=True)
class Category:
    """A category of a comparison's rows."""

    label: str
    #: Cases may be opened from rows of this category (suspected out of school).
    flagged: bool = False
    #: Rows of this category are stored with the run (otherwise only counted).
    stored: bool = True
    #: The 辍学原因 a case opened from such a row starts with.
    case_reason: str = "其他"


@dataclass
class Outcome:
    """What a run found.

    :ivar rows: one dict per input row: ``line``, ``id_number``, ``name``,
        ``category``, ``reason``, ``data`` (a dict of extra facts, or ``None``).
    :ivar params: the settings the run used.
    """

    rows: list[dict]
    params: dict = field(default_factory=dict)

    def counts(self, categories) -> dict[str, int]:
        """Return the number of rows per category (every category, zeros included)."""
        out = dict.fromkeys(categories, 0)
        for row in self.rows:
            out[row["category"]] += 1
        return out


class Comparison(ABC):
    """A comparison kind. Subclasses set ``name``, ``label``, ``categories``,
    ``needs_file`` and implement :meth:`run`."""

    name: str
    label: str
    categories: dict[str, Category]
    #: Whether the comparison takes an uploaded file (else it reads the registry only).
    needs_file: bool = False

    @abstractmethod
    def run(self, *, as_of: date, settings: dict, data: bytes | None = None, filename: str | None = None) -> Outcome:
        """Sort every row into one category with its reason.

        :param as_of: the date the comparison is made for.
        :param settings: the ``EDU_GUARD_*`` configuration.
        :param data: the uploaded file's bytes (kinds with ``needs_file``).
        :param filename: its name (the suffix picks the reader).
        :raises ComparisonError: the input cannot be read.
        """


# --- household register (户籍) against the registry ------------------------------------

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


class HouseholdComparison(Comparison):
    """户籍–学籍比对: every row of the household register (户籍) against the registry."""

    name = "household"
    label = "户籍与学籍比对"
    needs_file = True
    categories = {
        "out_of_school": Category("适龄未入学（疑似失学辍学）", flagged=True, case_reason="其他"),
        "transferred": Category("已转出（核实转学）"),
        "deceased": Category("已死亡注销"),
        "invalid": Category("行数据无效"),
        "enrolled": Category("在本县就读", stored=False),
        "too_young": Category("未到入学年龄", stored=False),
        "too_old": Category("超过义务教育年龄", stored=False),
    }

    def run(self, *, as_of, settings, data=None, filename=None):
        """See :meth:`Comparison.run`. Categories, in order of precedence: invalid row,
        deceased (死亡注销 in the registry or the status changes), enrolled (a 在读 or 休学
        学籍 anywhere in the county), too young / too old (:func:`compulsory_birth_range`),
        transferred out to a named school (the latest change is a 转出 with a
        destination), else out of school."""
        from edu_guard.comparisons.rules import rule_from_config

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
        from edu_guard.registry.schemas import _area_known

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


def _truthy(value) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on")
    return bool(value)


# --- status changes (学籍变动) ----------------------------------------------------------


class StatusComparison(Comparison):
    """学籍变动核查: 转出 with no receiving school, 休学 past its end, 死亡注销 (DOMAIN 4).

    One row per ID number with a 转出, 休学 or 死亡注销 up to the as-of date; the latest
    change decides (a later 转入 or 复学 resolves it).
    """

    name = "status"
    label = "学籍变动核查"
    categories = {
        "transfer_no_destination": Category("转出无接收学校（疑似辍学）", flagged=True, case_reason="其他"),
        "suspension_overdue": Category("休学期满未复学", flagged=True, case_reason="疾病"),
        "deceased": Category("死亡注销"),
        "transfer_pending": Category("转出待接收（未超期）"),
        "transfer_named": Category("转出至外校（核实转学）"),
        "suspended": Category("休学中"),
        "resolved": Category("已复学或已转入"),
    }

    def run(self, *, as_of, settings, data=None, filename=None):
        """See :meth:`Comparison.run`."""
        arrival = int(settings.get("EDU_GUARD_TRANSFER_ARRIVAL_DAYS", 30))
        suspension = int(settings.get("EDU_GUARD_SUSPENSION_DAYS", 365))
        changes = db.session.execute(
            sa.select(StatusChange).where(StatusChange.changed_on <= as_of).order_by(StatusChange.changed_on, StatusChange.id)
        ).scalars().all()
        latest: dict[str, StatusChange] = {}
        flagged_ids = set()
        for change in changes:
            latest[change.id_number] = change
            if change.kind in ("转出", "休学", "死亡注销"):
                flagged_ids.add(change.id_number)
        enrolled_since = _enrolled_ids()
        rows = []
        for number in sorted(flagged_ids):
            change = latest[number]
            days = (as_of - change.changed_on).days
            data_ = {"changed_on": change.changed_on.isoformat(), "from_school": change.from_school, "kind": change.kind}
            if change.kind == "死亡注销":
                cat, reason = "deceased", f"{change.changed_on}死亡注销（{change.reason or '未注明原因'}），相关个案应销号"
            elif change.kind == "转出" and change.to_school:
                cat, reason = "transfer_named", f"{change.changed_on}转出至{change.to_school}，请核实转学"
            elif change.kind == "转出" and number in enrolled_since:
                cat, reason = "resolved", f"{change.changed_on}转出，现已在本县在读"
            elif change.kind == "转出" and days > arrival:
                cat, reason = "transfer_no_destination", f"{change.changed_on}自{change.from_school or '原校'}转出，无接收学校，已{days}天（超过{arrival}天）"
            elif change.kind == "转出":
                cat, reason = "transfer_pending", f"{change.changed_on}转出，无接收学校，{days}天（未超过{arrival}天）"
            elif change.kind == "休学" and days > suspension:
                cat, reason = "suspension_overdue", f"{change.changed_on}休学，已{days}天（休学期{suspension}天）仍未复学"
            elif change.kind == "休学":
                end = change.changed_on + timedelta(days=suspension)
                cat, reason = "suspended", f"{change.changed_on}休学（{change.reason or '未注明原因'}），休学期至{end}"
            else:
                cat, reason = "resolved", f"{change.changed_on}{change.kind}"
            rows.append({"line": change.id, "id_number": number, "name": change.name, "category": cat, "reason": reason, "data": data_})
        return Outcome(rows, params={"transfer_arrival_days": arrival, "suspension_days": suspension})


def _enrolled_ids() -> set[str]:
    return set(db.session.execute(
        sa.select(Child.id_number).join(Enrollment, Enrollment.child_id == Child.id).where(Enrollment.status == "在读")
    ).scalars())


# --- disabled children (残疾儿童) --------------------------------------------------------


def homebound_placements(id_numbers: list[str]) -> set[str]:
    """Return the ID numbers among ``id_numbers`` that have a 送教上门 (homebound)
    placement.

    The one place the comparisons and ledgers ask about placements. Placements live in
    ``edu_guard.homebound``, built in a parallel branch: until it is merged there are
    none, so this returns an empty set (the lead wires it at merge).
    """
    return set()


class DisabledComparison(Comparison):
    """残疾儿童与学籍比对: the disabled persons' federation's list (imported as
    :class:`~edu_guard.registry.models.DisabilityRecord`) against the registry and the
    送教上门 placements (残疾人教育条例 2017; DOMAIN 3)."""

    name = "disabled"
    label = "残疾儿童与学籍、送教上门比对"
    categories = {
        "needs_placement": Category("不能到校且未安置（送教上门候选）", flagged=False),
        "placed": Category("已安置送教上门"),
        "attends_enrolled": Category("能到校，已在读"),
        "attends_not_enrolled": Category("能到校，但无在读学籍", flagged=True, case_reason="残疾"),
    }

    def run(self, *, as_of, settings, data=None, filename=None):
        """See :meth:`Comparison.run`."""
        records = db.session.execute(sa.select(DisabilityRecord).order_by(DisabilityRecord.id)).scalars().all()
        placed = homebound_placements([r.id_number for r in records])
        enrolled = _enrolled_ids()
        rows = []
        for r in records:
            data_ = {"certificate": r.certificate_number, "disability": f"{r.category or ''}{r.level or ''}级",
                     "township": r.township, "village": r.village}
            if r.id_number in placed:
                cat, reason = "placed", "已有送教上门安置"
            elif not r.can_attend_school:
                cat, reason = "needs_placement", f"残联名单注明不能到校就读（{r.category or ''}{r.level or ''}级），尚无送教上门安置"
            elif r.id_number in enrolled:
                cat, reason = "attends_enrolled", "能到校就读，已在本县在读"
            else:
                cat, reason = "attends_not_enrolled", "能到校就读，但全县无在读学籍；疑似失学辍学"
            rows.append({"line": r.id, "id_number": r.id_number, "name": r.name, "category": cat, "reason": reason, "data": data_})
        return Outcome(rows)


#: The comparison kinds by name (the one registry of kinds).
KINDS: dict[str, Comparison] = {k.name: k for k in (HouseholdComparison(), StatusComparison(), DisabledComparison())}
