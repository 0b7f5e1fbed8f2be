"""Lists as clerks read them (名单排序与导出): the one order of pupils on every list —
township → school → grade → class → name — and the Excel download of a list page with
its filters applied (through :mod:`edu_guard.excel`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any
from urllib.parse import quote

import sqlalchemy as sa
from flask import Response

from edu_guard import excel

#: Grades in school order (小学 一至六年级, 初中 七至九年级, 高中 高一至高三); other
#: spellings sort after them by their text.
GRADE_ORDER = ("一年级", "二年级", "三年级", "四年级", "五年级", "六年级", "七年级", "八年级", "九年级",
               "高一", "高二", "高三")

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def grade_rank(column) -> sa.Case:
    """An SQL expression ranking ``column`` (a grade) in :data:`GRADE_ORDER`."""
    return sa.case({g: i for i, g in enumerate(GRADE_ORDER)}, value=column, else_=len(GRADE_ORDER))


def grade_key(grade: str | None) -> tuple[int, str]:
    """The sort key of a grade in Python (same order as :func:`grade_rank`)."""
    grade = grade or ""
    return (GRADE_ORDER.index(grade) if grade in GRADE_ORDER else len(GRADE_ORDER), grade)


def pupil_key(township: str | None, school: str | None, grade: str | None, class_name: str | None,
              name: str | None) -> tuple:
    """The clerk's order of a pupil in Python: township, school, grade, class, name."""
    return (township or "", school or "", grade_key(grade), class_name or "", name or "")


def xlsx_response(filename: str, title: str, header: Sequence[str], rows: Iterable[Sequence[Any]], *,
                  totals: Sequence[Any] | None = None, text_columns: Iterable[int] = ()) -> Response:
    """A download of one table as .xlsx: title row, header, rows, optional 合计 row
    (:func:`edu_guard.excel.table`: text stays text, IDs stay text).

    :param filename: the file's name, without ``.xlsx``.
    """
    data = excel.table(title, header, rows, totals=totals, text_columns=text_columns)
    return Response(data, mimetype=XLSX, headers={
        "Content-Disposition": f"attachment; filename=export.xlsx; filename*=UTF-8''{quote(filename + '.xlsx')}"})
