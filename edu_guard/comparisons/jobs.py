"""Comparison jobs (比对任务): a comparison started from the page runs as a job of kind
``comparison`` (:mod:`edu_guard.jobs`), not in the web process.

The household register is stored as uploaded (``<instance>/uploads/<sha256>``) and
nothing of it is read by the web process: the worker checks it
(:func:`edu_guard.uploads.check_upload`: declared range, inflated size, cell count)
before parsing it, then parses it under the worker's memory limit, so a hostile file
fails its job with a Chinese reason, never the web server. The run and its rows are
written in the job's one transaction: a failed job stores no run.
"""

from __future__ import annotations

from datetime import date

from flask import url_for

from edu_guard.comparisons import services
from edu_guard.comparisons.kinds import ComparisonError, kinds
from edu_guard.i18n import N_, Message
from edu_guard.jobs import services as jobs
from edu_guard.jobs.models import Job


def _run_comparison(job: Job, progress) -> dict:
    """Run the job's comparison (flushes, never commits); return the run's id and size."""
    params = job.params
    data = None
    if params.get("sha256"):
        path = jobs.uploads_dir() / params["sha256"]
        if not path.is_file():
            raise ComparisonError(Message("上传的文件已不在服务器上（可能已按保存期限清理），请重新上传"))
        data = path.read_bytes()
    progress(0, 1)
    run, _outcome = services.run_comparison(params["comparison_kind"], as_of=date.fromisoformat(params["as_of"]),
                                            data=data, filename=params.get("filename"), user=job.owner)
    progress(1, 1)
    return {"comparison_run_id": run.id, "total": run.total, "summary": Message("比对完成：共 %(total)s 行", total=run.total)}


def _run_url(job: Job) -> str:
    return url_for("comparisons.run", run_id=job.result["comparison_run_id"])


jobs.register("comparison", jobs.JobKind(N_("数据比对"), _run_comparison, (ComparisonError,), result_url=_run_url))


def start_comparison(kind: str, as_of: date, upload, user) -> int:
    """Check what is cheap (the kind, the date, a file where one is needed), store the
    upload unread and queue the comparison (once the request commits).

    :param upload: the :class:`werkzeug.datastructures.FileStorage`, or ``None``.
    :return: the job's id.
    :raises ComparisonError: an unknown kind, an as-of date after today, no file for
        a kind that needs one.
    """
    services.check_request(kind, as_of, has_file=upload is not None)
    params = {"comparison_kind": kind, "as_of": as_of.isoformat()}
    if upload is not None and kinds()[kind].needs_file:
        params["sha256"], params["filename"] = jobs.store_upload(upload)
    return jobs.submit("comparison", params, user).id
