"""Document numbers (发文字号, GB/T 9704 7.2.4): one sequence per issuer, kind and year.

A number is taken inside the transaction that stores the letter, with one atomic
``UPDATE document_sequence SET last = last + 1 … RETURNING last``: the row stays
locked until that transaction ends, so a second transaction numbering the same
sequence waits and gets the next number, and a rolled-back letter gives its number
back. Never two letters with one number, and no gaps.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from edu_guard.db import db
from edu_guard.letters.models import DocumentSequence


def next_number(issuer_code: str, kind_mark: str, year: int, *, session: Session | None = None) -> int:
    """Take the next sequence number of ``issuer_code`` + ``kind_mark`` in ``year``.

    The first number of a sequence inserts its row; when two transactions insert it
    at once, the unique constraint stops the second, which then takes the next number
    from the row the first created (the insert runs in a savepoint, so the caller's
    transaction survives). Flushes, never commits.

    :param issuer_code: the issuer's code (``景教体``).
    :param kind_mark: the kind mark (``函``).
    :param year: the year of the document number (the letter's issue date).
    :param session: the session to use; ``db.session`` by default.
    :return: the number, 1 for the first letter of the year.
    """
    session = session or db.session
    where = (
        DocumentSequence.issuer_code == issuer_code,
        DocumentSequence.kind_mark == kind_mark,
        DocumentSequence.year == year,
    )
    bump = (
        sa.update(DocumentSequence)
        .where(*where)
        .values(last=DocumentSequence.last + 1)
        .returning(DocumentSequence.last)
        .execution_options(synchronize_session=False)
    )
    number = session.execute(bump).scalar_one_or_none()
    if number is not None:
        return number
    try:
        with session.begin_nested():
            session.execute(
                sa.insert(DocumentSequence).values(issuer_code=issuer_code, kind_mark=kind_mark, year=year, last=1)
            )
        return 1
    except IntegrityError:
        # Another transaction created the row first: it is committed now (or we
        # would still be waiting on its lock), so the UPDATE finds it.
        return session.execute(bump).scalar_one()


def format_number(issuer_code: str, kind_mark: str, year: int, number: int) -> str:
    """Return the printed document number, e.g. ``景教体函〔2021〕11号``.

    GB/T 9704 7.2.4: issuer code, the year in full inside 六角括号 〔〕, the sequence
    number without leading zeros or 第, and 号.

    :raises ValueError: for a number below 1.
    """
    if number < 1:
        raise ValueError(f"document numbers start at 1, not {number}")
    return f"{issuer_code}{kind_mark}〔{year}〕{int(number)}号"
