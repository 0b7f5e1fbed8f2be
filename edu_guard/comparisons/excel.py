"""The Excel export (openpyxl) of a comparison run (比对结果导出)."""

from __future__ import annotations

import io
from collections.abc import Iterable

from openpyxl import Workbook


def comparison_workbook(title: str, counts: dict[str, tuple[str, int]], rows: Iterable[dict]) -> bytes:
    """Return a comparison run as .xlsx: the counts per category, then the stored rows."""
    workbook = Workbook(write_only=True)
    summary = workbook.create_sheet("汇总")
    summary.append([title])
    summary.append(["类别", "人数"])
    for label, n in counts.values():
        summary.append([label, n])
    detail = workbook.create_sheet("明细")
    detail.append(["行号", "身份证件号", "姓名", "类别", "原因", "个案编号", "销号日期", "销号原因"])
    for r in rows:
        detail.append([r["line"], r["id_number"], r["name"], r["category"], r["reason"], r.get("case_id"),
                       r.get("closed_on") or "", r.get("closed_reason") or ""])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
