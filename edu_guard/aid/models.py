"""Student-aid models (学生资助): terms (学期), per-school lists (资助名单) and their
entries, payment batches (发放批次), payments (发放记录) and reversals (冲正).

Money is stored as integer fen (分) and handled as ``Decimal`` yuan in code; the two
are converted only by :func:`edu_guard.money.to_fen` and :func:`edu_guard.money.from_fen`.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from edu_guard import money
from edu_guard.db import TimestampMixin, UTCDateTime, db, utcnow
from edu_guard.auth import scoping
from edu_guard.i18n import KEY, N_, Message, MessageText
from edu_guard.schemes.base import term_label, term_name  # noqa: F401 (aid's names for them)
from edu_guard.registry.models import Child, School, county_schools
from edu_guard.registry.terms import Term  # noqa: F401 (the aid code's name; terms are the registry's)

#: States of a list: proposed by the system and reviewed by the school → posted
#: publicly (公示) → approved by the bureau (payments made).
LIST_STATES = {"proposed": N_("待审核"), "posted": N_("公示中"), "approved": N_("已审批")}

#: Payment channels (发放渠道).
CHANNELS = {"bank": N_("银行卡"), "social_card": N_("社会保障卡"), "in_kind": N_("实物（膳食）")}

#: Words of the schemes shown on the interface as written in a scheme (translated on
#: English pages, printed as they are on the 公示 and the bank's workbook): the rate
#: tiers of the national schemes and who funds a scheme.
SCHEME_WORDS = (N_("小学/寄宿"), N_("小学/走读"), N_("初中/寄宿"), N_("初中/走读"), N_("一档"), N_("二档"), N_("三档"),
                N_("中央"), N_("中央和地方"), N_("省级"), N_("市级"), N_("县级"))

#: The 其中 flags a payment keeps of the child's family statuses at approval
#: (docs/domain.md §2 "How aid is reported"), so the statistics need no joins.
FLAG_COLUMNS = ("is_poverty", "is_monitored", "is_dibao", "is_tekun", "is_orphan", "is_disabled")


class MessageString(MessageText):
    """A ``VARCHAR`` column that may hold a :class:`~edu_guard.i18n.Message` (a list
    entry's reason): stored as its JSON text, read back as a Message, so it is shown in
    the reader's language; plain text (a reason a person typed) is kept as it is. The
    database type is the column's ``String(length)``: no migration. A Message whose JSON
    would not fit is stored as its Chinese text, cut to the length."""

    impl = sa.String
    cache_ok = True

    def process_bind_param(self, value, dialect):
        stored = super().process_bind_param(value, dialect)
        length = self.impl.length
        if isinstance(value, Message) and length and len(stored) > length:
            return value.chinese()[:length]
        return stored if stored is None or not length or stored.startswith("{\"" + KEY) else stored[:length]


class AidList(TimestampMixin, db.Model):
    """A school's list (资助名单) for one term and scheme: proposed, reviewed by the
    school, posted publicly (公示) for at least five working days, approved by the bureau
    (《学生资助资金管理办法》财教〔2021〕310号)."""

    __tablename__ = "aid_list"
    __table_args__ = (sa.UniqueConstraint("term_id", "scheme_code", "school_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    term_id: Mapped[int] = mapped_column(sa.ForeignKey("aid_term.id"), index=True)
    scheme_code: Mapped[str] = mapped_column(sa.String(64))
    school_id: Mapped[int] = mapped_column(sa.ForeignKey("school.id"), index=True)
    #: One of LIST_STATES.
    state: Mapped[str] = mapped_column(sa.String(16), default="proposed")
    posted_on: Mapped[date | None] = mapped_column(sa.Date)
    #: Last day of the posting period (公示期); approval only after it.
    posting_ends_on: Mapped[date | None] = mapped_column(sa.Date)
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    approved_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"))
    version: Mapped[int] = mapped_column(default=1)

    term: Mapped[Term] = relationship()
    school: Mapped["School"] = relationship()  # noqa: F821
    entries: Mapped[list[AidListEntry]] = relationship(
        back_populates="aid_list", cascade="all, delete-orphan", order_by="AidListEntry.id"
    )

    __mapper_args__ = {"version_id_col": version}


class AidListEntry(db.Model):
    """A child on a list (名单条目) with the amount, tier and reason the scheme gave; the
    school includes or removes it with a reason."""

    __tablename__ = "aid_list_entry"
    __table_args__ = (sa.UniqueConstraint("list_id", "child_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    list_id: Mapped[int] = mapped_column(sa.ForeignKey("aid_list.id"), index=True)
    child_id: Mapped[int] = mapped_column(sa.ForeignKey("child.id"), index=True)
    amount_fen: Mapped[int] = mapped_column(sa.BigInteger)
    tier: Mapped[str | None] = mapped_column(sa.String(32))
    reason: Mapped[str] = mapped_column(MessageString(255))
    #: The child's stage in the term (for the tables by stage).
    stage: Mapped[str] = mapped_column(sa.String(8))
    #: The family statuses valid in the term, ``、``-joined (copied to the payment).
    family_kinds: Mapped[str] = mapped_column(sa.String(64), default="")
    disabled: Mapped[bool] = mapped_column(default=False)
    included: Mapped[bool] = mapped_column(default=True)
    #: Added by the school rather than proposed.
    added_by_school: Mapped[bool] = mapped_column(default=False)
    review_reason: Mapped[str | None] = mapped_column(MessageString(255))
    reviewed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"))
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    aid_list: Mapped[AidList] = relationship(back_populates="entries")
    child: Mapped["Child"] = relationship()  # noqa: F821


class PaymentBatch(db.Model):
    """A payment batch (发放批次): the payments made by approving one list."""

    __tablename__ = "aid_payment_batch"

    id: Mapped[int] = mapped_column(primary_key=True)
    term_id: Mapped[int] = mapped_column(sa.ForeignKey("aid_term.id"), index=True)
    scheme_code: Mapped[str] = mapped_column(sa.String(64))
    list_id: Mapped[int | None] = mapped_column(sa.ForeignKey("aid_list.id"), index=True)
    paid_on: Mapped[date] = mapped_column(sa.Date)
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    term: Mapped[Term] = relationship()
    aid_list: Mapped[AidList | None] = relationship()
    payments: Mapped[list[Payment]] = relationship(back_populates="batch", order_by="Payment.id")


class Payment(db.Model):
    """A payment (发放记录): one per child, scheme and term, enforced by the database.

    The 其中 flags are the child's family statuses at approval time (docs/domain.md §2).
    """

    __tablename__ = "aid_payment"
    __table_args__ = (
        sa.UniqueConstraint("child_id", "scheme_code", "term_id"),
        # Covering indexes of the statistics (edu_guard.aid.stats), read in order so that
        # the database neither sorts the payments nor visits the table: sums grouped by
        # scheme, stage and the 其中 flags; distinct children by scheme and stage, and
        # by scheme.
        sa.Index("ix_aid_payment_report", "scheme_code", "stage", "is_poverty", "is_dibao", "is_tekun", "is_orphan",
                 "is_disabled", "term_id", "amount_fen"),
        sa.Index("ix_aid_payment_stage_child", "scheme_code", "stage", "child_id", "term_id"),
        sa.Index("ix_aid_payment_scheme_child", "scheme_code", "child_id", "term_id"),
        # The province's figures by county (edu_guard.reports.province): an index-only
        # scan of a year's payments with their school (→ county), scheme and amounts;
        # bench/README.md "Province" measured 2.9 s → 1.3 s for the bare GROUP BY.
        sa.Index("ix_aid_payment_term_school", "term_id", "school_id", "scheme_code", "is_poverty", "amount_fen"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Indexed by the unique constraint (child_id leads it).
    child_id: Mapped[int] = mapped_column(sa.ForeignKey("child.id"))
    scheme_code: Mapped[str] = mapped_column(sa.String(64))
    term_id: Mapped[int] = mapped_column(sa.ForeignKey("aid_term.id"), index=True)
    school_id: Mapped[int | None] = mapped_column(sa.ForeignKey("school.id"))
    stage: Mapped[str] = mapped_column(sa.String(8))
    amount_fen: Mapped[int] = mapped_column(sa.BigInteger)
    tier: Mapped[str | None] = mapped_column(sa.String(32))
    #: One of CHANNELS.
    channel: Mapped[str] = mapped_column(sa.String(16), default="bank")
    #: The account as shown (masked), never the full number.
    account_masked: Mapped[str | None] = mapped_column(sa.String(32))
    batch_id: Mapped[int] = mapped_column(sa.ForeignKey("aid_payment_batch.id"), index=True)
    paid_on: Mapped[date] = mapped_column(sa.Date)
    #: 脱贫家庭 including monitored households (the "其中：脱贫家庭学生" line).
    is_poverty: Mapped[bool] = mapped_column(default=False)
    is_monitored: Mapped[bool] = mapped_column(default=False)
    is_dibao: Mapped[bool] = mapped_column(default=False)
    is_tekun: Mapped[bool] = mapped_column(default=False)
    #: 孤儿 including 事实无人抚养.
    is_orphan: Mapped[bool] = mapped_column(default=False)
    is_disabled: Mapped[bool] = mapped_column(default=False)

    batch: Mapped[PaymentBatch] = relationship(back_populates="payments")
    child: Mapped["Child"] = relationship()  # noqa: F821
    term: Mapped[Term] = relationship()
    reversal: Mapped[PaymentReversal | None] = relationship(back_populates="payment")

    @property
    def amount(self) -> Decimal:
        """The amount in yuan."""
        return money.from_fen(self.amount_fen)


class PaymentReversal(db.Model):
    """A reversal (冲正) of a mistaken payment: one per payment; the payment stays and
    drops out of the statistics."""

    __tablename__ = "aid_payment_reversal"

    id: Mapped[int] = mapped_column(primary_key=True)
    payment_id: Mapped[int] = mapped_column(sa.ForeignKey("aid_payment.id"), unique=True)
    reason: Mapped[str] = mapped_column(sa.String(255))
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"))
    reversed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    payment: Mapped[Payment] = relationship(back_populates="reversal")


# --- scope rules (edu_guard.auth.scoping) ------------------------------------------


def _by_paying_school(column, user):
    if user.role == "township":
        return column.in_(sa.select(School.id).where(School.township_id == user.township_id))
    return column == user.school_id


@scoping.rule(AidList)
def _aid_list_scope(user):
    """A township user sees the lists of the township's schools; a school user, the school's."""
    return _by_paying_school(AidList.school_id, user)


@scoping.rule(AidListEntry)
def _entry_scope(user):
    """A list's entry is seen by whoever may see the list, and by whoever may see the
    child (a pupil who moved schools: the new school is told that the old school's list
    dropped the pupil, edu_guard/aid/consistency.py)."""
    return sa.or_(scoping.through(AidListEntry.list_id, AidList, user), scoping.through(AidListEntry.child_id, Child, user))


@scoping.county_rule(AidListEntry)
def _entry_county_scope(codes):
    """A county user sees the entries of the county's lists and of its children."""
    return sa.or_(AidListEntry.list_id.in_(sa.select(AidList.id).where(scoping.county_condition(AidList, codes))),
                  AidListEntry.child_id.in_(sa.select(Child.id).where(scoping.county_condition(Child, codes))))


@scoping.rule(Payment)
def _payment_scope(user):
    """Payments are seen by the paying school, as the aid lists."""
    return _by_paying_school(Payment.school_id, user)


# A payment's reversal (冲正) is seen by whoever may see the payment.
scoping.belongs(PaymentReversal.payment_id, Payment)


#: Kinds of payee account (收款账户类型). Compulsory-education aid is paid into the
#: guardian's 惠民惠农"一卡通" (an account number that need not be a card) or a bank card.
ACCOUNT_KINDS = (N_("一卡通"), N_("银行卡"), N_("社会保障卡"))


class PayeeAccount(TimestampMixin, db.Model):
    """The account a child's aid is paid into (收款账户): the holder (户名, usually the
    guardian) with the holder's ID number, the bank (开户行) and the full account number.

    The full number appears only in the bank's 代发 file; pages show it masked
    (:func:`edu_guard.aid.accounts.mask_account`). One current account per child.
    """

    __tablename__ = "aid_payee_account"

    id: Mapped[int] = mapped_column(primary_key=True)
    child_id: Mapped[int] = mapped_column(sa.ForeignKey("child.id"), unique=True)
    holder_name: Mapped[str] = mapped_column(sa.String(64))
    holder_id_number: Mapped[str] = mapped_column(sa.String(18))
    bank: Mapped[str] = mapped_column(sa.String(64))
    #: Digits only, 10–30 of them.
    number: Mapped[str] = mapped_column(sa.String(32))
    #: One of ACCOUNT_KINDS.
    kind: Mapped[str] = mapped_column(sa.String(8), default="一卡通")

    child: Mapped["Child"] = relationship()  # noqa: F821


# A payee account (收款账户) is seen by whoever may see its child.
scoping.belongs(PayeeAccount.child_id, Child)


@scoping.county_rule(AidList)
def _aid_list_county_scope(codes):
    """A county user sees the lists of the county's schools."""
    return AidList.school_id.in_(county_schools(codes))


@scoping.county_rule(Payment)
def _payment_county_scope(codes):
    """A county user sees the payments of the county's schools."""
    return Payment.school_id.in_(county_schools(codes))


@scoping.rule(PaymentBatch)
def _batch_scope(user):
    """A batch is seen by whoever may see one of its payments."""
    return PaymentBatch.id.in_(sa.select(Payment.batch_id).where(_payment_scope(user)))


@scoping.county_rule(PaymentBatch)
def _batch_county_scope(codes):
    """A county user sees the batches paid by the county's schools."""
    return PaymentBatch.id.in_(sa.select(Payment.batch_id).where(_payment_county_scope(codes)))
