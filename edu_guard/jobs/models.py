"""The job row (后台任务): who asked, for which area, what, and how it went."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from edu_guard.auth import scoping
from edu_guard.auth.models import User
from edu_guard.db import UTCDateTime, db, utcnow
from edu_guard.i18n import N_, MessageJSON, MessageText

#: queued → running → done | failed (a failed job may be queued again).
STATES = {"queued": N_("排队中"), "running": N_("运行中"), "done": N_("已完成"), "failed": N_("失败")}


class Job(db.Model):
    """A job (后台任务) submitted by a user and run by a queue worker.

    ``params`` are what the job needs (JSON: the stored upload's sha256, the file name,
    the kind of import); ``result`` what it produced (e.g. the import run's id). The row
    is written when the job is submitted, when it starts and when it ends — the end in
    the same transaction as the job's own writes, so a job is "done" exactly when its
    data is there. Live progress and the worker's heartbeat are kept in the queue's
    storage (:func:`edu_guard.jobs.services.progress_of`), since on SQLite a running
    import holds the database's write lock until it commits.
    """

    __tablename__ = "job"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(32))
    owner_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"), index=True)
    #: The owner's area when submitted (数据权限): who else may see the job.
    township_id: Mapped[int | None] = mapped_column(sa.ForeignKey("township.id"))
    school_id: Mapped[int | None] = mapped_column(sa.ForeignKey("school.id"))
    state: Mapped[str] = mapped_column(sa.String(16), default="queued", index=True)
    params: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    result: Mapped[dict | None] = mapped_column(MessageJSON)
    error: Mapped[str | None] = mapped_column(MessageText)
    done: Mapped[int] = mapped_column(default=0)
    total: Mapped[int] = mapped_column(default=0)
    attempts: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    owner = relationship("User")


@scoping.rule(Job)
def _job_scope(user):
    """A township or school user sees the jobs submitted in their area, and their own."""
    if user.role == "township":
        return sa.or_(Job.owner_id == user.id, Job.township_id == user.township_id)
    return sa.or_(Job.owner_id == user.id, Job.school_id == user.school_id)


@scoping.county_rule(Job)
def _job_county_scope(codes):
    """A county user sees the jobs submitted by the county's users or in the county's
    townships and schools (their tables by name: the registry sits above the jobs)."""
    township, school = db.metadata.tables["township"], db.metadata.tables["school"]
    return sa.or_(
        Job.owner_id.in_(sa.select(User.id).where(User.division_code.in_(codes))),
        Job.township_id.in_(sa.select(township.c.id).where(township.c.county_code.in_(codes))),
        Job.school_id.in_(sa.select(school.c.id).where(school.c.county_code.in_(codes))),
    )
