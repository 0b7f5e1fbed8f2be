"""The Excel export of a comparison run (比对结果导出), through :mod:`edu_guard.excel`."""

from __future__ import annotations

from collections.abc import Iterable

from edu_guard import excel


#: Column widths of a comparison run's rows (streamed: they cannot be measured).
_DETAIL_WIDTHS = (8, 22, 12, 14, 50, 10, 12, 30)


def comparison_workbook(title: str, counts: dict[str, tuple[str, int]], rows: Iterable[dict]) -> bytes:
    """Return a comparison run as .xlsx: the counts per category with their 合计, then
    the stored rows (streamed: a run can hold many thousand)."""
    book = excel.Workbook(streaming=True)
    summary = book.sheet("汇总", widths=(30, 12)).title(title, 2).header(["类别", "人数"])
    summary.rows([label, n] for label, n in counts.values())
    summary.total(["合计", sum(n for _, n in counts.values())])
    header = ["行号", "身份证件号", "姓名", "类别", "原因", "个案编号", "销号日期", "销号原因"]
    detail = book.sheet("明细", widths=_DETAIL_WIDTHS).title(f"{title}：明细", len(header)).header(header, text_columns=[1])
    detail.rows([r["line"], r["id_number"], r["name"], r["category"], r["reason"], r.get("case_id"),
                 r.get("closed_on") or "", r.get("closed_reason") or ""] for r in rows)
    return book.to_bytes()
