"""Web pages of reports: the periodic report (export and print), the three ledgers
and the dashboard. Every figure is scoped to the user's area
(:mod:`edu_guard.auth.scoping`)."""

from __future__ import annotations

from contextlib import nullcontext
from datetime import date
from io import BytesIO

from flask import Blueprint, abort, current_app, flash, render_template, request, send_file
from flask_babel import force_locale, gettext as _
from flask_login import current_user, login_required

from edu_guard import acts, clock
from edu_guard.auth.audit import full_number_access
from edu_guard.auth.models import SUPERIOR_ROLES
from edu_guard.auth.services import role_required
from edu_guard.reports import ledgers, province, services
from edu_guard.reports import excel
from edu_guard.cases.services import today

bp = Blueprint("reports", __name__)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _day(value: str | None) -> date:
    """The report's or ledger's day: as given, else the default of a county entering a
    past term (:func:`edu_guard.acts.latest_term_day`: today while the latest term runs,
    else that term's first day), so the 2021 spring term's figures open as of 2021."""
    default = acts.latest_term_day(clock.today())
    try:
        return date.fromisoformat(value) if value else default
    except ValueError:
        flash(_("日期“%(value)s”格式不对，应为 YYYY-MM-DD；已按 %(default)s 统计", value=value, default=default), "error")
        return default


def cases_today():
    """The county's today (the cases' clock)."""

    return today()


@bp.get("/reports")
@login_required
def periodic():
    """The daily, weekly or monthly report by township or school; ``?format=xlsx``
    downloads it, ``?print=1`` shows the printable page."""
    period = request.args.get("period") if request.args.get("period") in services.PERIODS else "month"
    by = request.args.get("by") if request.args.get("by") in ("township", "school") else "township"
    on = _day(request.args.get("date"))
    start, end = services.period_bounds(period, on)
    if request.args.get("from") and request.args.get("to"):  # any period
        start, end, period = _day(request.args["from"]), _day(request.args["to"]), "custom"
    try:
        report = services.periodic_report(start, end, by=by, user=current_user)
    except services.ReportError as exc:
        flash(str(exc), "error")
        start = end = on
        report = services.periodic_report(start, end, by=by, user=current_user)

    county = current_app.config["EDU_GUARD_COUNTY_NAME"]
    if request.args.get("format") == "xlsx":
        return send_file(BytesIO(excel.report_workbook(report, county, period)), as_attachment=True, mimetype=XLSX,
                         download_name=f"控辍保学{services.PERIODS.get(period, '统计表')}_{start}_{end}.xlsx")
    printing = bool(request.args.get("print"))
    # The printed report goes to superiors: an official document, in Chinese whatever the page's language.
    with force_locale("zh") if printing else nullcontext():
        return render_template("reports/periodic.html", report=report, period=period, by=by, on=on,
                               periods=services.PERIODS, columns=services.COLUMNS, county=county, printing=printing,
                               ledgers=ledgers.LEDGERS, today=cases_today())


@bp.get("/reports/ledgers/<kind>")
@login_required
def ledger(kind: str):
    """One of the three ledgers (适龄儿童, 疑似辍学, 辍学); ``?format=xlsx`` downloads it."""
    if kind not in ledgers.LEDGERS:
        abort(404)

    full = current_user.sees_full_ids
    on = _day(request.args.get("date"))
    if kind == "school_age":
        rows = ledgers.school_age_ledger(on, current_app.config, current_user, unmasked=full)
    elif kind == "suspected":
        rows = ledgers.suspected_ledger(current_user, unmasked=full)
    else:
        rows = ledgers.dropout_ledger(current_user, unmasked=full)
    if request.args.get("format") == "xlsx":
        full_number_access("download_full", "ledger", None, {"ledger": kind, "rows": len(rows)})
        return send_file(BytesIO(excel.ledger_workbook(kind, rows, ledgers.LEDGERS[kind])), as_attachment=True,
                         mimetype=XLSX, download_name=f"{ledgers.LEDGERS[kind]}.xlsx")
    per_page = current_app.config["EDU_GUARD_PAGE_SIZE"]
    pages = max(1, -(-len(rows) // per_page))
    page = min(max(1, request.args.get("page", 1, type=int)), pages)
    return render_template("reports/ledger.html", kind=kind, rows=rows[(page - 1) * per_page: page * per_page],
                           total=len(rows), page=page, pages=pages, ledgers=ledgers.LEDGERS, on=on,
                           columns=excel.LEDGER_COLUMNS[kind], can_close=current_user.role in ("admin", "clerk"))


@bp.get("/reports/dashboard")
@login_required
def dashboard():
    """Open cases by step and township, and the weekly trend over the term (the term
    holding today, or the latest past term a county is entering: :func:`acts.current_term`)."""
    today = clock.today()
    term = acts.current_term(today)
    data = services.dashboard(current_user, today=today, term_start=term.start if term else None,
                              term_end=term.end if term else None)
    return render_template("reports/dashboard.html", data=data, term=term)


# --- above the county (州/市, 省) --------------------------------------------------


def _superior_division() -> str:
    """The signed-in prefecture or province user's division (403 when none is set)."""
    if not current_user.division_code:
        abort(403)
    return current_user.division_code


@bp.get("/province/aid")
@role_required(*SUPERIOR_ROLES)
def province_aid():
    """The aid paid in a year (``?year=``, default the county clock's) by county and
    scheme, for a prefecture or province user: sums only, no child."""
    code = _superior_division()
    year = request.args.get("year", type=int) or clock.today().year
    try:
        data = province.aid_by_county(code, year)
    except (ValueError, services.ReportError) as exc:
        flash(str(exc), "error")
        data = None
    return render_template("reports/province_aid.html", data=data, year=year, schemes=province.scheme_names())


@bp.get("/province/monthly")
@role_required(*SUPERIOR_ROLES)
def province_monthly():
    """The dropout monthly report (``?month=YYYY-MM``) by county, for a prefecture or
    province user."""
    code = _superior_division()
    month = request.args.get("month") or clock.today().strftime("%Y-%m")
    try:
        report = province.monthly_by_county(code, month)
    except services.ReportError as exc:
        flash(str(exc), "error")
        report = None
    return render_template("reports/province_monthly.html", report=report, month=month, columns=services.COLUMNS)
