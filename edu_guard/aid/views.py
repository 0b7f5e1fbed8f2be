"""Web pages of student aid (学生资助): schemes and terms, proposing, the school's review
of its lists, posting (公示, printable), the bureau's approval, payments and reversals,
the bank workbook, the report with a chart, and the 应助尽助 check.

School users review and post their own school's lists; admin and clerk propose, approve
and reverse; auditors read. Rows are limited by :mod:`edu_guard.auth.scoping`.
"""

from __future__ import annotations

from datetime import date

from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from edu_guard import acts, money
from edu_guard.aid import accounts, jobs, bank, consistency, forms, gaps, models, queries, services, stats
from edu_guard.aid.models import ACCOUNT_KINDS, CHANNELS, LIST_STATES, AidList, AidListEntry, Payment, PaymentBatch, Term
from edu_guard.auth.audit import full_number_access
from edu_guard.auth.scoping import can_see_child
from edu_guard.auth.services import mask_id_number, role_required
from edu_guard.db import db
from edu_guard.i18n import Message
from edu_guard.jobs.views import export_response
from edu_guard.lists import pupil_key, xlsx_response
from edu_guard.registry import queries as registry_queries
from edu_guard.registry.models import Child, School
from edu_guard.schemes.base import SchemeError

from edu_guard.web import after_commit, form_errors, run_or_flash
from edu_guard.letters.render import html_to_pdf, letters_env
from edu_guard.deadlines import add_working_days
from edu_guard.letters.render import chinese_date

bp = Blueprint("aid", __name__, url_prefix="/aid")

BUREAU = ("admin", "clerk")


def _run(action, success: str | None = None):
    """Run a service call; a refusal rolls back and is flashed (the request boundary commits)."""
    return run_or_flash(action, (services.AidError, SchemeError), success)


def _term(code: str) -> Term:
    term = queries.term_by_code(code)
    if term is None:
        abort(404)
    return term


def _list(list_id: int) -> AidList:
    aid_list = queries.aid_list(list_id, current_user)
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
    terms = queries.terms()
    declared = [s.declaration() for s in services.schemes().values()]
    return render_template("aid/index.html", terms=terms, schemes=declared, bureau=current_user.role in BUREAU,
                           scheme_names=_scheme_names())


@bp.get("/plugins")
@role_required("admin")
def plugins_page():
    """The schemes' codes and the plugins that provide them (administrators: the codes
    are for the command line and configuration, never shown to clerks)."""
    declared = [s.declaration() for s in services.schemes().values()]
    return render_template("aid/plugins.html", schemes=declared)


@bp.post("/terms")
@role_required(*BUREAU)
def term_add():
    """Add a term."""
    form = forms.TermForm()
    if not form.validate_on_submit():
        flash(form_errors(form), "error")
        return redirect(url_for("aid.index"))
    data = form.values()
    _run(lambda: services.add_term(data["code"], data["start"], data["end"], data["school_days"], data["name"]),
            _("已新增学期 %(code)s", code=data["code"]))
    return redirect(url_for("aid.index"))


@bp.post("/terms/<code>/propose")
@role_required(*BUREAU)
def propose(code: str):
    """Propose the lists of a term for one scheme or every scheme."""
    term = _term(code)
    form = forms.ProposeForm()
    form.validate_on_submit()  # an unknown scheme is refused by the service, by name
    wanted = (form.scheme.data or "").strip()
    codes = list(services.schemes()) if wanted == "" else [wanted]

    # Run by a queue worker, in one transaction (edu_guard.aid.jobs); the job page says
    # what was proposed, and names a scheme whose plugin failed.
    job_id = _run(lambda: jobs.start_propose(term.code, codes, current_user))
    if job_id is not None:
        return redirect(url_for("jobs.job_page", job_id=job_id))
    return redirect(url_for("aid.lists", code=code))


@bp.get("/terms/<code>/lists")
@login_required
def lists(code: str):
    """The lists of a term the user may see, with their state and totals."""
    term = _term(code)
    scheme = request.args.get("scheme")
    found, counts, amounts = queries.term_lists(term, current_user, scheme)
    if request.args.get("format") == "xlsx":
        names_ = _scheme_names()
        rows = [[i, names_.get(x.scheme_code, x.scheme_code), x.school.township.name if x.school.township else "",
                 x.school.name, LIST_STATES.get(x.state, x.state), counts.get(x.id, 0),
                 money.from_fen(amounts.get(x.id) or 0), x.posted_on, x.posting_ends_on]
                for i, x in enumerate(found, start=1)]
        return xlsx_response(f"{term.name}资助名单", f"{term.name}资助名单汇总", [
            "序号", "资助项目", "乡镇", "学校", "状态", "拟资助人数", "金额（元）", "公示开始", "公示结束"], rows,
            totals=["合计", "", "", f"{len(found)}份", "", sum(counts.get(x.id, 0) for x in found),
                    money.from_fen(sum(amounts.get(x.id) or 0 for x in found))])
    return render_template("aid/lists.html", term=term, lists=found, counts=counts,
                           amounts={k: money.from_fen(v) for k, v in amounts.items()}, states=LIST_STATES,
                           total_count=sum(counts.get(x.id, 0) for x in found),
                           total_amount=money.from_fen(sum(amounts.get(x.id) or 0 for x in found)),
                           names=_scheme_names(), scheme=scheme, bureau=current_user.role in BUREAU)


