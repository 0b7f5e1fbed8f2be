"""Print-run jobs (批量打印任务): a print run chosen on the letters page runs as a job
of kind ``print_run`` (:mod:`edu_guard.jobs`): the worker lays the letters out
(WeasyPrint, in parallel chunks for a long run) and leaves one PDF that only the
clerk who asked downloads. The web process starts no process pool.
"""

from __future__ import annotations

import sqlalchemy as sa

from edu_guard.auth.scoping import scope
from edu_guard.db import db
from edu_guard.i18n import Message, N_
from edu_guard.jobs import services as jobs
from edu_guard.jobs.models import Job
from edu_guard.letters import services
from edu_guard.letters.models import Letter, letter_case
from edu_guard.letters.schemas import LetterError


def _print(job: Job, progress) -> dict:
    """Render the job's letters (those its owner still may see) as one PDF file."""
    ids = [int(i) for i in job.params["letter_ids"]]
    linked = sa.select(letter_case.c.letter_id)
    found = {letter.id: letter for letter in db.session.execute(
        scope(sa.select(Letter).where(Letter.id.in_(ids), Letter.id.in_(linked)), Letter, job.owner)).scalars()}
    missing = [i for i in ids if i not in found]
    if missing:
        raise LetterError(Message("有 %(count)s 份文书已不存在或不在您的权限范围内，未打印", count=len(missing)))
    letters = [found[i] for i in ids]
    pdf = services.print_run(letters, progress=progress)
    out = jobs.write_file(job, f"批量打印_{len(letters)}份.pdf", pdf, "application/pdf")
    return {**out, "letters": len(letters), "summary": Message("已生成 %(count)s 份文书的 PDF，可下载打印", count=len(letters))}


# LetterError covers a context that no longer validates, missing fonts and glyphs.
jobs.register("print_run", jobs.JobKind(N_("批量打印"), _print, (LetterError,)))


def start_print_run(letter_ids: list[int], user) -> int:
    """Queue a print run of ``letter_ids`` (in that order) for ``user``, once the
    request commits; the caller has checked that the user may see each letter.

    :return: the job's id.
    """
    return jobs.submit("print_run", {"letter_ids": [int(i) for i in letter_ids]}, user).id
