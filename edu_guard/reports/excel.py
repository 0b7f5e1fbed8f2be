"""Excel exports (openpyxl) of the periodic reports, the ledgers and comparison runs."""

from __future__ import annotations

import io

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font

from edu_guard.reports.services import COLUMNS, PERIODS

LEDGER_COLUMNS = {
    "school_age": {"name": "姓名", "sex": "性别", "id_number": "身份证件号", "birth_date": "出生日期", "township": "乡镇",
                   "school": "学校", "grade": "年级", "status": "学籍状态", "guardian": "监护人", "phone": "联系电话",
                   "closed_on": "销号日期", "closed_reason": "销号原因"},
    "suspected": {"name": "姓名", "id_number": "身份证件号", "source": "比对", "as_of": "比对基准日", "category": "类别",
                  "reason": "原因", "case_id": "个案编号", "closed_on": "销号日期", "closed_reason": "销号原因"},
    "dropouts": {"case_id": "个案编号", "name": "姓名", "sex": "性别", "id_number": "身份证件号", "school": "学校",
                 "grade": "年级", "left_month": "辍学月份", "guardian": "监护人", "phone": "联系电话", "address": "住址",
                 "hukou": "户籍", "reason": "辍学原因", "help": "帮扶措施", "step": "所处步骤", "homebound": "送教上门",
                 "closed_on": "销号日期", "closed_reason": "销号原因"},
}


def _save(workbook: Workbook) -> bytes:
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def _title(sheet, text: str, width: int) -> None:
    sheet.append([text])
    sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=max(1, width))
    sheet["A1"].font = Font(bold=True, size=14)
    sheet["A1"].alignment = Alignment(horizontal="center")


def report_workbook(report: dict, county: str, period: str | None = None) -> bytes:
    """Return the periodic report as an .xlsx workbook: a title row, the header, one
    row per township or school, the total."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = PERIODS.get(period or "", "报表")
    group = "乡镇" if report["by"] == "township" else "学校"
    header = [group, *COLUMNS.values()]
    _title(sheet, f"{county}控辍保学{PERIODS.get(period or '', '统计表')}（{report['start']}至{report['end']}）", len(header))
    sheet.append(header)
    for row in [*report["rows"], report["total"]]:
        sheet.append([row["name"], *(row[k] for k in COLUMNS)])
    sheet.column_dimensions["A"].width = 22
    return _save(workbook)


def ledger_workbook(kind: str, rows: list[dict], title: str) -> bytes:
    """Return a ledger as .xlsx; the dropouts ledger gets a second sheet, the 劝返 log."""
    columns = LEDGER_COLUMNS[kind]
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = title[:31]
    _title(sheet, title, len(columns))
    sheet.append(list(columns.values()))
    for row in rows:
        sheet.append([row.get(k) for k in columns])
    if kind == "dropouts":
        log = workbook.create_sheet("劝返记录")
        log.append(["个案编号", "姓名", "劝返次数", "日期", "劝返人员", "方式", "结果"])
        for row in rows:
            for v in row["visits"]:
                log.append([row["case_id"], row["name"], v["attempt"], v["date"], v["persons"], v["form"], v["result"]])
    return _save(workbook)
