"""Services of comparisons (数据比对): run and store a comparison, open cases from it.

The only place that changes comparison data; flush, never commit (the view or CLI
commits once).
"""

from __future__ import annotations

import hashlib
from concurrent.futures import ThreadPoolExecutor
import time
from datetime import date

import sqlalchemy as sa
from flask import current_app

from edu_guard import clock
from edu_guard.auth import audit
from edu_guard.cases import services as case_services
from edu_guard.cases.models import DropoutCase
from edu_guard.comparisons.kinds import kinds, ComparisonError, Outcome
from edu_guard.comparisons.models import ComparisonRow, ComparisonRun
from edu_guard.db import db
from edu_guard.i18n import Message, message_of
from edu_guard.registry.importers import bulk_insert
from edu_guard.registry.models import Child, Township
from edu_guard.registry.schemas import birth_date_from_id, sex_from_id
from edu_guard.registry.search import name_condition, number_condition
from edu_guard.registry.services import add_guardian


def _blank(data: bytes) -> bool:
    """Whether a file holds nothing but a BOM and white space (checked without copying a
    large file: a non-blank byte is found at once in any real register)."""
    body = memoryview(data)[3:] if data.startswith(b"\xef\xbb\xbf") else memoryview(data)
    return all(byte in b" \t\r\n" for byte in body)


def check_request(kind: str, as_of: date, *, has_file: bool):
    """Check what a comparison needs before it is run or queued: a known kind, an
    as-of date no later than today (:func:`edu_guard.clock.today`; the registry holds
    no facts of a later day), a file for a kind that takes one and none for a kind
    that reads the system's own records only (a file given there would be ignored
    without a word: QA).

    :return: the :class:`~edu_guard.comparisons.base.Comparison`.
    :raises ComparisonError: otherwise, with the reason in Chinese.
    """
    comparison = kinds().get(kind)
    if comparison is None:
        raise ComparisonError(Message("未知的比对类型“%(kind)s”（可选：%(choices)s）", kind=kind, choices='、'.join(kinds())))
    if comparison.needs_file and not has_file:
        raise ComparisonError(Message("%(label)s需要上传文件", label=Message(comparison.label)))
    if has_file and not comparison.needs_file:
        raise ComparisonError(Message("%(label)s不需要上传文件（只比对系统内已有的数据），上传的文件不会被读取：请取消所选文件后再运行", label=Message(comparison.label)))
    today = clock.today()
    if as_of > today:
        raise ComparisonError(Message("比对基准日 %(as_of)s 晚于今天（%(today)s）：基准日只能是今天或以前的日期", as_of=as_of, today=today))
    return comparison


def run_comparison(kind: str, *, as_of: date, data: bytes | None = None, filename: str | None = None,
                   user=None) -> tuple[ComparisonRun, Outcome]:
    """Run the comparison ``kind`` and store the run with its counts and the rows of the
    stored categories (one bulk insert); flush, never commit.

    :param kind: a key of :func:`edu_guard.comparisons.kinds.kinds`.
    :param as_of: the date compared for: today (:func:`edu_guard.clock.today`)
        or earlier — the registry holds no facts of a later day.
    :param data: the input file's bytes, for kinds that take a file.
    :return: the run and the outcome (every row, for the caller to print).
    :raises ComparisonError: unknown kind, an as-of date after today, a missing or
        empty file (``None`` or no content), unreadable input.
    """
    comparison = check_request(kind, as_of, has_file=data is not None)
    if comparison.needs_file and _blank(data):
        raise ComparisonError(Message("文件“%(filename)s”没有内容（空文件）：请上传%(label)s所用的名单", filename=filename or Message('上传的文件'), label=Message(comparison.label)))
    settings = {k: v for k, v in current_app.config.items() if k.startswith("EDU_GUARD_")}
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=1) as pool:  # hashlib releases the GIL on large data
        digest = pool.submit(lambda: hashlib.sha256(data).hexdigest()) if data else None
        outcome = comparison.run(as_of=as_of, settings=settings, data=data, filename=filename)
        sha256 = digest.result() if digest else None
    counts = outcome.counts(comparison.categories)
    run = ComparisonRun(
        kind=kind,
        filename=filename,
        sha256=sha256,
        as_of=as_of,
        params=outcome.params,
        counts=counts,
        total=sum(counts.values()),
        user_id=audit.acting_user_id(user),
        county_code=audit.acting_county_code(user),
    )
    db.session.add(run)
    db.session.flush()
    if hasattr(outcome, "stored_rows"):  # a polars-backed outcome (the household register)
        stored = outcome.stored_rows(comparison.categories)
    else:
        stored = [r for r in outcome.rows if comparison.categories[r["category"]].stored]
    bulk_insert(ComparisonRow, [{**r, "reason": _stored(r["reason"]), "run_id": run.id, "case_id": None} for r in stored])
    run.seconds = round(time.perf_counter() - started, 3)
    audit.record("run", run, after={"kind": kind, "as_of": as_of.isoformat(), "filename": filename, "sha256": sha256,
                                    "total": run.total, "counts": counts}, user=user)
    return run, outcome


