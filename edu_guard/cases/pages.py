"""The pages that show a child's whole file (个人档案): the home page and the child page.

They gather the registry, the dropout cases and their visits, and (through the
``counted_as_enrolled`` hook) what the features above know, so they live in the cases
layer; they keep the registry blueprint's endpoints (``registry.index``,
``registry.child_detail``) that every template links to.
"""

from __future__ import annotations

from flask import redirect, render_template, url_for
from flask_login import current_user

from edu_guard.cases import queries as case_queries
from edu_guard.cases.machine import OPEN, STATES
from edu_guard import clock
from edu_guard.db import db
from edu_guard.registry.enrolled import counted_enrolled
from edu_guard.registry.importers import importers
from edu_guard.registry import queries
from edu_guard.auth.audit import full_number_access
from edu_guard.auth.models import SUPERIOR_ROLES
from edu_guard.registry.views import IMPORT_VIEW_ROLES, bp, get_child_or_404, import_kinds


@bp.get("/")
def index():
    """Show the home page: children in school, open cases by step, schools, and the
    latest imports, all within the user's scope. A prefecture or province user, who
    sees no child, is sent to the aggregates of its counties."""
    if current_user.role in SUPERIOR_ROLES:
        return redirect(url_for("reports.province_aid"))
    counts = queries.children_counts(current_user)
    by_state = case_queries.cases_by_state(current_user)
    steps = [{"state": name, "label": STATES[name].label, "count": by_state.get(name, 0)} for name in OPEN]
    imports = db.session.execute(queries.import_runs(5)).scalars().all() if current_user.role in IMPORT_VIEW_ROLES else None
    return render_template(
        "registry/index.html",
        enrolled=counts["enrolled"],
        children_total=counts["children"],
        steps=steps,
        open_cases=sum(s["count"] for s in steps),
        max_step=max([s["count"] for s in steps] + [1]),
        schools=counts["schools"],
        imports=imports,
        import_kinds=import_kinds(),
    )


@bp.get("/children/<int:child_id>")
def child_detail(child_id: int):
    """Show one child: identity, guardians, enrollments and status changes, family
    statuses, disability record, cases and home visits."""
    child = get_child_or_404(child_id)
    full_number_access("view_full", "child", child.id)
    cases = case_queries.child_cases(child, current_user)
    return render_template(
        "registry/child.html",
        child=child,
        **queries.child_file(child),
        cases=cases,
        has_open_case=any(c.state != "closed" for c in cases),
        homebound=counted_enrolled(clock.today(), child.id).get(child.id),
        states=STATES,
        visits=case_queries.child_visits(child),
        source_labels={cls.source: cls.label for cls in importers().values() if getattr(cls, "source", None)},
    )
