"""Web pages of letters: the list, one letter with its cases and proof of service, the
stored PDF, and a print run of several letters as one PDF."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, send_file, url_for
from flask_login import current_user, login_required

from edu_guard.auth.scoping import scope
from edu_guard.db import db
from edu_guard.letters.forms import PrintRunForm
from edu_guard.letters.models import Letter, letter_case
from edu_guard.letters import jobs, services

bp = Blueprint("letters", __name__)


@bp.app_context_processor
def legal_settings_warning() -> dict:
    """Every page's layout warns an admin of the penalty settings the county has not set
    (basis, fine range, payment channel, contact: the penalty letters are refused
    until they are; :func:`services.missing_legal_settings`)."""
    if not (current_user and current_user.is_authenticated and current_user.role == "admin"):
        return {"missing_legal_settings": []}
    return {"missing_legal_settings": services.missing_legal_settings()}

#: Chinese names of the letter kinds.
KIND_LABELS = {
    "return_contact": "劝返联系函",
    "order_to_correct": "责令限期改正通知书",
    "penalty_notice": "行政处罚告知书",
    "penalty_decision": "行政处罚决定书",
    "demand": "催告书",
    "enforcement_application": "强制执行申请书",
}


def _scoped_letters() -> sa.Select:
    """Letters the user may see: those every case of which lies in the user's scope (a
    劝返联系函 listing children of several schools is not shown to one school)."""
    linked = sa.select(letter_case.c.letter_id)
    return scope(sa.select(Letter).where(Letter.id.in_(linked)), Letter, current_user)


def _get_letter(letter_id: int) -> Letter:
    letter = db.session.execute(_scoped_letters().where(Letter.id == letter_id)).scalar_one_or_none()
    if letter is None:
        abort(404)
    return letter


@bp.get("/letters")
@login_required
def letter_list():
    """All letters in scope, newest first, filterable by kind and year."""
    stmt = _scoped_letters()
    kind = request.args.get("kind")
    if kind in KIND_LABELS:
        stmt = stmt.where(Letter.kind == kind)
    if request.args.get("year", type=int):
        stmt = stmt.where(Letter.year == request.args.get("year", type=int))
    page = db.paginate(stmt.order_by(Letter.id.desc()), per_page=current_app.config["EDU_GUARD_PAGE_SIZE"],
                       error_out=False)
    base_args = {k: v for k, v in request.args.items() if k != "page"}
    return render_template("letters/list.html", page=page, kinds=KIND_LABELS, kind=kind, base_args=base_args)


@bp.get("/letters/<int:letter_id>")
@login_required
def letter_detail(letter_id: int):
    """One letter: number, recipient, cases, service."""
    letter = _get_letter(letter_id)
    # Dates printed on it that rest on an estimated holiday calendar (估算), as noted when
    # issued on the case event that made it. The case events' table by name, as its
    # foreign key to the letter names it: the cases sit above the letters.
    event = db.metadata.tables["case_event"]
    estimated = [d for data in db.session.execute(sa.select(event.c.data).where(event.c.letter_id == letter.id))
                 .scalars() if data for d in (data.get("estimated") or [])]
    return render_template("letters/detail.html", letter=letter, kinds=KIND_LABELS, estimated=sorted(set(estimated)))


@bp.get("/letters/<int:letter_id>.pdf")
@login_required
def letter_pdf(letter_id: int):
    """The stored PDF, as printed when the letter was issued."""
    letter = _get_letter(letter_id)
    if not letter.pdf_path:
        abort(404)
    path = Path(current_app.instance_path) / letter.pdf_path
    if not path.is_file():
        abort(404)
    return send_file(path, mimetype="application/pdf", download_name=f"{letter.doc_number}.pdf")


@bp.post("/letters/print")
@login_required
def print_run():
    """Print the selected letters as one PDF, each starting on a new page: a job whose
    file the user downloads from the job page."""

    form = PrintRunForm()
    ids = form.letter_id.data if form.validate_on_submit() else []
    if not ids:
        flash("请选择要打印的文书", "error")
        return redirect(url_for("letters.letter_list"))
    letters = [_get_letter(i) for i in ids]  # 404 for one the user may not see
    # Laid out by a queue worker (WeasyPrint, parallel chunks): the PDF is the job's file.
    job_id = jobs.start_print_run([letter.id for letter in letters], current_user)
    return redirect(url_for("jobs.job_page", job_id=job_id))
