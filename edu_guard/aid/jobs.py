"""Aid jobs (资助后台任务): "propose all" (名单生成), the approval of a large list (审批
发放) and the export of a term's payments run as jobs (:mod:`edu_guard.jobs`) on a
queue worker, each in one transaction: a failed job proposes, pays or writes nothing.
"""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from flask import current_app, url_for

from edu_guard import money
from edu_guard.aid import queries, services
from edu_guard.aid.models import CHANNELS, AidList
from edu_guard.auth.services import mask_id_number
from edu_guard.db import db
from edu_guard.excel import table
from edu_guard.i18n import N_, Message, message_of
from edu_guard.jobs import services as jobs
from edu_guard.jobs.models import Job
from edu_guard.lists import pupil_key
from edu_guard.registry.models import School
from edu_guard.schemes.base import SchemeError
from edu_guard.transaction import after_commit


def scheme_names() -> dict[str, str]:
    """Scheme code → its Chinese name, for messages."""
    return {c: s.name for c, s in services.schemes().items()}


def proposal_messages(results, failures) -> tuple[Message, list[Message]]:
    """What a clerk is told of a "propose all": the lists and children per scheme, and
    one line per scheme whose plugin failed (the others are proposed all the same).
    Messages: stored by the job, shown in the reader's language (the CLI: Chinese).

    :return: ``(summary, failure lines)``.
    """
    names = scheme_names()
    summary = Message.join([
        Message("%(scheme)s：%(lists)s份名单%(proposed)s人（互斥未列入%(refused)s人）", scheme=names.get(r.scheme_code, r.scheme_code),
                lists=r.lists, proposed=r.proposed, refused=r.refused) if r.refused else
        Message("%(scheme)s：%(lists)s份名单%(proposed)s人", scheme=names.get(r.scheme_code, r.scheme_code),
                lists=r.lists, proposed=r.proposed) for r in results], "；")
    lines = []
    for failure in failures:
        code = failure.hook.split(".")[0]
        error = Message("插件“%(plugin)s”出错（%(hook)s）：%(type)s: %(error)s", plugin=failure.plugin, hook=failure.hook,
                        type=type(failure.error).__name__, error=message_of(failure.error))
        lines.append(Message("%(scheme)s未能生成名单，其他项目不受影响。%(error)s", scheme=names.get(code, code), error=error))
    return summary, lines


# --- propose all ----------------------------------------------------------------------


def _propose(job: Job, progress) -> dict:
    term = queries.term_by_code(job.params["term"])
    if term is None:
        raise services.AidError(Message("学期 %(code)s 不存在", code=job.params["term"]))
    codes = job.params["codes"]
    progress(0, len(codes))
    results, failures = services.propose_all(term, codes, user=job.owner, progress=progress)
    summary, lines = proposal_messages(results, failures)
    return {"term": term.code, "summary": Message.join([summary, *lines], "；") or Message("没有生成名单"),
            "failures": lines}


def _lists_url(job: Job) -> str:
    return url_for("aid.lists", code=job.result["term"])


jobs.register("aid_propose", jobs.JobKind(N_("生成资助名单"), _propose, (services.AidError, SchemeError), result_url=_lists_url))


def start_propose(term_code: str, codes: list[str], user) -> int:
    """Queue "propose all" of ``codes`` for term ``term_code`` (once the request commits).

    :raises AidError: an unknown scheme code (refused before anything is queued).
    """
    for code in codes:
        services.scheme(code)
    return jobs.submit("aid_propose", {"term": term_code, "codes": list(codes)}, user).id


# --- approval of a large list --------------------------------------------------------


