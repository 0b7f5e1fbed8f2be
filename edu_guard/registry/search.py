"""Search the registry (查询) as clerks type: the one place that turns typed search text
into conditions, with the same normalisation as the importers.

- A name matches with or without its 间隔号, whichever look-alike was typed or stored
  (玉香岩罕, 玉香·岩罕 and 玉香•岩罕 find each other), and without spaces.
- A document number or 学籍号 is normalised with
  :func:`edu_guard.registry.identity.normalize_id` (full-width digits, spaces, ``x``).
"""

from __future__ import annotations

import re
import unicodedata

import sqlalchemy as sa

from edu_guard.registry.identity import normalize_id
from edu_guard.registry.models import Child, Enrollment
from edu_guard.registry.normalize import WHITESPACE, name_key

#: The 间隔号 and its look-alikes (as :data:`edu_guard.registry.normalize._NAME_DOTS`).
_DOTS = "\u00b7\u2022\u30fb\uff65\u2027\u2219\u22c5\uff0e."
_NUMBER = re.compile(r"[0-9X]{3,18}")
_STUDENT_NUMBER = re.compile(r"[A-Z]?[0-9X]{3,19}")


def normalise_query(text: str | None) -> str:
    """Return search text half-width (NFKC) and without spaces (``""`` for none)."""
    return WHITESPACE.sub("", unicodedata.normalize("NFKC", text or ""))


def name_condition(column, text: str) -> sa.ColumnElement[bool]:
    """Return ``column`` contains the name ``text``, ignoring 间隔号 and spaces on both
    sides (:func:`edu_guard.registry.normalize.name_key`)."""
    stored = column
    for dot in _DOTS:
        stored = sa.func.replace(stored, dot, "")
    return stored.contains(name_key(normalise_query(text)), autoescape=True)


def number_condition(column, text: str, *, exact: bool = False) -> sa.ColumnElement[bool]:
    """Return ``column`` (a document number or 学籍号) equals or contains ``text``,
    normalised with :func:`normalize_id`."""
    number = normalize_id(text)
    return column == number if exact else column.contains(number, autoescape=True)


def child_condition(text: str) -> sa.ColumnElement[bool]:
    """Return the condition of a child search: part of the name, the document number
    or a 全国学籍号 (of any of the child's enrollments)."""
    q = normalise_query(text)
    number = normalize_id(q)
    matches = [name_condition(Child.name, q)]
    if _NUMBER.fullmatch(number):
        matches.append(number_condition(Child.id_number, number))
    if _STUDENT_NUMBER.fullmatch(number):
        matches.append(
            Child.id.in_(sa.select(Enrollment.child_id).where(number_condition(Enrollment.student_number, number)))
        )
    return sa.or_(*matches)
