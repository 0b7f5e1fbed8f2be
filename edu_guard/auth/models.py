"""Users with roles and areas, and the append-only audit log (docs/domain.md §6)."""

from __future__ import annotations

import secrets
from datetime import datetime

import sqlalchemy as sa
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from edu_guard.db import UTCDateTime, db, utcnow
from edu_guard.i18n import N_

#: Roles of README.md: key → Chinese label.
ROLES = {
    "admin": N_("局管理员"),
    "clerk": N_("局业务人员"),
    "township": N_("乡镇人员"),
    "school": N_("学校人员"),
    "auditor": N_("审计/督查"),
    "prefecture": N_("州（市）教育局"),
    "province": N_("省教育厅"),
}

#: Roles above the county (docs/domain.md §6): they see the aggregates of the counties
#: under their division (``User.division_code``), never a child's row.
SUPERIOR_ROLES = ("prefecture", "province")


def new_session_token() -> str:
    """Return a random session token (256 bits, URL-safe text)."""
    return secrets.token_urlsafe(32)


class User(UserMixin, db.Model):
    """A user of the system with a role; township and school users have an area."""

    __tablename__ = "user"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(sa.String(64), unique=True)
    display_name: Mapped[str] = mapped_column(sa.String(64))
    password_hash: Mapped[str] = mapped_column(sa.String(255))
    #: One of ROLES.
    role: Mapped[str] = mapped_column(sa.String(16))
    township_id: Mapped[int | None] = mapped_column(sa.ForeignKey("township.id"))
    school_id: Mapped[int | None] = mapped_column(sa.ForeignKey("school.id"))
    #: The division the user answers for: a county user's county when several counties
    #: share the database (``None``: every county of the database, a county deployed
    #: alone); a prefecture or province user's prefecture or province.
    division_code: Mapped[str | None] = mapped_column(sa.ForeignKey("division.code"))
    active: Mapped[bool] = mapped_column(default=True)
    failed_logins: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: Part of every session of this user (see :meth:`get_id`); a new one ends them
    #: all: on sign-out, a password change or reset, deactivation.
    session_token: Mapped[str | None] = mapped_column(sa.String(64), default=lambda: new_session_token())
    #: The password was set by someone else (``edu-guard init``, an administrator):
    #: every page sends the user to change it first.
    must_change_password: Mapped[bool] = mapped_column(default=False, server_default=sa.false())

    township = relationship("Township")
    school = relationship("School")

    def set_password(self, password: str) -> None:
        """Store a salted hash of ``password`` (werkzeug's scrypt)."""
        self.password_hash = generate_password_hash(password)

    def get_id(self) -> str:  # Flask-Login: what the session cookie carries
        """Return ``"<id>:<session token>"``: a cookie outlives neither a new token
        (:meth:`end_sessions`) nor the user."""
        return f"{self.id}:{self.session_token}"

    def end_sessions(self) -> None:
        """Give the user a new session token: every session signed in before (on any
        browser, and any copied cookie) stops working at its next request."""
        self.session_token = new_session_token()

    def check_password(self, password: str) -> bool:
        """Return whether ``password`` matches the stored hash."""
        return check_password_hash(self.password_hash, password)

    @property
    def is_active(self) -> bool:  # Flask-Login
        return self.active

    @property
    def role_label(self) -> str:
        """The role's Chinese label."""
        from flask_babel import gettext

        return gettext(ROLES[self.role]) if self.role in ROLES else self.role

    @property
    def can_write(self) -> bool:
        """Auditors read everything and change nothing."""
        return self.role != "auditor"

    @property
    def sees_full_ids(self) -> bool:
        """Whether ID numbers are shown unmasked on detail pages (not to auditors)."""
        return self.role in ("admin", "clerk", "township", "school")


class RateLimitCounter(db.Model):
    """One counter of the sign-in throttle's database storage
    (:class:`edu_guard.auth.throttle.DatabaseStorage`): a key, its count and when its
    window ends (seconds since the epoch)."""

    __tablename__ = "rate_limit_counter"

    key: Mapped[str] = mapped_column(sa.String(255), primary_key=True)
    count: Mapped[int] = mapped_column(default=0)
    expires_at: Mapped[float] = mapped_column(sa.Float, index=True)


class AuditLog(db.Model):
    """One change to a child, case, visit, letter or payment: who, when, before, after.

    Append-only: the ORM refuses to update or delete a row (see the listeners below).
    """

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"))
    #: create / update / delete / transition / print / import / login …
    action: Mapped[str] = mapped_column(sa.String(32))
    entity: Mapped[str] = mapped_column(sa.String(32), index=True)
    entity_id: Mapped[int | None] = mapped_column(index=True)
    before: Mapped[dict | None] = mapped_column(sa.JSON)
    after: Mapped[dict | None] = mapped_column(sa.JSON)

    user = relationship("User")


#: The database's own refusal of UPDATE, DELETE (and on PostgreSQL TRUNCATE) on the
#: audit log, by dialect: created with the table (tests, ``create_all``) and by the
#: migration ``c3a1e5f7b9d2`` (deployments). See docs/security.md, "Audit log".
AUDIT_APPEND_ONLY_SQL = {
    "sqlite": [
        "CREATE TRIGGER IF NOT EXISTS audit_log_no_update BEFORE UPDATE ON audit_log "
        "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END",
        "CREATE TRIGGER IF NOT EXISTS audit_log_no_delete BEFORE DELETE ON audit_log "
        "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END",
    ],
    "postgresql": [
        "CREATE OR REPLACE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS "
        "$$ BEGIN RAISE EXCEPTION 'audit_log is append-only' USING ERRCODE = 'insufficient_privilege'; END $$",
        "CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log "
        "FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()",
        "CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log "
        "FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only()",
    ],
}


for _dialect, _statements in AUDIT_APPEND_ONLY_SQL.items():
    for _sql in _statements:
        sa.event.listen(AuditLog.__table__, "after_create", sa.DDL(_sql).execute_if(dialect=_dialect))


class AuditLogIsAppendOnly(RuntimeError):
    """Raised when code tries to change or delete an audit row."""


@sa.event.listens_for(AuditLog, "before_update")
def _no_update(mapper, connection, target):
    raise AuditLogIsAppendOnly("audit log rows cannot be changed")


@sa.event.listens_for(AuditLog, "before_delete")
def _no_delete(mapper, connection, target):
    raise AuditLogIsAppendOnly("audit log rows cannot be deleted")
