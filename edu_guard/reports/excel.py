"""Excel exports of the periodic reports and the ledgers (through :mod:`edu_guard.excel`)."""

from __future__ import annotations

from edu_guard import excel
from edu_guard.i18n import N_, Message
from edu_guard.reports.services import COLUMNS, PERIODS

#: The ledgers' columns: Chinese headers of the workbook, translated where a page shows them.
LEDGER_COLUMNS = {
    "school_age": {"name": N_("姓名"), "sex": N_("性别"), "id_number": N_("身份证件号"), "birth_date": N_("出生日期"), "township": N_("乡镇"),
                   "school": N_("学校"), "grade": N_("年级"), "status": N_("学籍状态"), "guardian": N_("监护人"), "phone": N_("联系电话"),
                   "closed_on": N_("销号日期"), "closed_reason": N_("销号原因")},
    "suspected": {"name": N_("姓名"), "id_number": N_("身份证件号"), "source": N_("比对"), "as_of": N_("比对基准日"), "category": N_("类别"),
                  "reason": N_("原因"), "case_id": N_("个案编号"), "closed_on": N_("销号日期"), "closed_reason": N_("销号原因")},
    "dropouts": {"case_id": N_("个案编号"), "name": N_("姓名"), "sex": N_("性别"), "id_number": N_("身份证件号"), "school": N_("学校"),
                 "grade": N_("年级"), "left_month": N_("辍学月份"), "guardian": N_("监护人"), "phone": N_("联系电话"), "address": N_("住址"),
                 "hukou": N_("户籍"), "reason": N_("辍学原因"), "help": N_("帮扶措施"), "step": N_("所处步骤"), "homebound": N_("送教上门"),
                 "closed_on": N_("销号日期"), "closed_reason": N_("销号原因")},
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

