"""Excel exports of the periodic reports and the ledgers (through :mod:`edu_guard.excel`)."""

from __future__ import annotations

from edu_guard import excel
from edu_guard.i18n import Message
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


def report_workbook(report: dict, county: str, period: str | None = None) -> bytes:
    """Return the periodic report as an .xlsx workbook: a title row, the header, one
    row per township or school, the 合计 row."""
    group = "乡镇" if report["by"] == "township" else "学校"
    header = [group, *COLUMNS.values()]
    book = excel.Workbook()
    sheet = book.sheet(PERIODS.get(period or "", "报表"))
    sheet.title(f"{county}控辍保学{PERIODS.get(period or '', '统计表')}（{report['start']}至{report['end']}）", len(header))
    sheet.header(header)
    sheet.rows([row["name"], *(row[k] for k in COLUMNS)] for row in report["rows"])
    total = report["total"]
    sheet.total([total["name"], *(total[k] for k in COLUMNS)])
    return book.to_bytes()


def _chinese(value):
    """A cell as the (Chinese) workbook writes it: a stored reason (a Message) in Chinese."""
    return value.chinese() if isinstance(value, Message) else value


def ledger_workbook(kind: str, rows: list[dict], title: str) -> bytes:
    """Return a ledger as .xlsx (title row, header, one row per entry; ID numbers as
    text); the dropouts ledger gets a second sheet, the 劝返 log."""
    columns = LEDGER_COLUMNS[kind]
    book = excel.Workbook()
    sheet = book.sheet(title)
    sheet.title(title, len(columns)).header(list(columns.values()), text_columns=[list(columns).index("id_number")])
    sheet.rows([_chinese(row.get(k)) for k in columns] for row in rows)
    if kind == "dropouts":
        log_header = ["个案编号", "姓名", "劝返次数", "日期", "劝返人员", "方式", "结果"]
        log = book.sheet("劝返记录").title(f"{title}：劝返记录", len(log_header)).header(log_header)
        log.rows([row["case_id"], row["name"], v["attempt"], v["date"], v["persons"], v["form"], v["result"]]
                 for row in rows for v in row["visits"])
    return book.to_bytes()

