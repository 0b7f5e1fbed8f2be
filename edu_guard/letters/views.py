"""Web pages of letters: the list, one letter with its cases and proof of service, the
stored PDF, and a print run of several letters as one PDF."""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from edu_guard.db import db
from edu_guard.letters.forms import PrintRunForm
from edu_guard.letters import jobs, queries, services
from edu_guard.letters.models import Letter
from edu_guard.web import download_name

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


def _get_letter(letter_id: int) -> Letter:
    letter = queries.letter_by_id(letter_id, current_user)
    if letter is None:
        abort(404)
    return letter


@bp.get("/letters")
@login_required
def letter_list():
    """All letters in scope, newest first, filterable by kind and year."""
    kind = request.args.get("kind")
    stmt = queries.letters(current_user, kind=kind if kind in KIND_LABELS else None, year=request.args.get("year", type=int))
    page = db.paginate(stmt, per_page=current_app.config["EDU_GUARD_PAGE_SIZE"],
                       error_out=False)
    base_args = {k: v for k, v in request.args.items() if k != "page"}
    return render_template("letters/list.html", page=page, kinds=KIND_LABELS, kind=kind, base_args=base_args)


@bp.get("/letters/<int:letter_id>")
@login_required
def letter_detail(letter_id: int):
    """One letter: number, recipient, cases, service."""
    letter = _get_letter(letter_id)
    estimated = queries.estimated_dates(letter)
    return render_template("letters/detail.html", letter=letter, kinds=KIND_LABELS, estimated=estimated)


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
    return send_file(path, mimetype="application/pdf", download_name=download_name(f"{letter.doc_number}.pdf"))


@bp.post("/letters/print")
@login_required
def print_run():
    """Print the selected letters as one PDF, each starting on a new page: a job whose
    file the user downloads from the job page."""

    form = PrintRunForm()
    ids = form.letter_id.data if form.validate_on_submit() else []
    if not ids:
        flash(_("请选择要打印的文书"), "error")
        return redirect(url_for("letters.letter_list"))
    letters = [_get_letter(i) for i in ids]  # 404 for one the user may not see
    # Laid out by a queue worker (WeasyPrint, parallel chunks): the PDF is the job's file.
    job_id = jobs.start_print_run([letter.id for letter in letters], current_user)
    return redirect(url_for("jobs.job_page", job_id=job_id))
