"""Consistency between a term's lists (名单间一致性核对): what one list learned about a
child that the other lists of the same term must not silently ignore.

- A child removed from one scheme's list for a reason that applies to every list — the
  child has left the school (转出, 转学) or died (死亡, 去世, 注销) — is flagged on the
  other lists of the term where it is still included.
- A child whose registry records a 转出 or 死亡注销 (学籍变动) during the term is flagged
  on every list of the term where it is still included (a status change imported after
  the lists were proposed).
- A child placed 送教上门 during the term is flagged on its lists: it counts as
  enrolled at the delivering school but neither eats nor boards there, which matters
  to the meal and boarding schemes.

The flags are notes for the school and the bureau to check; nothing is removed
automatically (the review with its reason stays a person's act).
"""

from __future__ import annotations

import sqlalchemy as sa

from datetime import timedelta

from edu_guard.aid.models import AidList, AidListEntry
from edu_guard import clock
from edu_guard.db import db
from edu_guard.i18n import Message
from edu_guard.registry.enrolled import counted_enrolled
from edu_guard.registry.models import StatusChange

#: Registry status changes (学籍变动) that end a child's place on every list.
LEAVING_KINDS = ("转出", "死亡注销")

#: Words of a removal reason that make it apply to every list of the term.
ALL_LISTS_WORDS = ("转出", "转学", "死亡", "去世", "注销")


def applies_to_all(reason: "Message | str | None") -> bool:
    """Whether a removal ``reason`` applies to every list (see :data:`ALL_LISTS_WORDS`);
    a reason the system wrote is read in Chinese, whatever the page's language."""
    text = reason.chinese() if isinstance(reason, Message) else (reason or "")
    return any(word in text for word in ALL_LISTS_WORDS)


def flags(aid_list: AidList, scheme_names: dict[str, str]) -> dict[int, list[Message]]:
    """Notes for the children still included on ``aid_list``, by child id.

    :param scheme_names: scheme code → Chinese name (for the notes).
    :return: ``{child_id: ["已从…名单移出（已转出），请核对", "送教上门（…）…"]}``, each a
        :class:`~edu_guard.i18n.Message` (shown in the reader's language).
    """
    ids = [e.child_id for e in aid_list.entries if e.included]
    out: dict[int, list[str]] = {}
    if not ids:
        return out
    removed = db.session.execute(
        sa.select(AidListEntry.child_id, AidListEntry.review_reason, AidList.scheme_code)
        .join(AidList, AidList.id == AidListEntry.list_id)
        .where(AidList.term_id == aid_list.term_id, AidList.id != aid_list.id, AidListEntry.child_id.in_(ids),
               AidListEntry.included.is_(False))
    ).all()
    for child_id, reason, scheme in removed:
        if applies_to_all(reason):
            out.setdefault(child_id, []).append(
                Message("已从“%(scheme)s”名单移出（%(reason)s），请核对是否仍应列入本名单",
                        scheme=scheme_names.get(scheme, scheme), reason=reason))
    term = aid_list.term
    last = max(term.start, min(term.end, clock.today()))
    changes = db.session.execute(
        sa.select(StatusChange.child_id, StatusChange.kind, StatusChange.changed_on, StatusChange.to_school)
        .where(StatusChange.child_id.in_(ids), StatusChange.kind.in_(LEAVING_KINDS),
               StatusChange.changed_on.between(term.start, term.end))
        .order_by(StatusChange.changed_on)
    ).all()
    for child_id, kind, changed_on, to_school in changes:
        if to_school:
            note = Message("学籍于 %(day)s %(kind)s（去向：%(school)s），请核对是否仍应列入本名单", day=changed_on,
                           kind=Message(kind), school=to_school)
        else:
            note = Message("学籍于 %(day)s %(kind)s，请核对是否仍应列入本名单", day=changed_on, kind=Message(kind))
        out.setdefault(child_id, []).append(note)
    # Placements come through the registry's ``counted_as_enrolled`` hook (aid does not
    # import homebound): a placement active on any week of the term so far (each Monday,
    # the term's first and last day so far, the day the list was posted) is seen.
    days = {term.start, last} | ({aid_list.posted_on} if aid_list.posted_on else set())
    monday = term.start + timedelta(days=(7 - term.start.weekday()) % 7)
    while monday < last:
        days.add(monday)
        monday += timedelta(weeks=1)
    wanted = set(ids)
    seen: set[int] = set()
    for day in sorted(days):
        for child_id, why in counted_enrolled(day).items():
            if child_id in wanted and child_id not in seen and why.label == "送教上门":
                seen.add(child_id)
                out.setdefault(child_id, []).append(
                    Message("本学期%(why)s：计为在读，但不在校就餐、住宿，请核对", why=why.why))
    return out
