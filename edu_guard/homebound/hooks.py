"""The built-in plugin of 送教上门 (education delivered at home): tells the registry and
the cases which children its placements count as enrolled (``counted_as_enrolled``)."""

from __future__ import annotations

from edu_guard.hookspecs import hookimpl
from edu_guard.i18n import N_
from edu_guard.homebound.services import active_placements
from edu_guard.registry.enrolled import CountedEnrolled


@hookimpl
def counted_as_enrolled(on, child_id):
    """A child with a placement active on ``on`` keeps its 学籍 at the delivering school
    and counts as enrolled (docs/domain.md, "送教上门")."""
    return [
        CountedEnrolled(
            child_id=p.child_id,
            school_id=p.school_id,
            label=N_("送教上门"),
            why=f"自 {p.starts_on} 起由{p.school.name}送教上门",
            endpoint="homebound.placement_detail",
            endpoint_args={"placement_id": p.id},
        )
        for p in active_placements(on, child_id)
    ]