def _stored(reason):
    """A row's reason as its :class:`MessageText` column keeps it (the bulk load of
    PostgreSQL's COPY bypasses the column type, so it is written here)."""
    return ComparisonRow.reason.type.process_bind_param(reason, None)


def _chinese(reason) -> str:
    """A stored reason in Chinese (a case's note is kept as text, in Chinese)."""
    return reason.chinese() if isinstance(reason, Message) else str(reason)


def runs() -> sa.Select:
    """Return the select statement of the stored comparison runs, newest first."""
    return sa.select(ComparisonRun).order_by(ComparisonRun.id.desc())


def run_rows(run: ComparisonRun, category: str | None = None, search: str | None = None):
    """Return the select statement of a run's stored rows, filtered."""
    stmt = sa.select(ComparisonRow).where(ComparisonRow.run_id == run.id).order_by(ComparisonRow.line)
    if category:
        stmt = stmt.where(ComparisonRow.category == category)
    if search:
        stmt = stmt.where(sa.or_(name_condition(ComparisonRow.name, search), number_condition(ComparisonRow.id_number, search)))
    return stmt


def _child_for(row: ComparisonRow, user) -> Child:
    """The registry's child of ``row``, created from the row when the register names a
    child the registry does not know (the usual case of an unenrolled child)."""
    child = db.session.execute(sa.select(Child).where(Child.id_number == row.id_number)).scalar_one_or_none()
    data = row.data or {}
    address = data.get("address") or ""
    if child is not None:
        # The register's 户籍住址 fills an address the registry lacks (the letters'
        # place of service and the party's address).
        if address and not child.address:
            child.address = address
        for guardian in child.guardians:
            if address and not guardian.address:
                guardian.address = address
        return child
    township = next((t for t in db.session.execute(sa.select(Township)).scalars() if t.name in address), None)
    village = None
    if township is not None:
        village = next((v for v in township.villages if v.name in address), None)
    child = Child(
        id_number=row.id_number,
        name=row.name or "（未填姓名）",
        sex=sex_from_id(row.id_number),
        birth_date=birth_date_from_id(row.id_number),
        hukou=address or None,
        address=address or None,
        township=township,
        village=village,
    )
    db.session.add(child)
    db.session.flush()
    audit.record("create", child, user=user)
    if data.get("guardian"):

        add_guardian(child, name=data["guardian"], user=user)
    return child


