"""Student-aid services (学生资助): terms, proposing lists, the school's review, posting
(公示), approval into payments, reversals. The only place that changes aid data: it
adds and flushes, never commits (the view or CLI commits once, then calls
:func:`notify_batch`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

import logging

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm.exc import StaleDataError

from edu_guard import money
from edu_guard.aid import eligibility
from edu_guard.aid.accounts import accounts_of, mask_account
from edu_guard.aid.models import (
    CHANNELS,
    term_label,
    LIST_STATES,
    AidList,
    AidListEntry,
    Payment,
    PaymentBatch,
    PaymentReversal,
    Term,
)
from edu_guard.auth import audit
from edu_guard.auth.scoping import unscoped
from edu_guard.db import db, utcnow
from edu_guard import hooks
from edu_guard.schemes.base import POVERTY_KINDS, AidScheme, SchemeError
from edu_guard.cases import services as case_services
from edu_guard.registry.importers import bulk_insert
from edu_guard.deadlines import add_working_days
from edu_guard.i18n import N_, Message, message_of

TERM_SEASONS = {"spring": "春季学期", "autumn": "秋季学期"}


class AidError(ValueError):
    """An aid action that is not allowed now (a :class:`~edu_guard.i18n.Message`, shown in
    the reader's language)."""


def today() -> date:
    """Today, from the one place tests set it (:func:`edu_guard.cases.services.today`)."""

    return case_services.today()


# --- terms --------------------------------------------------------------------------


def add_term(code: str, start: date, end: date, school_days: int, name: str | None = None) -> Term:
    """Create a term (学期).

    :param code: ``YYYY-spring`` or ``YYYY-autumn``.
    :param school_days: days of teaching (营养改善计划 pays per school day), > 0.
    :raises AidError: a bad code, dates in the wrong order, or a code already used.
    """
    year, _, season = code.partition("-")
    if not (year.isdigit() and len(year) == 4 and season in TERM_SEASONS):
        raise AidError(Message("学期代码“%(code)s”应形如 2021-spring 或 2021-autumn", code=code))
    if end <= start:
        raise AidError(Message("学期结束日期应晚于开始日期"))
    if school_days <= 0 or school_days > (end - start).days + 1:
        raise AidError(Message("在校天数 %(days)s 不在 1 至学期天数之间", days=school_days))
    if db.session.execute(sa.select(Term.id).where(Term.code == code)).first():
        raise AidError(Message("学期 %(code)s 已存在", code=code))
    # A spring term starts in its year's first half, an autumn term in its second half;
    # two terms never share a day — else one child could be paid twice for one half-year.
    starts_in_season = start.month <= 6 if season == "spring" else start.month >= 7
    if start.year != int(year) or not starts_in_season:
        raise AidError(Message("学期 %(code)s 的开始日期 %(start)s 不在%(term)s（春季学期在上半年开学，秋季学期在下半年开学）",
                                code=code, start=start, term=term_label(int(year), season)))
    overlap = db.session.execute(
        sa.select(Term).where(Term.start <= end, Term.end >= start).order_by(Term.start)
    ).scalars().first()
    if overlap is not None:
        raise AidError(Message("学期 %(code)s（%(start)s 至 %(end)s）与已有学期 %(other)s（%(other_start)s 至 %(other_end)s）时间重叠",
                                code=code, start=start, end=end, other=overlap.code, other_start=overlap.start,
                                other_end=overlap.end))
    term = Term(code=code, name=name or term_label(int(year), season).chinese(), start=start, end=end, school_days=school_days)
    db.session.add(term)
    db.session.flush()
    audit.record("create", term)
    return term


def get_term(code: str) -> Term:
    """Return the term with ``code``.

    :raises AidError: no such term.
    """
    term = db.session.execute(sa.select(Term).where(Term.code == code)).scalar_one_or_none()
    if term is None:
        raise AidError(Message("没有学期 %(code)s", code=code))
    return term


# --- schemes ------------------------------------------------------------------------


def schemes() -> dict[str, AidScheme]:
    """The schemes of every enabled plugin, by code."""
    return hooks.contributions().schemes


def scheme(code: str) -> AidScheme:
    """Return the scheme ``code``.

    :raises AidError: no enabled plugin provides it.
    """
    found = schemes().get(code)
    if found is None:
        raise AidError(Message("没有资助项目 %(code)s（插件未启用？）", code=code))
    return found


def exclusive_with(code: str) -> set[str]:
    """Codes of the schemes a child may not be paid together with ``code`` in a term:
    either side's ``excludes`` counts."""
    all_schemes = schemes()
    own = set(all_schemes[code].excludes) if code in all_schemes else set()
    return own | {c for c, s in all_schemes.items() if code in s.excludes}


@unscoped("exclusive schemes: one per child county-wide, whichever school pays")
def _taken_elsewhere(term: Term, codes: set[str]) -> dict[int, str]:
    """Child id → the excluded scheme code the child is already paid or proposed in."""
    if not codes:
        return {}
    taken: dict[int, str] = {}
    paid = sa.select(Payment.child_id, Payment.scheme_code).where(
        Payment.term_id == term.id, Payment.scheme_code.in_(codes), Payment.id.not_in(sa.select(PaymentReversal.payment_id))
    )
    proposed = (
        sa.select(AidListEntry.child_id, AidList.scheme_code)
        .join(AidList, AidList.id == AidListEntry.list_id)
        .where(AidList.term_id == term.id, AidList.scheme_code.in_(codes), AidListEntry.included.is_(True))
    )
    for child_id, code in [*db.session.execute(paid), *db.session.execute(proposed)]:
        taken.setdefault(child_id, code)
    return taken


# --- proposing ----------------------------------------------------------------------


log = logging.getLogger(__name__)


class SchemeFailed(Exception):
    """A scheme's ``decide`` raised something other than :class:`SchemeError` (a broken
    plugin); raised by :func:`propose` before anything is written, with the original
    exception as ``__cause__``.

    :ivar scheme: the :class:`AidScheme` whose decision failed.
    """

    def __init__(self, scheme: AidScheme, error: BaseException) -> None:
        super().__init__(f"{scheme.name}（{scheme.code}）：{type(error).__name__}: {error}")
        self.scheme = scheme
        self.error = error


@dataclass
class Proposal:
    """What :func:`propose` did: lists created, children proposed and refused."""

    scheme_code: str
    lists: int = 0
    proposed: int = 0
    refused: int = 0
    amount: Decimal = Decimal("0.00")
    skipped_schools: list[str] = field(default_factory=list)


def propose(term: Term, scheme_code: str, *, candidates: eligibility.CandidateSet | None = None, user=None) -> Proposal:
    """Propose the eligible children of a term for a scheme: one list per school, each
    entry with the scheme's amount, tier and reason.

    A child already paid or proposed (included) in a scheme this one excludes, in either
    direction, is put on the list but not included, with the reason. Schools that
    already have a list for the term and scheme are left as they are.

    :param candidates: the term's candidates, to share one reading between schemes.
    :return: a :class:`Proposal`.
    :raises AidError: unknown scheme.
    :raises SchemeError: the scheme has no standard for the term.
    :raises SchemeFailed: the scheme's ``decide`` raised anything else (nothing is
        written for the scheme).
    """
    sch = scheme(scheme_code)
    info = eligibility.term_info(term)
    cands = candidates or eligibility.candidates(info)
    existing = set(
        db.session.execute(
            sa.select(AidList.school_id).where(AidList.term_id == term.id, AidList.scheme_code == scheme_code)
        ).scalars()
    )
    taken = _taken_elsewhere(term, exclusive_with(scheme_code))
    names = schemes()
    by_school: dict[int, list[dict]] = {}
    result = Proposal(scheme_code)
    skipped = set()
    for c in cands.candidates.values():
        try:
            decision = sch.decide(c, info)
        except SchemeError:
            raise
        except Exception as exc:  # noqa: BLE001 - a broken plugin's scheme, named by the caller
            raise SchemeFailed(sch, exc) from exc
        if not decision.eligible:
            continue
        school_id = cands.school_ids[c.school_code]
        if school_id in existing:
            skipped.add(c.school_name)
            continue
        other = taken.get(c.child_id)
        entry = {
            "child_id": c.child_id,
            "amount_fen": money.to_fen(decision.amount),
            "tier": decision.tier,
            "reason": _short(decision.reason),
            "stage": c.stage,
            "family_kinds": "、".join(sorted(c.family_kinds)),
            "disabled": c.disabled,
            "included": other is None,
            "added_by_school": False,
            "review_reason": None if other is None else Message("已列入互斥项目“%(scheme)s”",
                                                                scheme=names[other].name if other in names else other),
        }
        by_school.setdefault(school_id, []).append(entry)
        if other is None:
            result.proposed += 1
            result.amount += decision.amount
        else:
            result.refused += 1
    now = utcnow()
    lists = []
    for school_id in sorted(by_school):
        lists.append(AidList(term_id=term.id, scheme_code=scheme_code, school_id=school_id, state="proposed",
                             created_at=now, updated_at=now))
    db.session.add_all(lists)
    db.session.flush()

    rows = []
    for aid_list in lists:
        for entry in by_school[aid_list.school_id]:
            rows.append({"list_id": aid_list.id, **entry, "reason": _stored_reason(entry["reason"]),
                         "review_reason": _stored_reason(entry["review_reason"])})
    bulk_insert(AidListEntry, rows)
    result.lists = len(lists)
    result.skipped_schools = sorted(skipped)
    counts: dict[int, int] = {}
    for row in rows:
        counts[row["list_id"]] = counts.get(row["list_id"], 0) + 1
    for aid_list in lists:
        audit.record("propose", aid_list, after={"term": term.code, "scheme": scheme_code,
                                                 "school_id": aid_list.school_id, "entries": counts.get(aid_list.id, 0)},
                     user=user)
    return result


def propose_all(term: Term, codes: list[str], *, user=None,
                progress=None) -> tuple[list[Proposal], list[hooks.PluginFailure]]:
    """Propose the lists of ``term`` for each scheme of ``codes``, each scheme on its own:
    a scheme that fails (its plugin's ``decide`` raises, or it has no standard for the
    term) is left out with its failure, and the other schemes are still proposed. The
    candidates are read once. Flushes, never commits.

    :param codes: scheme codes, in the order to propose them.
    :param progress: called as ``progress(done, total)`` (schemes) after each scheme
        (the CLI's bar, a job's progress).
    :return: ``(proposals, failures)``: a :class:`Proposal` for each scheme proposed and
        a :class:`~edu_guard.hooks.PluginFailure` (the scheme's plugin, ``"<code>.decide"``
        and the error) for each that failed; a broken plugin's error is logged with
        its traceback.
    :raises AidError: an unknown scheme code.
    """
    for code in codes:
        scheme(code)
    cands = eligibility.candidates(eligibility.term_info(term))
    proposals, failures = [], []
    for code in codes:
        try:
            proposals.append(propose(term, code, candidates=cands, user=user))
        except SchemeFailed as exc:
            log.error("scheme %s of plugin %s failed to decide", code, exc.scheme.plugin, exc_info=exc.error)
            failures.append(hooks.PluginFailure(exc.scheme.plugin, f"{code}.decide", exc.error))
        except SchemeError as exc:
            failures.append(hooks.PluginFailure(scheme(code).plugin, f"{code}.decide", exc))
        if progress:
            progress(len(proposals) + len(failures), len(codes))
    return proposals, failures


# --- review by the school -----------------------------------------------------------


#: The sample county's term: 2021年春季学期, 1 March to 9 July 2021, 90 school days.
DEMO_TERM = ("2021-spring", date(2021, 3, 1), date(2021, 7, 9), 90)


def load_demo_term(user=None) -> list[Proposal] | None:
    """Add the sample county's term (:data:`DEMO_TERM`) and propose every enabled scheme
    for it, so the aid pages start with lists to review; flush, never commit.

    :return: the proposals, or ``None`` when the term exists already (nothing changed).
    """
    code, start, end, days = DEMO_TERM
    if db.session.execute(sa.select(Term.id).where(Term.code == code)).first():
        return None
    term = add_term(code, start, end, days)
    cands = eligibility.candidates(eligibility.term_info(term))
    return [propose(term, c, candidates=cands, user=user) for c in schemes()]


def _short(reason):
    """A list entry's reason as stored: a Message as it is (its column keeps it, see
    :class:`~edu_guard.aid.models.MessageString`), text cut to 255 characters."""
    return reason if isinstance(reason, Message) else (reason or "")[:255]


def _stored_reason(reason) -> str | None:
    """A reason as the database row holds it (entries are bulk-inserted, which on
    PostgreSQL bypasses the column type)."""
    return AidListEntry.reason.type.process_bind_param(reason, None)


def _audited(entry: AidListEntry, fields: list[str] | None = None) -> dict:
    """The audit view of an entry: its reasons as Chinese text (the log is plain JSON)."""
    data = audit.snapshot(entry, fields)
    return {k: v.chinese() if isinstance(v, Message) else v for k, v in data.items()}


def _check_state(aid_list: AidList, *states: str) -> None:
    if aid_list.state not in states:
        raise AidError(Message("名单当前为“%(state)s”，不能办理此操作", state=Message(LIST_STATES[aid_list.state])))


def _reason(reason: str | None) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise AidError(Message("请填写理由"))
    return reason[:255]


def set_included(entry: AidListEntry, included: bool, reason: str, user=None) -> AidListEntry:
    """The school keeps or removes a proposed child, with a reason.

    :raises AidError: no reason, or the list is no longer under review; including a
        child already in an excluded scheme.
    """
    _check_state(entry.aid_list, "proposed")
    reason = _reason(reason)
    if included:
        lst = entry.aid_list
        other = _taken_elsewhere(lst.term, exclusive_with(lst.scheme_code)).get(entry.child_id)
        if other is not None:
            raise AidError(Message("该生已列入互斥项目 %(scheme)s，不能同时资助", scheme=other))
    before = _audited(entry, ["included", "review_reason"])
    entry.included = included
    entry.review_reason = reason
    entry.reviewed_by_id = audit.acting_user_id(user)
    entry.reviewed_at = utcnow()
    entry.aid_list.updated_at = utcnow()
    db.session.flush()
    audit.record("review", entry, before=before, after=_audited(entry, ["included", "review_reason"]), user=user)
    return entry


def _school_amount(amount, scheme_code: str, info) -> Decimal:
    """Check an amount a school enters for a child it adds: yuan with at most two
    decimals, more than zero, and no more than the scheme's highest standard for the
    term (a school cannot pay beyond the standard; docs/domain.md §2).

    :raises AidError: naming the amount and the reason.
    """
    try:
        value = Decimal(str(amount).strip())
    except ArithmeticError:
        raise AidError(Message("金额“%(amount)s”不是数字", amount=amount)) from None
    if not value.is_finite() or value <= 0:
        raise AidError(Message("金额“%(amount)s”应大于零", amount=amount))
    if value != value.quantize(Decimal("0.01")):
        raise AidError(Message("金额“%(amount)s”最多两位小数（元、角、分）", amount=amount))
    sch = scheme(scheme_code)
    try:
        rate = sch.rate_for(info)
    except SchemeError as exc:
        raise AidError(message_of(exc)) from None
    highest = max(sch.term_amount(v, info) for v in rate.amounts.values())
    if value > highest:
        raise AidError(Message("金额 %(amount)s 元超过%(scheme)s本学期的最高标准 %(highest)s 元", amount=value, scheme=sch.name,
                                highest=highest))
    return value


#: The one answer to "add this ID number" when the child is not one of the school's pupils
#: this term — whether it exists elsewhere in the county or not at all, so a school cannot
#: probe the registry (docs/domain.md §6).
NOT_AT_SCHOOL = N_("本学期本校在读学生中没有该身份证号，不能列入本校名单")


def add_entry(aid_list: AidList, child_id: int, reason: str, *, amount: Decimal | str | None = None, user=None) -> AidListEntry:
    """The school adds a child the system did not propose, with a reason.

    The amount and tier are the scheme's when the scheme finds the child eligible;
    otherwise ``amount`` (yuan) must be given.

    :raises AidError: the child is not enrolled at the list's school during the term, is
        already on the list, is in an excluded scheme, or no amount can be set.
    """
    _check_state(aid_list, "proposed")
    reason = _reason(reason)
    info = eligibility.term_info(aid_list.term)
    cands = eligibility.candidates(info, child_ids=[child_id])
    c = cands.candidates.get(child_id)
    if c is None or cands.school_ids.get(c.school_code) != aid_list.school_id:
        raise AidError(Message(NOT_AT_SCHOOL))
    if any(e.child_id == child_id for e in aid_list.entries):
        raise AidError(Message("该生已在名单上"))
    other = _taken_elsewhere(aid_list.term, exclusive_with(aid_list.scheme_code)).get(child_id)
    if other is not None:
        raise AidError(Message("该生已列入互斥项目 %(scheme)s，不能同时资助", scheme=other))
    decision = scheme(aid_list.scheme_code).decide(c, info)
    if decision.eligible:
        value, tier = decision.amount, decision.tier
    elif amount not in (None, ""):
        value, tier = _school_amount(amount, aid_list.scheme_code, info), None
    else:
        raise AidError(Message("系统判定不符合（%(reason)s）；如确需资助请填写金额", reason=decision.reason))
    entry = AidListEntry(
        child_id=child_id, amount_fen=money.to_fen(value), tier=tier, reason=_short(decision.reason if decision.eligible else Message("学校增补")),
        stage=c.stage, family_kinds="、".join(sorted(c.family_kinds)), disabled=c.disabled, included=True,
        added_by_school=True, review_reason=reason, reviewed_by_id=audit.acting_user_id(user), reviewed_at=utcnow(),
    )
    aid_list.entries.append(entry)
    aid_list.updated_at = utcnow()
    db.session.flush()
    audit.record("create", entry, after=_audited(entry), user=user)
    return entry


# --- posting and approval -----------------------------------------------------------


def posting_days() -> int:
    """Working days of the posting period (``EDU_GUARD_AID_POSTING_DAYS``, at least 5)."""
    return max(5, int(current_app.config.get("EDU_GUARD_AID_POSTING_DAYS") or 5))


def post(aid_list: AidList, *, on: date | None = None, user=None) -> AidList:
    """Post the reviewed list publicly (公示) from ``on`` (today by default) for
    :func:`posting_days` working days (《学生资助资金管理办法》: at least five working days).
    A past ``on`` (a term entered after the fact) is taken as it is.

    :raises AidError: the list is not under review or has nobody included; ``on`` is
        in the future.
    """

    _check_state(aid_list, "proposed")
    if not any(e.included for e in aid_list.entries):
        raise AidError(Message("名单上没有拟资助的学生，无需公示"))
    on = on or today()
    if on > today():
        raise AidError(Message("公示开始日期 %(on)s 不能晚于今天（%(today)s）", on=on, today=today()))
    before = audit.snapshot(aid_list, ["state", "posted_on", "posting_ends_on"])
    aid_list.state = "posted"
    aid_list.posted_on = on
    aid_list.posting_ends_on = add_working_days(on, posting_days()).day
    db.session.flush()
    audit.record("post", aid_list, before=before, after=audit.snapshot(aid_list, ["state", "posted_on", "posting_ends_on"]), user=user)
    return aid_list


def approve(aid_list: AidList, *, on: date | None = None, channel: str = "bank", user=None) -> PaymentBatch:
    """Approve a posted list after its posting period and pay every included child.

    Payments are inserted with ``ON CONFLICT (child_id, scheme_code, term_id) DO
    NOTHING`` so that a child already paid for the scheme and term (another list, a
    concurrent approval) is never paid twice; the list's version column makes a second,
    concurrent approval of the same list fail instead of making a second batch. A child
    paid in a scheme this one excludes is not paid. One summary audit row is written per
    batch (not one per payment).

    :param on: the payment date (today by default); it and today must be after the
        posting period.
    :return: the new :class:`PaymentBatch` (its ``payments`` are the ones made now).
    :raises AidError: the list is not posted, the posting period has not ended, or the
        list was approved meanwhile.
    """
    _check_state(aid_list, "posted")
    on = on or today()
    if channel not in CHANNELS:
        raise AidError(Message("发放渠道应为 %(channels)s", channels=", ".join(CHANNELS)))
    if aid_list.posting_ends_on is None or min(on, today()) <= aid_list.posting_ends_on:
        raise AidError(Message("公示期至 %(end)s 结束，公示期满后方可审批（审批日期和今天（%(today)s）都须晚于公示期）",
                               end=aid_list.posting_ends_on, today=today()))
    aid_list.state = "approved"
    aid_list.approved_at = utcnow()
    aid_list.approved_by_id = audit.acting_user_id(user)
    try:
        db.session.flush()
    except StaleDataError:
        raise AidError(Message("名单已被他人审批或修改，请刷新后重试")) from None
    batch = PaymentBatch(term_id=aid_list.term_id, scheme_code=aid_list.scheme_code, list_id=aid_list.id, paid_on=on,
                         user_id=audit.acting_user_id(user))
    db.session.add(batch)
    db.session.flush()
    taken = _paid_in(aid_list.term_id, exclusive_with(aid_list.scheme_code))
    accounts = accounts_of(e.child_id for e in aid_list.entries if e.included)
    rows = []
    for e in aid_list.entries:
        if not e.included or e.child_id in taken:
            continue
        kinds = set(filter(None, e.family_kinds.split("、")))
        rows.append({
            "child_id": e.child_id, "scheme_code": aid_list.scheme_code, "term_id": aid_list.term_id,
            "school_id": aid_list.school_id, "stage": e.stage, "amount_fen": e.amount_fen, "tier": e.tier,
            "channel": channel, "batch_id": batch.id, "paid_on": on,
            "account_masked": mask_account(accounts[e.child_id].number) if e.child_id in accounts else None,
            "is_poverty": bool(kinds & POVERTY_KINDS), "is_monitored": "监测户" in kinds,
            "is_dibao": "低保" in kinds, "is_tekun": "特困" in kinds,
            "is_orphan": bool(kinds & {"孤儿", "事实无人抚养"}), "is_disabled": bool(e.disabled),
        })
    insert_ignoring_duplicates(rows)
    db.session.expire(batch, ["payments"])
    paid = batch.payments
    audit.record("approve", batch, after={
        "list_id": aid_list.id, "scheme_code": aid_list.scheme_code, "term_id": aid_list.term_id,
        "payments": len(paid), "amount_fen": sum(p.amount_fen for p in paid),
        "refused_exclusive": sorted(e.child_id for e in aid_list.entries if e.included and e.child_id in taken),
    }, user=user)
    return batch


def insert_ignoring_duplicates(rows: list[dict]) -> None:
    """Insert payment rows; a row whose (child, scheme, term) is already paid is skipped
    by the database (``ON CONFLICT DO NOTHING``: SQLite and PostgreSQL)."""
    if not rows:
        return
    dialect = db.session.connection().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    elif dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert
    else:  # pragma: no cover - the two supported databases
        raise AidError(Message("不支持的数据库 %(dialect)s", dialect=dialect))
    stmt = insert(Payment.__table__).on_conflict_do_nothing(index_elements=["child_id", "scheme_code", "term_id"])
    db.session.execute(stmt, rows)


def _paid_in(term_id: int, codes: set[str]) -> set[int]:
    if not codes:
        return set()
    stmt = sa.select(Payment.child_id).where(
        Payment.term_id == term_id, Payment.scheme_code.in_(codes), Payment.id.not_in(sa.select(PaymentReversal.payment_id))
    )
    return set(db.session.execute(stmt).scalars())


def reverse(payment: Payment, reason: str, *, user=None) -> PaymentReversal:
    """Reverse a mistaken payment (冲正): the payment stays, a reversal record is added
    and the payment drops out of the statistics.

    :raises AidError: no reason, or the payment was reversed already.
    """
    reason = _reason(reason)
    if payment.reversal is not None:
        raise AidError(Message("该笔发放已冲正"))
    rev = PaymentReversal(payment=payment, reason=reason, user_id=audit.acting_user_id(user))
    db.session.add(rev)
    db.session.flush()
    audit.record("reverse", payment, before=None, after={"reversal_id": rev.id, "reason": reason,
                                                            "amount_fen": payment.amount_fen}, user=user)
    return rev


def notify_batch(batch: PaymentBatch, user=None) -> None:
    """Call the ``payment_batch_approved`` hook AFTER the commit; a failing notifier is
    logged and never undoes the payments."""
    hooks.notify("payment_batch_approved", batch=batch, user=user)


def approved_on(aid_list: AidList) -> date | None:
    """The date of a list's approval as the clerk gave it (``on``, possibly years before
    it was typed in): the ``paid_on`` of the list's first payment batch; None before
    approval. ``AidList.approved_at`` is only when it was recorded."""
    return db.session.scalar(sa.select(sa.func.min(PaymentBatch.paid_on)).where(PaymentBatch.list_id == aid_list.id))


def list_summary(aid_list: AidList) -> dict:
    """Counts and amount of a list: ``{"included", "removed", "amount"}`` (yuan)."""
    inc = [e for e in aid_list.entries if e.included]
    return {"included": len(inc), "removed": len(aid_list.entries) - len(inc), "amount": money.from_fen(sum(e.amount_fen for e in inc))}

