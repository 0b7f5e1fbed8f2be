"""Web pages of student aid (学生资助): schemes and terms, proposing, the school's review
of its lists, posting (公示, printable), the bureau's approval, payments and reversals,
the bank workbook, the report with a chart, and the 应助尽助 check.

School users review and post their own school's lists; admin and clerk propose, approve
and reverse; auditors read. Rows are limited by :mod:`edu_guard.auth.scoping`.
"""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from marshmallow import ValidationError

from edu_guard import acts, money
from edu_guard.aid import bank, eligibility, gaps, schemas, services, stats
from edu_guard.aid.models import CHANNELS, LIST_STATES, AidList, AidListEntry, Payment, PaymentBatch, Term
from edu_guard.auth.scoping import scope_aid_lists, scope_payments
from edu_guard.auth.audit import full_number_access
from edu_guard.auth.scoping import can_see_child
from edu_guard.auth.services import mask_id_number, role_required
from edu_guard.db import db
from edu_guard.registry.models import Child, School
from edu_guard.registry.search import name_condition
from edu_guard.schemes.base import SchemeError

from edu_guard.web import commit_or_flash

bp = Blueprint("aid", __name__, url_prefix="/aid")

BUREAU = ("admin", "clerk")


def _commit(action, success: str | None = None):
    """Run a service call and commit once; a refusal rolls back and is flashed."""
    return commit_or_flash(action, (services.AidError, SchemeError), success)


def _term(code: str) -> Term:
    term = db.session.execute(sa.select(Term).where(Term.code == code)).scalar_one_or_none()
    if term is None:
        abort(404)
    return term


def _list(list_id: int) -> AidList:
    found = db.session.execute(scope_aid_lists(sa.select(AidList).where(AidList.id == list_id), current_user))
    aid_list = found.scalar_one_or_none()
    if aid_list is None:
        abort(404)
    return aid_list


def _may_review(aid_list: AidList) -> bool:
    """School users review their own school's lists; the bureau may too."""
    return current_user.role in BUREAU or (current_user.role == "school" and current_user.school_id == aid_list.school_id)


def _scheme_names() -> dict[str, str]:
    return {c: s.name for c, s in services.schemes().items()}


@bp.get("/")
@login_required
def index():
    """Schemes and terms; the bureau adds terms and proposes lists here."""
    terms = db.session.execute(sa.select(Term).order_by(Term.start.desc())).scalars().all()
    declared = [s.declaration() for s in services.schemes().values()]
    return render_template("aid/index.html", terms=terms, schemes=declared, bureau=current_user.role in BUREAU)


@bp.post("/terms")
@role_required(*BUREAU)
def term_add():
    """Add a term."""
    try:
        data = schemas.load(schemas.TermSchema(), request.form)
    except ValidationError as exc:
        flash(schemas.messages(exc), "error")
        return redirect(url_for("aid.index"))
    _commit(lambda: services.add_term(data["code"], data["start"], data["end"], data["school_days"], data["name"]),
            f"已新增学期 {data['code']}")
    return redirect(url_for("aid.index"))


@bp.post("/terms/<code>/propose")
@role_required(*BUREAU)
def propose(code: str):
    """Propose the lists of a term for one scheme or every scheme."""
    term = _term(code)
    wanted = request.form.get("scheme") or ""
    codes = list(services.schemes()) if wanted == "" else [wanted]

    def run():
        cands = eligibility.candidates(eligibility.term_info(term))
        return [services.propose(term, c, candidates=cands) for c in codes]

    results = _commit(run)
    if results is not None:
        names = _scheme_names()
        flash("；".join(f"{names.get(r.scheme_code, r.scheme_code)}：{r.lists}份名单{r.proposed}人"
                       + (f"（互斥未列入{r.refused}人）" if r.refused else "") for r in results), "success")
    return redirect(url_for("aid.lists", code=code))


