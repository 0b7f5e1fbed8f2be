"""The 应助尽助 check (docs/domain.md §2): who should have had aid and did not, and aid that
should not have been paid.

Three findings, each with its reason:
- ``unaided``: a child enrolled during the term whose family is a 脱贫户 or a monitored
  household (risk not removed) and who has no payment this term;
- ``ended``: a payment this term to a child with no enrollment during the term;
- ``exclusive``: a child paid this term by two schemes that exclude each other.
Reversed payments do not count.
"""

from __future__ import annotations

from collections import defaultdict

import sqlalchemy as sa

from edu_guard.aid import eligibility
from edu_guard.aid.models import Payment, PaymentReversal, Term
from edu_guard.db import db
from edu_guard.i18n import N_, Message
from edu_guard.schemes.base import POVERTY_KINDS, listed
from edu_guard.aid.services import schemes
from edu_guard.registry.models import Child

#: Kinds of finding → label.
KINDS = {
    "unaided": N_("脱贫家庭（含监测对象）在读学生本学期未获资助"),
    "ended": N_("学籍已终止仍获资助"),
    "exclusive": N_("同时获得互斥资助项目"),
}


def check(term: Term) -> list[dict]:
    """Run the 应助尽助 check for ``term``.

    :return: findings ``{"kind", "kind_label", "child_id", "name", "id_number",
        "school", "reason"}`` ordered by kind, then school and name.
    """

    cands = eligibility.candidates(eligibility.term_info(term)).candidates
    names = {c: s.name for c, s in schemes().items()}
    stmt = sa.select(Payment.child_id, Payment.scheme_code).where(
        Payment.term_id == term.id, Payment.id.not_in(sa.select(PaymentReversal.payment_id))
    )
    paid: dict[int, set[str]] = defaultdict(set)
    for child_id, code in db.session.execute(stmt):
        paid[child_id].add(code)
    out = []
    for c in cands.values():
        if c.family_kinds & POVERTY_KINDS and not paid.get(c.child_id):
            out.append(_finding("unaided", c.child_id, c.name, c.id_number, c.school_name,
                                Message("%(kinds)s，%(school)s%(grade)s在读，本学期无任何资助",
                                        kinds=listed(sorted(c.family_kinds & POVERTY_KINDS)), school=c.school_name,
                                        grade=c.grade or "")))
    gone = [cid for cid in paid if cid not in cands]
    if gone:
        rows = db.session.execute(sa.select(Child.id, Child.name, Child.id_number).where(Child.id.in_(gone))).all()
        for r in rows:
            got = "、".join(names.get(c, c) for c in sorted(paid[r.id]))
            out.append(_finding("ended", r.id, r.name, r.id_number, None,
                                Message("本学期无在读学籍，仍获%(schemes)s", schemes=got)))
    all_schemes = schemes()
    for child_id, codes in paid.items():
        clash = sorted(
            (a, b) for a in codes for b in codes
            if a < b and (b in getattr(all_schemes.get(a), "excludes", ()) or a in getattr(all_schemes.get(b), "excludes", ()))
        )
        if clash:
            c = cands.get(child_id)
            child = c or db.session.get(Child, child_id)
            pairs = Message.join([Message("%(a)s与%(b)s", a=names.get(a, a), b=names.get(b, b)) for a, b in clash], "；")
            out.append(_finding("exclusive", child_id, child.name, child.id_number, getattr(c, "school_name", None),
                                Message("%(pairs)s互斥，不得同时享受", pairs=pairs)))
    order = list(KINDS)
    out.sort(key=lambda f: (order.index(f["kind"]), f["school"] or "", f["name"], f["child_id"]))
    return out


def _finding(kind: str, child_id: int, name: str, id_number: str, school: str | None, reason: Message) -> dict:
    return {"kind": kind, "kind_label": Message(KINDS[kind]), "child_id": child_id, "name": name, "id_number": id_number,
            "school": school, "reason": reason}
