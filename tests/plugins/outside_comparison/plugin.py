"""An outside author's comparison plugin, written from docs/plugins.md alone: the
registry's pupils on 休学 (suspended study), who are at risk of dropping out, checked
against the day compared for: a 休学 that began more than a year before is flagged."""

from datetime import timedelta

import sqlalchemy as sa

from edu_guard.toolkit import Category, Child, Comparison, Enrollment, Outcome, School, db, hookimpl

#: How long a 休学 may last before it is suspected to hide a dropout (days).
LIMIT_DAYS = 365


class LongSuspension(Comparison):
    name = "long_suspension"
    label = "休学超期核查"
    needs_file = False
    categories = {
        "within": Category("休学未满一年", stored=False),
        "overdue": Category("休学满一年仍未复学", flagged=True, case_reason="其他"),
    }

    def run(self, *, as_of, settings, data=None, filename=None):
        found = db.session.execute(
            sa.select(Child.id, Child.id_number, Child.name, School.name, Enrollment.updated_at)
            .join(Enrollment, Enrollment.child_id == Child.id).join(School, School.id == Enrollment.school_id)
            .where(Enrollment.status == "休学").order_by(Child.id_number)
        ).all()
        rows = []
        for child_id, id_number, name, school, since in found:
            overdue = since.date() <= as_of - timedelta(days=LIMIT_DAYS)
            rows.append({"line": child_id, "id_number": id_number, "name": name,
                         "category": "overdue" if overdue else "within",
                         "reason": f"{school}休学，自{since.date()}起" + ("已满一年" if overdue else ""),
                         "data": {"school": school}})
        return Outcome(rows, params={"limit_days": LIMIT_DAYS})


@hookimpl
def comparison_kinds():
    return [LongSuspension()]
