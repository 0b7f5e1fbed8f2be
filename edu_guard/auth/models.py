"""Users with roles and areas, and the append-only audit log (docs/domain.md §6)."""

from __future__ import annotations

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
}


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
    active: Mapped[bool] = mapped_column(default=True)
    failed_logins: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime())

    township = relationship("Township")
    school = relationship("School")

    def set_password(self, password: str) -> None:
        """Store a salted hash of ``password`` (werkzeug's scrypt)."""
        self.password_hash = generate_password_hash(password)

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


class AuditLogIsAppendOnly(RuntimeError):
    """Raised when code tries to change or delete an audit row."""


@sa.event.listens_for(AuditLog, "before_update")
def _no_update(mapper, connection, target):
    raise AuditLogIsAppendOnly("audit log rows cannot be changed")


@sa.event.listens_for(AuditLog, "before_delete")
def _no_delete(mapper, connection, target):
    raise AuditLogIsAppendOnly("audit log rows cannot be deleted")