@bp.get("/lists/<int:list_id>")
@login_required
def list_detail(list_id: int):
    """One school's list: every entry with the reason, the review, posting, approval."""
    aid_list = _list(list_id)
    entries = sorted(aid_list.entries, key=lambda e: (not e.included, _pupil_key(e.child, aid_list.school)))
    if request.args.get("format") == "xlsx":
        scheme = _scheme_names().get(aid_list.scheme_code, aid_list.scheme_code)
        rows = [[i, e.child.name, mask_id_number(e.child.id_number), e.stage, e.child.current_enrollment.grade
                 if e.child.current_enrollment else "", e.family_kinds or "", _tier_label(e.tier),
                 money.from_fen(e.amount_fen) if e.included else None, str(e.reason or ""),
                 "拟资助" if e.included else f"移出：{e.review_reason or ''}"] for i, e in enumerate(entries, start=1)]
        summary = services.list_summary(aid_list)
        return xlsx_response(f"{aid_list.school.name}{scheme}名单", f"{aid_list.term.name}{aid_list.school.name}{scheme}名单",
                             ["序号", "姓名", "身份证号", "学段", "年级", "家庭类型", "档次", "金额（元）", "理由", "审核"], rows,
                             totals=["合计", f"{summary['included']}人", "", "", "", "", "", summary["amount"]],
                             text_columns=[2])
    today = services.today()
    term = aid_list.term
    # Entered after the fact: a list of a term that has ended proposes dates in that term.
    post_default = today if term.end >= today else term.start
    approve_default = today
    if aid_list.posting_ends_on is not None:

        approve_default = min(today, add_working_days(aid_list.posting_ends_on, 1).day)
    noted = aid_list.posted_on or post_default
    cross = consistency.flags(aid_list, _scheme_names())
    return render_template("aid/list.html", lst=aid_list, entries=entries, states=LIST_STATES,
                           summary=services.list_summary(aid_list), names=_scheme_names(),
                           approved_on=services.approved_on(aid_list) if aid_list.approved_at else None,
                           may_review=_may_review(aid_list) and aid_list.state == "proposed",
                           bureau=current_user.role in BUREAU, today=today, post_default=post_default,
                           approve_default=approve_default, term_note=acts.closed_term_note(noted, today),
                           cross=cross)


def _act_date(form) -> date | None:
    """The act's date posted by ``form`` (its ``on``, ISO); ``None`` when absent (today).

    :raises AidError: not a date (a refusal, flashed).
    """
    text = (form.on.data or "").strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise services.AidError(Message("日期“%(text)s”格式不对，应为 年-月-日", text=text)) from None


@bp.post("/entries/<int:entry_id>/review")
@login_required
def review(entry_id: int):
    """Keep or remove a proposed child, with a reason."""
    entry = db.session.get(AidListEntry, entry_id) or abort(404)
    aid_list = _list(entry.list_id)
    if not _may_review(aid_list):
        abort(403)
    form = forms.ReviewForm()
    if not form.validate_on_submit():
        flash(form_errors(form), "error")
    else:
        included, reason = form.included.data == "true", form.reason.data.strip()
        _run(lambda: services.set_included(entry, included, reason, user=current_user),
             _("已保留：%(name)s", name=entry.child.name) if included else _("已移出：%(name)s", name=entry.child.name))
    return redirect(url_for("aid.list_detail", list_id=aid_list.id))


@bp.post("/lists/<int:list_id>/entries")
@login_required
def add_entry(list_id: int):
    """Add a child the system did not propose, with a reason."""
    aid_list = _list(list_id)
    if not _may_review(aid_list):
        abort(403)
    form = forms.AddEntryForm()
    if not form.validate_on_submit():
        flash(form_errors(form), "error")
        return redirect(url_for("aid.list_detail", list_id=list_id))
    data = {"id_number": form.id_number.data, "reason": form.reason.data.strip(), "amount": form.amount.data}
    child = registry_queries.child_by_id_number(data["id_number"])
    if child is None:  # no such child, or not in the user's scope: the same answer as the service's
        flash(Message(services.NOT_AT_SCHOOL), "error")
    else:
        _run(lambda: services.add_entry(aid_list, child.id, data["reason"], amount=data["amount"], user=current_user),
                _("已增补：%(name)s", name=child.name))
    return redirect(url_for("aid.list_detail", list_id=list_id))