@bp.get("/terms/<code>/lists")
@login_required
def lists(code: str):
    """The lists of a term the user may see, with their state and totals."""
    term = _term(code)
    stmt = scope_aid_lists(sa.select(AidList).join(School, School.id == AidList.school_id)
                           .where(AidList.term_id == term.id), current_user)
    scheme = request.args.get("scheme")
    if scheme:
        stmt = stmt.where(AidList.scheme_code == scheme)
    found = db.session.execute(stmt.order_by(AidList.scheme_code, School.code)).scalars().all()
    counts = dict(db.session.execute(
        sa.select(AidListEntry.list_id, sa.func.count()).where(AidListEntry.list_id.in_([x.id for x in found]),
                                                               AidListEntry.included.is_(True))
        .group_by(AidListEntry.list_id)).all())
    amounts = dict(db.session.execute(
        sa.select(AidListEntry.list_id, sa.func.sum(AidListEntry.amount_fen)).where(
            AidListEntry.list_id.in_([x.id for x in found]), AidListEntry.included.is_(True))
        .group_by(AidListEntry.list_id)).all())
    return render_template("aid/lists.html", term=term, lists=found, counts=counts,
                           amounts={k: money.from_fen(v) for k, v in amounts.items()}, states=LIST_STATES,
                           names=_scheme_names(), scheme=scheme, bureau=current_user.role in BUREAU)


@bp.get("/lists/<int:list_id>")
@login_required
def list_detail(list_id: int):
    """One school's list: every entry with the reason, the review, posting, approval."""
    aid_list = _list(list_id)
    entries = sorted(aid_list.entries, key=lambda e: (not e.included, e.child.name))
    today = services.today()
    term = aid_list.term
    # Entered after the fact: a list of a term that has ended proposes dates in that term.
    post_default = today if term.end >= today else term.start
    approve_default = today
    if aid_list.posting_ends_on is not None:
        from edu_guard.cases.deadlines import add_working_days

        approve_default = min(today, add_working_days(aid_list.posting_ends_on, 1).day)
    noted = aid_list.posted_on or post_default
    return render_template("aid/list.html", lst=aid_list, entries=entries, states=LIST_STATES,
                           summary=services.list_summary(aid_list), names=_scheme_names(),
                           may_review=_may_review(aid_list) and aid_list.state == "proposed",
                           bureau=current_user.role in BUREAU, today=today, post_default=post_default,
                           approve_default=approve_default, term_note=acts.closed_term_note(noted, today))


def _act_date() -> date | None:
    """The act's date posted by a form (``on``, ISO); ``None`` when absent (today)."""
    text = (request.form.get("on") or "").strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise services.AidError(f"日期“{text}”格式不对，应为 年-月-日") from None


@bp.post("/entries/<int:entry_id>/review")
@login_required
def review(entry_id: int):
    """Keep or remove a proposed child, with a reason."""
    entry = db.session.get(AidListEntry, entry_id) or abort(404)
    aid_list = _list(entry.list_id)
    if not _may_review(aid_list):
        abort(403)
    try:
        data = schemas.load(schemas.ReviewSchema(), request.form)
    except ValidationError as exc:
        flash(schemas.messages(exc), "error")
    else:
        _commit(lambda: services.set_included(entry, data["included"], data["reason"], user=current_user),
                f"已{'保留' if data['included'] else '移出'}：{entry.child.name}")
    return redirect(url_for("aid.list_detail", list_id=aid_list.id))


@bp.post("/lists/<int:list_id>/entries")
@login_required
def add_entry(list_id: int):
    """Add a child the system did not propose, with a reason."""
    aid_list = _list(list_id)
    if not _may_review(aid_list):
        abort(403)
    try:
        data = schemas.load(schemas.AddEntrySchema(), request.form)
    except ValidationError as exc:
        flash(schemas.messages(exc), "error")
        return redirect(url_for("aid.list_detail", list_id=list_id))
    child = db.session.execute(sa.select(Child).where(Child.id_number == data["id_number"])).scalar_one_or_none()
    if child is None or not can_see_child(current_user, child):
        flash(services.NOT_AT_SCHOOL, "error")  # the same answer as a child of another school
    else:
        _commit(lambda: services.add_entry(aid_list, child.id, data["reason"], amount=data["amount"], user=current_user),
                f"已增补：{child.name}")
    return redirect(url_for("aid.list_detail", list_id=list_id))