def _approve(job: Job, progress) -> dict:
    aid_list = db.session.get(AidList, job.params["list_id"])
    if aid_list is None:
        raise services.AidError(Message("名单不存在或不在您的权限范围内"))
    on = date.fromisoformat(job.params["on"]) if job.params.get("on") else None
    batch = services.approve(aid_list, on=on, channel=job.params.get("channel") or "bank", user=job.owner)
    owner = job.owner
    after_commit(lambda: services.notify_batch(batch, owner))  # the payments are saved first
    total = money.from_fen(sum(p.amount_fen for p in batch.payments))
    return {"list_id": aid_list.id, "batch_id": batch.id, "payments": len(batch.payments),
            "summary": Message("已审批，发放批次 %(batch)s：%(count)s人次 %(amount)s元", batch=batch.id,
                                          count=len(batch.payments), amount=total)}


def _list_url(job: Job) -> str:
    return url_for("aid.list_detail", list_id=job.result["list_id"])


jobs.register("aid_approve", jobs.JobKind(N_("审批资助名单"), _approve, (services.AidError,), result_url=_list_url))


def approval_is_big(aid_list: AidList) -> bool:
    """Whether approving ``aid_list`` runs as a job: more included children than
    ``EDU_GUARD_APPROVE_JOB_ROWS``."""
    included = sum(1 for e in aid_list.entries if e.included)
    return included > int(current_app.config["EDU_GUARD_APPROVE_JOB_ROWS"])


def start_approve(aid_list: AidList, on: date | None, channel: str, user) -> int:
    """Queue the approval of ``aid_list`` (once the request commits); the job checks
    the list's state and dates as the page would (:func:`edu_guard.aid.services.approve`)."""
    return jobs.submit("aid_approve", {"list_id": aid_list.id, "on": on.isoformat() if on else None,
                                       "channel": channel}, user).id


# --- the payments export ----------------------------------------------------------------


def _payments(params: dict, user):
    term = queries.term_by_code(params["term"])
    if term is None:
        raise services.AidError(Message("学期 %(code)s 不存在", code=params["term"]))
    return term, queries.term_payments(term, user, params.get("scheme") or None, params.get("q") or None)


def _payments_count(params: dict, user) -> int:
    _term, stmt = _payments(params, user)
    return db.session.execute(sa.select(sa.func.count()).select_from(stmt.subquery())).scalar_one()


def payments_workbook(params: dict, user) -> tuple[str, bytes]:
    """A term's payments with the page's filters as a workbook, as ``user`` sees them
    (masked IDs and accounts), in the clerk's order, with the 合计 row (reversed
    payments not summed).

    :param params: ``{"term": code, "scheme": code or None, "q": name or None}``.
    :return: ``(file name, xlsx bytes)``.
    :raises AidError: an unknown term.
    """
    term, stmt = _payments(params, user)
    names = scheme_names()
    found = db.session.execute(stmt).scalars().all()
    schools = {i: db.session.get(School, i) for i in {p.school_id for p in found if p.school_id}}

    def key(p):
        school = schools.get(p.school_id)
        e = p.child.current_enrollment
        return pupil_key(school.township.name if school and school.township else "", school.code if school else "",
                         e.grade if e else "", e.class_name if e else "", p.child.name)

    found.sort(key=key)
    rows, total_fen, n = [], 0, 0
    for i, p in enumerate(found, start=1):
        school = schools.get(p.school_id)
        if p.reversal is None:
            total_fen += p.amount_fen
            n += 1
        rows.append([i, p.child.name, mask_id_number(p.child.id_number), school.township.name if school and school.township else "",
                     school.name if school else "", names.get(p.scheme_code, p.scheme_code), p.stage, p.amount,
                     CHANNELS.get(p.channel, p.channel), p.account_masked or "", p.paid_on,
                     f"已冲正：{p.reversal.reason}" if p.reversal else ""])
    header = ["序号", "姓名", "身份证号", "乡镇", "学校", "资助项目", "学段", "金额（元）", "渠道", "账号", "发放日期", "冲正"]
    data = table(f"{term.name}学生资助发放记录", header, rows,
                 totals=["合计", f"{n}人次", "", "", "", "", "", money.from_fen(total_fen)], text_columns=[2, 9])
    return f"{term.name}发放记录.xlsx", data


jobs.register_export("payments", jobs.Export(N_("资助发放记录"), payments_workbook, _payments_count))
