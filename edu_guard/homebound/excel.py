"""Excel export of 送教上门 figures (openpyxl): per child, per school, per township."""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal
from typing import Sequence

from openpyxl import Workbook
from openpyxl.styles import Font

from edu_guard.homebound.compliance import Norm


def _sheet(wb: Workbook, title: str, header: list[str], rows: list[list], first: bool = False):
    ws = wb.active if first else wb.create_sheet()
    ws.title = title
    ws.append(header)
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for row in rows:
        ws.append(row)
    for col, name in zip(ws.columns, header):
        ws.column_dimensions[col[0].column_letter].width = max(10, min(40, 2 * max(len(str(c.value or "")) for c in col) + 2))
    ws.freeze_panes = "A2"
    return ws


def compliance_workbook(norm: Norm, start: date, end: date, rows: Sequence, by_school: Sequence, by_township: Sequence) -> bytes:
    """Return a workbook with the sheets 按学生, 按学校, 按乡镇 and 说明 (the norm and
    period) as ``.xlsx`` bytes.

    :param rows: :class:`edu_guard.homebound.services.ComplianceRow` items.
    :param by_school: :class:`edu_guard.homebound.services.GroupSummary` items (with 合计).
    :param by_township: likewise, by township.
    """
    wb = Workbook()
    _sheet(wb, "按学生", ["姓名", "送教学校", "乡镇", "计算天数", "送教次数", "课时", "应送次数", "应送课时",
                        "差次数", "差课时", "监护人未确认", "是否达标"],
           [[r.name, r.school, r.township, r.figures.counted_days, r.figures.visits, r.figures.periods,
             r.figures.expected_visits, r.figures.expected_periods, r.figures.visit_shortfall,
             r.figures.period_shortfall, r.figures.unconfirmed, "达标" if r.figures.compliant else "未达标"] for r in rows],
           first=True)
    header = ["名称", "安置人数", "达标人数", "达标率", "送教次数", "课时", "送教小时"]
    for title, groups in (("按学校", by_school), ("按乡镇", by_township)):
        _sheet(wb, title, header, [[g.name, g.children, g.compliant, g.rate, g.sessions, g.periods, Decimal(g.hours)]
                                   for g in groups])
    _sheet(wb, "说明", ["项目", "内容"], [["统计期", f"{start.isoformat()} 至 {end.isoformat()}"], ["标准", norm.label]])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
