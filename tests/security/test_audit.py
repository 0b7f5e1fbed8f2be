"""The audit log is complete and cannot be altered (issue 14, item 6), and personal
numbers are shown whole only to the roles that need them (item 7)."""

from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa

from edu_guard.auth.models import AuditLog
from edu_guard.db import db


def audit_rows(action=None, entity=None):
    db.session.expire_all()
    stmt = sa.select(AuditLog).order_by(AuditLog.id)
    if action:
        stmt = stmt.where(AuditLog.action == action)
    if entity:
        stmt = stmt.where(AuditLog.entity == entity)
    return db.session.execute(stmt).scalars().all()


@pytest.fixture
def one_row(app_ctx, make_user):
    from edu_guard.auth.audit import record

    user = make_user("admin")
    record("update", user, before={"x": 1}, after={"x": 2}, user=user)
    db.session.commit()
    return audit_rows()[-1].id


@pytest.mark.parametrize("statement", [
    "UPDATE audit_log SET action = 'forged' WHERE id = :id",
    "UPDATE audit_log SET after = NULL",
    "DELETE FROM audit_log WHERE id = :id",
    "DELETE FROM audit_log",
])
def test_the_database_refuses_changing_audit_rows(one_row, statement):
    """Plain SQL, past the ORM: the table's triggers refuse it (SQLite and PostgreSQL)."""
    with pytest.raises(sa.exc.DatabaseError, match="append-only"):
        db.session.execute(sa.text(statement), {"id": one_row})
    db.session.rollback()
    row = db.session.get(AuditLog, one_row)
    assert (row.action, row.after) == ("update", {"x": 2})


def test_postgresql_refuses_truncate_too(one_row):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("TRUNCATE exists on PostgreSQL only")
    with pytest.raises(sa.exc.DatabaseError, match="append-only"):
        db.session.execute(sa.text("TRUNCATE audit_log"))
    db.session.rollback()


def test_inserting_still_works(one_row):
    db.session.execute(sa.text("INSERT INTO audit_log (at, action, entity) VALUES (CURRENT_TIMESTAMP, 'note', 'x')"))
    db.session.commit()
    assert audit_rows("note")[0].entity == "x"


def test_terms_proposals_comparisons_and_every_import_are_audited(county, make_user):
    """The sample county loads with imports of every kind; a term, its proposals and a
    comparison run each leave their row."""
    from edu_guard.aid import services as aid
    from edu_guard.comparisons.services import run_comparison
    from edu_guard.registry.models import ImportRun

    kinds = {r.after["kind"] for r in audit_rows("import", "import_run")}
    imported = set(db.session.execute(sa.select(ImportRun.kind)).scalars())
    assert kinds == imported and {"schools", "families", "roster"} <= kinds
    clerk = make_user("clerk")
    term = aid.add_term("2022-spring", date(2022, 3, 1), date(2022, 7, 8), 88)
    proposal = aid.propose(term, "nutrition", user=clerk)
    run, _ = run_comparison("disabled", as_of=date(2021, 3, 1), user=clerk)
    db.session.commit()
    assert [r.after["code"] for r in audit_rows("create", "aid_term") + audit_rows("create", "term")] == ["2022-spring"]
    proposed = audit_rows("propose", "aid_list")
    assert len(proposed) == proposal.lists and all(r.user_id == clerk.id for r in proposed)
    from edu_guard.aid.models import AidListEntry

    entries = db.session.execute(sa.select(sa.func.count()).select_from(AidListEntry).where(
        AidListEntry.list_id.in_([r.entity_id for r in proposed]))).scalar()
    assert entries > 0 and sum(r.after["entries"] for r in proposed) == entries
    (ran,) = audit_rows("run", "comparison_run")
    assert (ran.entity_id, ran.after["kind"], ran.after["total"]) == (run.id, "disabled", run.total)


def test_full_number_views_and_downloads_are_audited_masked_ones_not(county, make_user, login, client):
    from edu_guard.registry.models import Child

    child = db.session.execute(sa.select(Child).order_by(Child.id)).scalars().first()
    clerk = make_user("clerk")
    login(clerk)
    page = client.get(f"/children/{child.id}").get_data(as_text=True)
    assert child.id_number in page
    client.get("/reports/ledgers/school_age?format=xlsx&date=2021-03-01")
    viewed = audit_rows("view_full", "child")
    assert [(r.user_id, r.entity_id) for r in viewed] == [(clerk.id, child.id)]
    assert [r.after["ledger"] for r in audit_rows("download_full", "ledger")] == ["school_age"]

    auditor = make_user("auditor")
    login(auditor)
    page = client.get(f"/children/{child.id}").get_data(as_text=True)
    masked = child.id_number[:6] + "*" * 8 + child.id_number[-4:]
    assert masked in page and child.id_number not in page
    # the birth date beside a masked number is its year only: the stars stay stars
    assert child.birth_date.isoformat() not in page and f"{child.birth_date.year}年" in page
    assert len(audit_rows("view_full", "child")) == 1


def test_children_list_shows_no_birth_date_beside_masked_ids(county, make_user, login, client):
    from edu_guard.registry.models import Child

    login(make_user("clerk"))
    page = client.get("/children").get_data(as_text=True)
    shown = db.session.execute(sa.select(Child).order_by(Child.name)).scalars().all()
    dates = [c.birth_date.isoformat() for c in shown if c.birth_date and c.name in page]
    assert dates and not any(d in page for d in dates)


def test_audit_page_for_auditors_filters_and_exports(county, make_user, login, client):
    from openpyxl import load_workbook
    import io

    auditor = make_user("auditor")
    login(auditor)
    resp = client.get("/audit?entity=import_run&action=import")
    text = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "import_run" in text
    imports = audit_rows("import", "import_run")
    xlsx = client.get("/audit?entity=import_run&action=import&format=xlsx")
    sheet = load_workbook(io.BytesIO(xlsx.data)).active
    body = [row for row in sheet.iter_rows(min_row=3, values_only=True) if any(row)]
    assert len(body) == len(imports)
    assert all(r[2] == "import" and r[3] == "import_run" for r in body)
    today = date.today().isoformat()
    assert client.get(f"/audit?from={today}&to={today}").status_code == 200
    login(make_user("school"))
    assert client.get("/audit").status_code == 403


def test_auditor_sees_masked_numbers_in_the_audit_log(county, make_user, login, client):
    from edu_guard.auth.audit import record
    from edu_guard.registry.models import Child

    child = db.session.execute(sa.select(Child).order_by(Child.id)).scalars().first()
    record("update", child, before={"id_number": child.id_number}, after={"id_number": child.id_number})
    db.session.commit()
    login(make_user("auditor"))
    page = client.get(f"/audit?entity=child&entity_id={child.id}").get_data(as_text=True)
    assert child.id_number not in page and child.id_number[:6] + "*" * 8 + child.id_number[-4:] in page