@bp.post("/lists/<int:list_id>/post")
@login_required
def post(list_id: int):
    """Post the list publicly (公示) from the date given (``on``; today without one)."""
    aid_list = _list(list_id)
    if not _may_review(aid_list):
        abort(403)
    form = forms.ActForm()
    form.validate_on_submit()
    done = _run(lambda: services.post(aid_list, on=_act_date(form), user=current_user))
    if done is not None:
        flash(_("已公示：%(start)s 至 %(end)s", start=aid_list.posted_on, end=aid_list.posting_ends_on), "success")
        acts.flash_closed_term(aid_list.posted_on, services.today())
    return redirect(url_for("aid.list_detail", list_id=list_id))


@bp.post("/lists/<int:list_id>/approve")
@role_required(*BUREAU)
def approve(list_id: int):
    """Approve a list after its posting period on the date given (``on``; today without
    one); pays every included child once."""
    aid_list = _list(list_id)
    form = forms.ApproveForm()
    form.validate_on_submit()
    channel = (form.channel.data or "").strip() or "bank"
    if aid_list.state == "posted" and jobs.approval_is_big(aid_list):  # a large list: a job, one transaction
        job_id = _run(lambda: jobs.start_approve(aid_list, _act_date(form), channel, current_user))
        if job_id is not None:
            return redirect(url_for("jobs.job_page", job_id=job_id))
        return redirect(url_for("aid.list_detail", list_id=list_id))
    batch = _run(lambda: services.approve(aid_list, on=_act_date(form), channel=channel, user=current_user))
    if batch is not None:
        user = current_user._get_current_object()
        after_commit(lambda: services.notify_batch(batch, user))
        flash(_("已审批，发放批次 %(batch)s：%(count)s人次 %(amount)s元", batch=batch.id, count=len(batch.payments),
                amount=money.from_fen(sum(p.amount_fen for p in batch.payments))), "success")
        acts.flash_closed_term(batch.paid_on, services.today())
    return redirect(url_for("aid.list_detail", list_id=list_id))


def _tier_label(tier: str | None) -> str:
    """A tier as a clerk writes it: the scheme's only rate (``default``) prints nothing."""
    return "" if not tier or tier == "default" else tier


def _notice_context(aid_list: AidList) -> dict:
    """Plain data of the 公示 (names and masked IDs only, Chinese dates, no internal codes)."""

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
        flash(_("名单尚未公示"), "error")
        return redirect(url_for("aid.list_detail", list_id=list_id))
    return render_template("aid/notice_page.html", n=_notice_context(aid_list))


@bp.get("/lists/<int:list_id>/notice.pdf")
@login_required
def notice_pdf(list_id: int):
    """The 公示 as PDF, through the letters' renderer (fonts embedded)."""
    from markupsafe import Markup

    aid_list = _list(list_id)
    if aid_list.posted_on is None:
        abort(404)
    env = letters_env()
    fragment = Markup(env.get_template("aid/notice.html").render(n=_notice_context(aid_list)))
    html = env.get_template("letters/_base.html").render(
        fragments=[fragment], doc_title="资助名单公示")
    return Response(html_to_pdf(html), mimetype="application/pdf",
                    headers={"Content-Disposition": f"inline; filename=notice-{list_id}.pdf"})


@bp.get("/terms/<code>/payments")
@login_required
def payments(code: str):
    """Payments of a term the user may see (masked IDs), paged; reversals shown."""
    term = _term(code)
    stmt = queries.term_payments(term, current_user, request.args.get("scheme"), request.args.get("q"))
    if request.args.get("format") == "xlsx":  # a big one is made by a job (edu_guard.aid.jobs)
        return export_response("payments", {"term": term.code, "scheme": request.args.get("scheme") or None,
                                            "q": request.args.get("q") or None})
    page = db.paginate(stmt, per_page=current_app.config["EDU_GUARD_PAGE_SIZE"], error_out=False)
    batches = queries.term_batches(term)
    count, fen = queries.payments_total(stmt)
    return render_template("aid/payments.html", term=term, page=page, names=_scheme_names(), batches=batches,
                           totals=(count, money.from_fen(fen)),
                           bureau=current_user.role in BUREAU, channels=CHANNELS)


