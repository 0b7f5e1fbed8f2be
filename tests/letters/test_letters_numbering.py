"""Document numbers: one sequence per issuer, kind and year, no gaps, never shared."""

import threading
from datetime import date

import pytest
import sqlalchemy as sa

from edu_guard.db import db
from edu_guard.letters.models import DocumentSequence, Letter
from edu_guard.letters.numbering import next_number


def test_numbers_run_one_to_n_in_one_transaction(app_ctx):
    numbers = [next_number("景教体", "函", 2021) for _ in range(100)]
    assert numbers == list(range(1, 101))
    db.session.commit()
    row = db.session.execute(sa.select(DocumentSequence)).scalar_one()
    assert (row.issuer_code, row.kind_mark, row.year, row.last) == ("景教体", "函", 2021, 100)


def test_sequences_are_per_issuer_kind_and_year(app_ctx):
    assert next_number("景教体", "函", 2021) == 1
    assert next_number("景教体", "函", 2021) == 2
    assert next_number("景教体", "罚告", 2021) == 1
    assert next_number("嘎洒政", "函", 2021) == 1
    assert next_number("景教体", "函", 2022) == 1
    assert next_number("景教体", "函", 2021) == 3


def test_a_rolled_back_number_is_given_back(app_ctx):
    assert next_number("景教体", "函", 2021) == 1
    db.session.commit()
    assert next_number("景教体", "函", 2021) == 2
    db.session.rollback()
    assert next_number("景教体", "函", 2021) == 2
    db.session.commit()
    assert next_number("景教体", "函", 2021) == 3


def test_the_first_insert_keeps_the_callers_transaction(app_ctx):
    from edu_guard.registry.models import Township

    db.session.add(Township(county_code="532801", name="嘎洒镇"))
    db.session.flush()
    assert next_number("景教体", "函", 2021) == 1
    db.session.commit()
    assert db.session.execute(sa.select(sa.func.count()).select_from(Township)).scalar() == 1


def test_concurrent_sessions_never_share_a_number(app):
    """Two threads, each with its own session, number the same sequence at once."""
    per_thread, threads = 25, 2
    barrier = threading.Barrier(threads)
    results: list[list[int]] = [[] for _ in range(threads)]
    errors: list[BaseException] = []

    def work(i: int) -> None:
        try:
            with app.app_context():
                barrier.wait(timeout=30)
                for _ in range(per_thread):
                    results[i].append(next_number("景教体", "函", 2021))
                    db.session.commit()
                db.session.remove()
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    workers = [threading.Thread(target=work, args=(i,)) for i in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(timeout=120)
    assert not errors, errors
    everything = sorted(n for r in results for n in r)
    assert everything == list(range(1, per_thread * threads + 1))


def test_racing_first_inserts_take_the_next_number(app_ctx):
    """PostgreSQL: another transaction creates the sequence row between our UPDATE
    (no row yet) and our INSERT; the unique constraint stops our insert and we get 2."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("needs row-level locking: on SQLite the first UPDATE takes the database write lock")
    fired = []

    def sneak_in(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("INSERT INTO DOCUMENT_SEQUENCE") and not fired:
            fired.append(True)
            with db.engine.begin() as other:
                other.execute(sa.insert(DocumentSequence).values(issuer_code="景教体", kind_mark="函", year=2021, last=1))

    sa.event.listen(db.engine, "before_cursor_execute", sneak_in)
    try:
        assert next_number("景教体", "函", 2021) == 2
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", sneak_in)
    db.session.commit()
    assert fired
    assert db.session.execute(sa.select(DocumentSequence.last)).scalar_one() == 2


def test_many_letters_issued_in_one_run_get_one_to_n(make_case):
    from edu_guard.letters.services import context_for_case, issue_letter, township_issuer

    cases = [make_case(name=f"玉香{i}") for i in range(12)]
    letters = [
        issue_letter(
            "order_to_correct",
            context_for_case("order_to_correct", case, deadline=date(2021, 3, 20)),
            issuer=township_issuer("嘎洒镇"),
            cases=[case],
            issued_on=date(2021, 3, 8),
            render=False,
        )
        for case in cases
    ]
    db.session.commit()
    assert [l.seq for l in letters] == list(range(1, 13))
    assert [l.doc_number for l in letters] == [f"嘎洒政责改〔2021〕{i}号" for i in range(1, 13)]
    numbers = db.session.execute(sa.select(Letter.doc_number)).scalars().all()
    assert len(numbers) == len(set(numbers)) == 12