@bp.post("/lists/<int:list_id>/post")
@login_required
def post(list_id: int):
    """Post the list publicly (公示) from the date given (``on``; today without one)."""
    aid_list = _list(list_id)
    if not _may_review(aid_list):
        abort(403)
    done = _commit(lambda: services.post(aid_list, on=_act_date(), user=current_user))
    if done is not None:
        flash(f"已公示：{aid_list.posted_on} 至 {aid_list.posting_ends_on}", "success")
    return redirect(url_for("aid.list_detail", list_id=list_id))


@bp.post("/lists/<int:list_id>/approve")
@role_required(*BUREAU)
def approve(list_id: int):
    """Approve a list after its posting period on the date given (``on``; today without
    one); pays every included child once."""
    aid_list = _list(list_id)
    batch = _commit(lambda: services.approve(aid_list, on=_act_date(), channel=request.form.get("channel") or "bank",
                                             user=current_user))
    if batch is not None:
        services.notify_batch(batch, current_user)
        flash(f"已审批，发放批次 {batch.id}：{len(batch.payments)}人次 {money.from_fen(sum(p.amount_fen for p in batch.payments))}元",
              "success")
    return redirect(url_for("aid.list_detail", list_id=list_id))


def _tier_label(tier: str | None) -> str:
    """A tier as a clerk writes it: the scheme's only rate (``default``) prints nothing."""
    return "" if not tier or tier == "default" else tier


def _notice_context(aid_list: AidList) -> dict:
    """Plain data of the 公示 (names and masked IDs only, Chinese dates, no internal codes)."""
    from edu_guard.letters.render import chinese_date

    names = _scheme_names()
    rows = [{"name": e.child.name, "id_number": mask_id_number(e.child.id_number), "stage": e.stage,
             "tier": _tier_label(e.tier), "amount": str(money.from_fen(e.amount_fen))}
            for e in sorted(aid_list.entries, key=lambda e: e.child.name) if e.included]
    cfg = current_app.config
    return {"school": aid_list.school.name, "scheme": names.get(aid_list.scheme_code, aid_list.scheme_code),
            "term": aid_list.term.name, "rows": rows, "total": str(services.list_summary(aid_list)["amount"]),
            "posted_on": chinese_date(aid_list.posted_on), "posting_ends_on": chinese_date(aid_list.posting_ends_on),
            "days": services.posting_days(), "bureau": cfg["EDU_GUARD_ISSUERS"]["bureau"]["name"],
            "phone": cfg.get("EDU_GUARD_SUPERVISION_PHONE") or "", "tiers": any(r["tier"] for r in rows)}


@bp.get("/lists/<int:list_id>/notice")
@login_required
def notice(list_id: int):
    """The 公示 as a printable page (names with masked ID numbers, the posting period)."""
    aid_list = _list(list_id)
    if aid_list.posted_on is None:
        flash("名单尚未公示", "error")
        return redirect(url_for("aid.list_detail", list_id=list_id))
    return render_template("aid/notice_page.html", n=_notice_context(aid_list))


@bp.get("/lists/<int:list_id>/notice.pdf")
@login_required
def notice_pdf(list_id: int):
    """The 公示 as PDF, through the letters' renderer (fonts embedded)."""
    from markupsafe import Markup

    from edu_guard.letters.render import html_to_pdf, letter_fonts, letters_env

    aid_list = _list(list_id)
    if aid_list.posted_on is None:
        abort(404)
    env = letters_env()
    fragment = Markup(env.get_template("aid/notice.html").render(n=_notice_context(aid_list)))
    html = env.get_template("letters/_base.html").render(
        fragments=[fragment], doc_title="资助名单公示", font_face_css=Markup(letter_fonts().font_face_css()))
    return Response(html_to_pdf(html), mimetype="application/pdf",
                    headers={"Content-Disposition": f"inline; filename=notice-{list_id}.pdf"})


