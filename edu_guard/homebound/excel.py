"""Excel export of 送教上门 figures (through :mod:`edu_guard.excel`): per child, per
school, per township."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Sequence

from edu_guard import excel
from edu_guard.homebound.compliance import Norm


def compliance_workbook(norm: Norm, start: date, end: date, rows: Sequence, by_school: Sequence, by_township: Sequence) -> bytes:
    """Return a workbook with the sheets 按学生, 按学校, 按乡镇 and 说明 (the norm and
    period) as ``.xlsx`` bytes; each sheet has a title row above its header.

    :param rows: :class:`edu_guard.homebound.services.ComplianceRow` items.
    :param by_school: :class:`edu_guard.homebound.services.GroupSummary` items (the
        last one is the 合计, written in bold).
    :param by_township: likewise, by township.
    """
    period = f"{start.isoformat()} 至 {end.isoformat()}"
    book = excel.Workbook()
    header = ["姓名", "送教学校", "乡镇", "计算天数", "送教次数", "课时", "应送次数", "应送课时",
              "差次数", "差课时", "监护人未确认", "是否达标"]
    book.sheet("按学生").title(f"送教上门达标情况（按学生，{period}）", len(header)).header(header).rows(
        [r.name, r.school, r.township, r.figures.counted_days, r.figures.visits, r.figures.periods,
         r.figures.expected_visits, r.figures.expected_periods, r.figures.visit_shortfall,
         r.figures.period_shortfall, r.figures.unconfirmed, "达标" if r.figures.compliant else "未达标"] for r in rows)
    header = ["名称", "安置人数", "达标人数", "达标率", "送教次数", "课时", "送教小时"]
    for title, groups in (("按学校", by_school), ("按乡镇", by_township)):
        sheet = book.sheet(title).title(f"送教上门达标情况（{title}，{period}）", len(header)).header(header)
        *each, total = groups
        for g in each:
            sheet.row([g.name, g.children, g.compliant, g.rate, g.sessions, g.periods, Decimal(g.hours)])
        sheet.total([total.name, total.children, total.compliant, total.rate, total.sessions, total.periods,
                     Decimal(total.hours)])
    book.sheet("说明").title("说明", 2).header(["项目", "内容"]).rows([["统计期", period], ["标准", norm.label]])
    return book.to_bytes()
