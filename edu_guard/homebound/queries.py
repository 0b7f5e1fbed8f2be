"""送教上门's reads for its pages: the schools that can deliver, and a child's open
placement. Views call these and render."""

from __future__ import annotations

import sqlalchemy as sa

from edu_guard.db import db
from edu_guard.homebound.models import HomeboundPlacement
from edu_guard.registry.models import Child, School


def delivering_schools() -> list[School]:
    """Return every school of the county, by code: any school may deliver 送教上门 (the
    county decides which, as the placement form asks)."""
    return db.session.execute(sa.select(School).order_by(School.code)).scalars().all()


def open_placement_of(id_number: str) -> HomeboundPlacement | None:
    """Return the open (not ended) placement of the child with ``id_number`` the reader
    may see, or ``None``. The one-open-placement index allows at most one."""
    stmt = (sa.select(HomeboundPlacement).join(Child, Child.id == HomeboundPlacement.child_id)
            .where(Child.id_number == id_number, HomeboundPlacement.ends_on.is_(None)))
    return db.session.execute(stmt).scalars().first()