@bp.get("/terms/<code>/payments")
@login_required
def payments(code: str):
    """Payments of a term the user may see (masked IDs), paged; reversals shown."""
    term = _term(code)
    stmt = scope_payments(sa.select(Payment).join(Child, Child.id == Payment.child_id)
                          .where(Payment.term_id == term.id), current_user)
    if request.args.get("scheme"):
        stmt = stmt.where(Payment.scheme_code == request.args["scheme"])
    if request.args.get("q"):
        stmt = stmt.where(name_condition(Child.name, request.args["q"]))
    page = db.paginate(stmt.order_by(Payment.id), per_page=current_app.config["EDU_GUARD_PAGE_SIZE"], error_out=False)
    batches = db.session.execute(sa.select(PaymentBatch).where(PaymentBatch.term_id == term.id)
                                 .order_by(PaymentBatch.id)).scalars().all()
    return render_template("aid/payments.html", term=term, page=page, names=_scheme_names(), batches=batches,
                           bureau=current_user.role in BUREAU, channels=CHANNELS)


@bp.post("/payments/<int:payment_id>/reverse")
@role_required(*BUREAU)
def reverse(payment_id: int):
    """Reverse a mistaken payment (冲正) with a reason."""
    payment = db.session.get(Payment, payment_id) or abort(404)
    try:
        data = schemas.load(schemas.ReversalSchema(), request.form)
    except ValidationError as exc:
        flash(schemas.messages(exc), "error")
    else:
        _commit(lambda: services.reverse(payment, data["reason"], user=current_user), f"已冲正发放记录 {payment_id}")
    return redirect(url_for("aid.payments", code=payment.term.code))


@bp.get("/batches/<int:batch_id>/bank.xlsx")
@role_required(*BUREAU)
def bank_workbook(batch_id: int):
    """The bank's payment workbook of a batch (full ID numbers: bureau only)."""
    batch = db.session.get(PaymentBatch, batch_id) or abort(404)
    data = bank.workbook(batch)
    full_number_access("download_full", "payment_batch", batch.id, {"file": "bank.xlsx"})
    return Response(data,
                    mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={"Content-Disposition": f"attachment; filename=bank-batch-{batch_id}.xlsx"})


def _report_terms():
    code, year = request.args.get("term") or None, request.args.get("year", type=int)
    if code is None and year is None:
        latest = db.session.execute(sa.select(Term).order_by(Term.start.desc())).scalars().first()
        if latest is None:
            return None
        code = latest.code
    try:
        return stats.terms_for(code, None if code else year)
    except ValueError as exc:
        flash(str(exc), "error")
        return None


def _chart(schemes_data: list[dict]) -> list[dict]:
    """Bars of the report's chart: width in percent of the largest amount."""
    top = max((float(s["amount_yuan"]) for s in schemes_data), default=0) or 1
    return [{"name": s["name"], "wan": s["amount_wan"], "pct": round(float(s["amount_yuan"]) * 100 / top, 1),
             "poverty_pct": round(float(s["poverty_amount_yuan"]) * 100 / top, 1)} for s in schemes_data]


@bp.get("/report")
@role_required("admin", "clerk", "auditor")
def report():
    """The report of a term or year: the narrative lines, the table by stage and a chart."""
    terms = _report_terms()
    all_terms = db.session.execute(sa.select(Term).order_by(Term.start.desc())).scalars().all()
    if terms is None:
        return render_template("aid/report.html", data=None, terms=all_terms, bars=[], sections=[])
    data = stats.report(terms)
    return render_template("aid/report.html", data=data, terms=all_terms, bars=_chart(data["schemes"]),
                           sections=stats.plugin_sections(data), labels=stats.BREAKDOWNS)


@bp.get("/report.xlsx")
@role_required("admin", "clerk", "auditor")
def report_xlsx():
    """The report's Excel table (万元, four decimals)."""
    terms = _report_terms()
    if terms is None:
        abort(404)
    return Response(stats.workbook(terms), mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={"Content-Disposition": "attachment; filename=aid-report.xlsx"})


@bp.get("/gaps")
@role_required("admin", "clerk", "auditor")
def gaps_page():
    """The 应助尽助 check of a term."""
    all_terms = db.session.execute(sa.select(Term).order_by(Term.start.desc())).scalars().all()
    code = request.args.get("term") or (all_terms[0].code if all_terms else None)
    found = gaps.check(_term(code)) if code else []
    return render_template("aid/gaps.html", terms=all_terms, code=code, found=found, kinds=gaps.KINDS)
