"""The aid pages' reads (资助查询): terms, the lists of a term with their totals, the
payments of a term. Views call these and render; they build no queries."""

from __future__ import annotations

import sqlalchemy as sa

from edu_guard.aid.models import AidList, AidListEntry, Payment, PaymentBatch, Term
from edu_guard.auth.scoping import scope_aid_lists, scope_payments
from edu_guard.db import db
from edu_guard.registry.models import Child, School, Township
from edu_guard.registry.queries import in_pupil_order
from edu_guard.registry.search import name_condition


def term_by_code(code: str) -> Term | None:
    """Return the term ``code`` (``2021-spring``), or ``None``."""
    return db.session.execute(sa.select(Term).where(Term.code == code)).scalar_one_or_none()


def terms() -> list[Term]:
    """Return every term, the latest first."""
    return db.session.execute(sa.select(Term).order_by(Term.start.desc())).scalars().all()


def aid_list(list_id: int, user) -> AidList | None:
    """Return the list ``list_id`` if ``user`` may see it, else ``None``."""
    return db.session.execute(scope_aid_lists(sa.select(AidList).where(AidList.id == list_id), user)).scalar_one_or_none()


def term_lists(term: Term, user, scheme: str | None = None) -> tuple[list[AidList], dict[int, int], dict[int, int]]:
    """Return the term's lists ``user`` may see (of ``scheme`` when given), ordered by
    scheme, township and school code, with the number of included children and their amount in
    fen, each by list id."""
    stmt = scope_aid_lists(sa.select(AidList).join(School, School.id == AidList.school_id)
                           .where(AidList.term_id == term.id), user)
    if scheme:
        stmt = stmt.where(AidList.scheme_code == scheme)
    stmt = stmt.outerjoin(Township, Township.id == School.township_id)
    found = db.session.execute(stmt.order_by(AidList.scheme_code, Township.name, School.code)).scalars().all()
    included = sa.and_(AidListEntry.list_id.in_([x.id for x in found]), AidListEntry.included.is_(True))
    counts = dict(db.session.execute(
        sa.select(AidListEntry.list_id, sa.func.count()).where(included).group_by(AidListEntry.list_id)).all())
    amounts = dict(db.session.execute(
        sa.select(AidListEntry.list_id, sa.func.sum(AidListEntry.amount_fen)).where(included)
        .group_by(AidListEntry.list_id)).all())
    return found, counts, amounts


def term_payments(term: Term, user, scheme: str | None = None, name: str | None = None) -> sa.Select:
    """Return ``select(Payment)`` of the term's payments ``user`` may see, of ``scheme``
    and of children whose name matches ``name`` when given, in the clerk's order
    (:func:`edu_guard.registry.queries.in_pupil_order`)."""
    stmt = scope_payments(sa.select(Payment).join(Child, Child.id == Payment.child_id)
                          .where(Payment.term_id == term.id), user)
    if scheme:
        stmt = stmt.where(Payment.scheme_code == scheme)
    if name:
        stmt = stmt.where(name_condition(Child.name, name))
    return in_pupil_order(stmt, Payment.child_id, Child.name, Payment.id)


def payments_total(stmt: sa.Select) -> tuple[int, int]:
    """The number and the sum in fen of the payments ``stmt`` selects (all pages), the
    reversed ones (冲正) left out: the page's 合计 row."""
    ids = stmt.order_by(None).with_only_columns(Payment.id).scalar_subquery()
    count, fen = db.session.execute(
        sa.select(sa.func.count(), sa.func.coalesce(sa.func.sum(Payment.amount_fen), 0))
        .where(Payment.id.in_(ids), ~Payment.reversal.has())).one()
    return count, int(fen)


def term_batches(term: Term) -> list[PaymentBatch]:
    """Return the term's payment batches in order."""
    return db.session.execute(sa.select(PaymentBatch).where(PaymentBatch.term_id == term.id)
                              .order_by(PaymentBatch.id)).scalars().all()
