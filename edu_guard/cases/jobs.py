"""The case list's Excel export (控辍保学个案导出) as a job when it is big
(``EDU_GUARD_EXPORT_JOB_ROWS``, :func:`edu_guard.jobs.views.export_response`): made
from the list page's filters, as its user sees it, by a queue worker or in the request."""

from __future__ import annotations

from flask import current_app

import sqlalchemy as sa

from edu_guard import excel
from edu_guard.cases import machine, services
from edu_guard.cases import queries as case_queries
from edu_guard.cases.models import DropoutCase
from edu_guard.cases.schemas import mask_id
from edu_guard.db import db
from edu_guard.i18n import N_
from edu_guard.jobs import services as jobs
from edu_guard.lists import pupil_key


def case_list_stmt(filters: dict, user):
    """The select of the case list for ``user`` with the page's filters.

    :param filters: ``{"state": "open"|…, "township": id, "school": id, "overdue": bool,
        "q": text, "due_within": days}`` (each optional; ``state`` ``open`` by default).
    """
    overdue_on = services.today() if filters.get("overdue") else None
    stmt = case_queries.case_list(user, state=filters.get("state") or "open", township_id=filters.get("township"),
                                  school_id=filters.get("school"), overdue_on=overdue_on, text=filters.get("q"))
    due_days = filters.get("due_within")
    if due_days is not None and due_days >= 0:
        # The bureau's own time limits are worked out per case (machine.time_limits).
        candidates = db.session.execute(stmt.where(DropoutCase.state != "closed")).scalars().all()
        ids = [c.id for c in services.due_within(candidates, due_days, services.today())]
        stmt = stmt.where(DropoutCase.id.in_(ids or [-1]))
    return stmt


def _case_count(filters: dict, user) -> int:
    stmt = case_list_stmt(filters, user)
    return db.session.execute(sa.select(sa.func.count()).select_from(stmt.subquery())).scalar_one()


def case_list_workbook(filters: dict, user) -> tuple[str, bytes]:
    """The case list with the page's filters as a workbook, in the clerk's order (full
    ID numbers only for users who see them on pages), as ``user`` sees it.

    :param filters: as :func:`case_list_stmt` takes them.
    :return: ``(file name, xlsx bytes)``.
    """
    found = db.session.execute(case_list_stmt(filters, user)).scalars().all()

    def key(c):
        e = c.child.current_enrollment
        return pupil_key(c.township.name if c.township else "", c.school.code if c.school else "",
                         e.grade if e else "", e.class_name if e else "", c.child.name)

    full = user.sees_full_ids
    rows = []
    for n, c in enumerate(sorted(found, key=key), start=1):
        e = c.child.current_enrollment
        rows.append([n, c.id, c.child.name, c.child.id_number if full else mask_id(c.child.id_number),
                     c.township.name if c.township else "", c.school.name if c.school else "",
                     e.grade if e else "", e.class_name if e else "", c.reason, machine.STATES[c.state].label,
                     c.opened_on, c.deadline, c.closed_on])
    header = ["序号", "个案编号", "姓名", "身份证号", "乡镇", "学校", "年级", "班级", "辍学原因", "当前步骤", "立案日期",
              "本步期限", "销号日期"]
    county = current_app.config["EDU_GUARD_COUNTY_NAME"]
    data = excel.table(f"{county}控辍保学个案（{len(rows)}件）", header, rows, totals=["合计", f"{len(rows)}件"],
                       text_columns=[3])
    return f"控辍保学个案_{len(rows)}件.xlsx", data


jobs.register_export("cases", jobs.Export(N_("控辍保学个案"), case_list_workbook, _case_count))