def _pupil_key(child: Child, school: School | None) -> tuple:
    e = child.current_enrollment
    return pupil_key(school.township.name if school and school.township else "", school.code if school else "",
                     e.grade if e else "", e.class_name if e else "", child.name)


@bp.post("/payments/<int:payment_id>/reverse")
@role_required(*BUREAU)
def reverse(payment_id: int):
    """Reverse a mistaken payment (冲正) with a reason."""
    payment = db.session.get(Payment, payment_id) or abort(404)
    form = forms.ReversalForm()
    if not form.validate_on_submit():
        flash(form_errors(form), "error")
    else:
        reason = form.reason.data.strip()
        _run(lambda: services.reverse(payment, reason, user=current_user), _("已冲正发放记录 %(id)s", id=payment_id))
    return redirect(url_for("aid.payments", code=payment.term.code))


@bp.get("/batches/<int:batch_id>/bank.xlsx")
@role_required(*BUREAU)
def bank_workbook(batch_id: int):
    """The bank's 代发 file of a batch (full account numbers: bureau only); a batch with
    pupils lacking a payee account is refused, naming them."""
    batch = db.session.get(PaymentBatch, batch_id) or abort(404)
    try:
        data = bank.workbook(batch, unit=current_app.config["EDU_GUARD_ISSUERS"]["bureau"]["name"],
                             preparer=current_user.display_name, made_on=services.today())
    except bank.BankFileError as exc:
        flash(str(exc), "error")
        return redirect(url_for("aid.payments", code=batch.term.code))
    full_number_access("download_full", "payment_batch", batch.id, {"file": "bank.xlsx"})
    return Response(data, mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={"Content-Disposition": f"attachment; filename=bank-batch-{batch_id}.xlsx"})


def _report_terms():
    code, year = request.args.get("term") or None, request.args.get("year", type=int)
    if code is None and year is None:
        latest = next(iter(queries.terms()), None)
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
    all_terms = queries.terms()
    if terms is None:
        return render_template("aid/report.html", data=None, terms=all_terms, bars=[], sections=[])
    data = stats.report(terms)
    sections, failures = stats.plugin_sections(data)
    for failure in failures:
        flash(_("报表中插件提供的部分未能生成：%(reason)s", reason=failure.message), "error")
    return render_template("aid/report.html", data=data, terms=all_terms, bars=_chart(data["schemes"]),
                           sections=sections, labels=stats.BREAKDOWNS)


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
    all_terms = queries.terms()
    code = request.args.get("term") or (all_terms[0].code if all_terms else None)
    found = gaps.check(_term(code)) if code else []
    if code and request.args.get("format") == "xlsx":
        rows = [[i, str(g.get("kind_label", "")), g["name"], mask_id_number(g["id_number"]), g.get("school") or "", str(g["reason"])]
                for i, g in enumerate(found, start=1)]
        term = _term(code)
        return xlsx_response(f"{term.name}应助尽助核查", f"{term.name}应助尽助核查（{len(found)}人）",
                             ["序号", "类别", "姓名", "身份证号", "学校", "原因"], rows,
                             totals=["合计", "", f"{len(found)}人"], text_columns=[3])
    return render_template("aid/gaps.html", terms=all_terms, code=code, found=found, kinds=gaps.KINDS)


@bp.app_template_global()
def term_name(term) -> str:
    """A term's name on a page: the system's name in the page's language, a name a
    clerk typed as typed (:func:`edu_guard.schemes.base.term_name`)."""
    return str(models.term_name(term))


@bp.app_template_global()
def payee_account(child: Child):
    """The child's payee account or ``None`` (for the child's page)."""
    return accounts.accounts_of([child.id]).get(child.id)


@bp.app_template_global()
def mask_account(number: str | None) -> str:
    """An account number masked for pages (``6217****1234``)."""
    return accounts.mask_account(number)


@bp.app_context_processor
def _account_kinds() -> dict:
    return {"account_kinds": ACCOUNT_KINDS}


@bp.post("/children/<int:child_id>/account")
@role_required("admin", "clerk", "school")
def child_account(child_id: int):
    """Record or replace the child's payee account (school users: their own pupils)."""
    child = db.session.get(Child, child_id)
    if child is None or not can_see_child(current_user, child):
        abort(404)
    f = request.form
    run_or_flash(lambda: accounts.set_account(
        child, holder_name=f.get("holder_name", ""), holder_id_number=f.get("holder_id_number", ""), bank=f.get("bank", ""),
        number=f.get("number", ""), kind=f.get("kind", "一卡通"), user=current_user), (accounts.AccountError,), _("已保存收款账户"))
    return redirect(url_for("registry.child_detail", child_id=child.id) + "#account")
