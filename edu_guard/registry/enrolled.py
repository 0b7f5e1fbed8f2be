"""Children counted as enrolled (视同在读) without a plain school roll.

A child taught at home by a school (送教上门) keeps a 学籍 at that school and counts as
enrolled: never a suspected dropout (docs/domain.md, "送教上门"). The registry and the
cases sit below the feature that knows such placements, so they learn of them through
the ``counted_as_enrolled`` hook (:mod:`edu_guard.hookspecs`), answered by the built-in
plugin :mod:`edu_guard.homebound.hooks`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING

from edu_guard import hooks
from edu_guard.auth.scoping import unscoped

if TYPE_CHECKING:
    from edu_guard.i18n import Message


@dataclass(frozen=True)
class CountedEnrolled:
    """Why one child counts as enrolled on a day.

    :ivar child_id: the registry child.
    :ivar school_id: the school that keeps the child's 学籍 (and teaches it).
    :ivar label: a short Chinese badge for lists (``"送教上门"``, marked with ``N_`` so a
        page translates it).
    :ivar why: a clause for messages (``"自 2021-03-01 起由某校送教上门"``): an
        :class:`~edu_guard.i18n.Message` (read in the reader's language) or text.
    :ivar endpoint: the Flask endpoint of the page that shows the reason, with
        ``endpoint_args``; ``None`` when there is none.
    """

    child_id: int
    school_id: int | None
    label: str
    why: "str | Message"
    endpoint: str | None = None
    endpoint_args: dict = field(default_factory=dict)


@unscoped("a child counts as enrolled whichever school teaches it")
def counted_enrolled(on: date, child_id: int | None = None) -> dict[int, CountedEnrolled]:
    """Return, by child id, the children counted as enrolled on ``on`` (only
    ``child_id`` when given), as every plugin answers ``counted_as_enrolled``."""
    out: dict[int, CountedEnrolled] = {}
    for answer in hooks.manager().hook.counted_as_enrolled(on=on, child_id=child_id):
        for item in answer or ():
            out.setdefault(item.child_id, item)
    return out
