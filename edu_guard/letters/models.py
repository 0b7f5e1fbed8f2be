"""Letters (公文) and the document-number sequences (发文字号)."""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from edu_guard.db import UTCDateTime, db, utcnow
from edu_guard.i18n import MessageText, N_

#: Manners of service (送达方式, 民事诉讼法 Ch. 7 as applied by 行政处罚法 Art. 61).
SERVICE_MANNERS = (N_("直接送达"), N_("留置送达"), N_("邮寄送达"), N_("委托送达"), N_("电子送达"), N_("公告送达"))

letter_case = sa.Table(
    "letter_case",
    db.metadata,
    sa.Column("letter_id", sa.ForeignKey("letter.id"), primary_key=True),
    sa.Column("case_id", sa.ForeignKey("dropout_case.id"), primary_key=True),
)


class DocumentSequence(db.Model):
    """The last document number used per issuer code, kind mark and year.

    Numbers are taken with one ``UPDATE … RETURNING`` in the transaction that stores
    the letter, so two letters never share a number.
    """

    __tablename__ = "document_sequence"
    __table_args__ = (sa.UniqueConstraint("issuer_code", "kind_mark", "year"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    issuer_code: Mapped[str] = mapped_column(sa.String(32))
    kind_mark: Mapped[str] = mapped_column(sa.String(16))
    year: Mapped[int] = mapped_column()
    last: Mapped[int] = mapped_column(default=0)


class Letter(db.Model):
    """A printed letter (公文) with its document number, PDF and proof of service.

    ``context`` is the plain data the template was rendered from (marshmallow-dumped),
    so a letter can be re-rendered byte-for-byte from what is stored.
    """

    __tablename__ = "letter"
    __table_args__ = (sa.UniqueConstraint("issuer_code", "kind_mark", "year", "seq"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Letter kind (return_contact, order_to_correct, penalty_notice, …).
    kind: Mapped[str] = mapped_column(sa.String(32), index=True)
    issuer_name: Mapped[str] = mapped_column(sa.String(128))
    issuer_code: Mapped[str] = mapped_column(sa.String(32))
    kind_mark: Mapped[str] = mapped_column(sa.String(16))
    year: Mapped[int] = mapped_column()
    seq: Mapped[int] = mapped_column()
    #: e.g. ``景教体函〔2021〕11号``
    doc_number: Mapped[str] = mapped_column(sa.String(64), unique=True)
    issued_on: Mapped[date] = mapped_column(sa.Date)
    title: Mapped[str] = mapped_column(sa.String(255))
    recipient: Mapped[str] = mapped_column(sa.String(255))
    context: Mapped[dict] = mapped_column(sa.JSON)
    #: Path of the PDF relative to the instance folder, and its sha256.
    pdf_path: Mapped[str | None] = mapped_column(sa.String(255))
    sha256: Mapped[str | None] = mapped_column(sa.String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"))
    #: Proof of service (送达回证): when, how, to whom, by whom.
    served_on: Mapped[date | None] = mapped_column(sa.Date)
    service_manner: Mapped[str | None] = mapped_column(sa.String(16))
    served_to: Mapped[str | None] = mapped_column(sa.String(64))
    served_by: Mapped[str | None] = mapped_column(sa.String(128))
    #: A voided letter (作废, e.g. after a review revoked it): its number stays used.
    voided_on: Mapped[date | None] = mapped_column(sa.Date)
    #: Typed by the user, or written by the system (a :class:`~edu_guard.i18n.Message`, shown
    #: in the reader's language: a decision revoked on review).
    void_reason: Mapped[str | None] = mapped_column(MessageText)

    cases = relationship("DropoutCase", secondary=letter_case, backref="letters")
    created_by = relationship("User")