def open_cases(run: ComparisonRun, row_ids: list[int] | None = None, *, category: str | None = None,
               reason: str | None = None, user=None) -> dict[str, list]:
    """Open a dropout case for each chosen row of a flagged category; flush, never commit.

    A child gets one case at most: a row whose child already has an open case is linked
    to that case and skipped; two clerks opening the same run at once are kept apart by
    the database's one-open-case-per-child index (a savepoint per child, the loser
    links to the winner's case).

    :param row_ids: the rows chosen; ``None`` with ``category``: every row of it.
    :param reason: the 辍学原因 (default: the category's).
    :return: ``{"opened": [case ids], "existing": [case ids], "refused": [(row id, reason)]}``.
        Each case is opened on the run's as-of date (the day the child was found out
        of school); the row's suspected-dropout ledger entry is closed today.
    :raises ComparisonError: no rows chosen or a category that is not flagged.
    """
    comparison = kinds()[run.kind]
    stmt = sa.select(ComparisonRow).where(ComparisonRow.run_id == run.id).order_by(ComparisonRow.line)
    if row_ids is not None:
        stmt = stmt.where(ComparisonRow.id.in_(row_ids))
    elif category:
        stmt = stmt.where(ComparisonRow.category == category)
    else:
        raise ComparisonError(Message("请选择要立案的行"))
    rows = db.session.execute(stmt).scalars().all()
    result: dict[str, list] = {"opened": [], "existing": [], "refused": []}
    on = clock.today()
    # The case dates from the day the comparison found the child out of school (its
    # as-of date), so the age rule is applied on the same day as in the comparison.
    found_on = min(run.as_of, on)
    for row in rows:
        cat = comparison.categories.get(row.category)
        if cat is None or not cat.flagged:
            result["refused"].append((row.id, Message("“%(category)s”类不立案", category=Message(cat.label) if cat else row.category)))
            continue
        existing = _open_case_of(row.id_number)
        if existing is not None:
            _link(row, existing, on)
            result["existing"].append(existing)
            continue
        savepoint = db.session.begin_nested()
        try:
            child = _child_for(row, user)
            case = case_services.open_case(
                child, reason=reason or cat.case_reason, opened_on=found_on, source="comparison", user=user,
                reason_note=f"{comparison.label}（比对记录 {run.id}，{run.as_of}）：{_chinese(row.reason)}",
            )
            savepoint.commit()
        except sa.exc.IntegrityError:  # another clerk opened the child's case meanwhile
            savepoint.rollback()
            existing = _open_case_of(row.id_number)
            if existing is None:
                raise
            _link(row, existing, on)
            result["existing"].append(existing)
            continue
        except case_services.CaseError as exc:
            savepoint.rollback()
            existing = _open_case_of(row.id_number)
            if existing is not None:  # opened meanwhile: open_case's own check saw it
                _link(row, existing, on)
                result["existing"].append(existing)
            else:
                result["refused"].append((row.id, message_of(exc)))
            continue
        _link(row, case.id, on)
        result["opened"].append(case.id)
    db.session.flush()
    return result


def _link(row: ComparisonRow, case_id: int, on: date) -> None:
    """Link a row to its child's case and close its suspected-dropout ledger entry."""
    row.case_id = case_id
    if row.closed_on is None:
        row.closed_on, row.closed_reason = on, Message("已立案（个案 %(case)s），转入辍学台账", case=case_id)


def close_entry(row: ComparisonRow, *, reason: str, on: date | None = None, user=None) -> ComparisonRow:
    """Close (销号) a suspected-dropout ledger entry with its reason and date.

    :raises ComparisonError: no reason, a date in the future, or already closed.
    """
    on = on or clock.today()
    reason = (reason or "").strip()
    if not reason:
        raise ComparisonError(Message("请填写销号原因"))
    if on > clock.today():
        raise ComparisonError(Message("销号日期不能晚于今天"))
    if row.closed_on is not None:
        raise ComparisonError(Message("该条目已于 %(closed_on)s 销号", closed_on=row.closed_on))
    row.closed_on, row.closed_reason = on, reason
    db.session.flush()
    audit.record("update", row, before={"closed_on": None}, after={"closed_on": on.isoformat(), "closed_reason": reason}, user=user)
    return row


def _open_case_of(id_number: str | None) -> int | None:
    return db.session.execute(
        sa.select(DropoutCase.id).join(Child, Child.id == DropoutCase.child_id)
        .where(Child.id_number == id_number, DropoutCase.state != "closed")
    ).scalar()
