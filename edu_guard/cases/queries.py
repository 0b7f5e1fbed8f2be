"""The cases' reads for the pages (个案查询): open cases by step, a child's cases and
home visits. Views call these and render."""

from __future__ import annotations

import sqlalchemy as sa

from edu_guard.auth.scoping import scope_cases
from edu_guard.cases.machine import OPEN
from edu_guard.cases.models import DropoutCase, HomeVisit
from edu_guard.db import db



def cases_by_state(user) -> dict[str, int]:
    """Return the number of open cases in each open state, within ``user``'s scope."""
    stmt = scope_cases(sa.select(DropoutCase.state, sa.func.count(DropoutCase.id)).where(DropoutCase.state.in_(OPEN)),
                       user).group_by(DropoutCase.state)
    return dict(db.session.execute(stmt).all())


def child_cases(child, user) -> list[DropoutCase]:
    """Return the child's cases ``user`` may see, newest first."""
    stmt = scope_cases(sa.select(DropoutCase).where(DropoutCase.child_id == child.id), user)
    return db.session.execute(stmt.order_by(DropoutCase.opened_on.desc(), DropoutCase.id.desc())).scalars().all()


def child_visits(child) -> list[HomeVisit]:
    """Return the home visits of the child, newest first."""
    return db.session.execute(
        sa.select(HomeVisit).where(HomeVisit.child_id == child.id)
        .order_by(HomeVisit.visited_on.desc(), HomeVisit.id.desc())).scalars().all()
