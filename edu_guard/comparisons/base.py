"""What every comparison kind (比对类型) is made of: :class:`Comparison`, its
:class:`Category` and :class:`Outcome`, and :class:`ComparisonError`."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from datetime import date

#: Enrollment statuses that count as "enrolled in the county" (学籍保留).
ENROLLED_STATUSES = ("在读", "休学")


class ComparisonError(Exception):
    """The input cannot be compared; ``str(exc)`` is a Chinese message."""


@dataclass(frozen=True)
class Category:
    """A category of a comparison's rows."""

    label: str
    #: Cases may be opened from rows of this category (suspected out of school).
    flagged: bool = False
    #: Rows of this category are stored with the run (otherwise only counted).
    stored: bool = True
    #: The 辍学原因 a case opened from such a row starts with.
    case_reason: str = "其他"


@dataclass
class Outcome:
    """What a run found.

    :ivar rows: one dict per input row: ``line``, ``id_number``, ``name``,
        ``category``, ``reason``, ``data`` (a dict of extra facts, or ``None``).
    :ivar params: the settings the run used.
    """

    rows: list[dict]
    params: dict = field(default_factory=dict)

    def counts(self, categories) -> dict[str, int]:
        """Return the number of rows per category (every category, zeros included)."""
        out = dict.fromkeys(categories, 0)
        for row in self.rows:
            out[row["category"]] += 1
        return out


class Comparison(ABC):
    """A comparison kind. Subclasses set ``name``, ``label``, ``categories``,
    ``needs_file`` and implement :meth:`run`."""

    name: str
    label: str
    categories: dict[str, Category]
    #: Whether the comparison takes an uploaded file (else it reads the registry only).
    needs_file: bool = False

    @abstractmethod
    def run(self, *, as_of: date, settings: dict, data: bytes | None = None, filename: str | None = None) -> Outcome:
        """Sort every row into one category with its reason.

        :param as_of: the date the comparison is made for.
        :param settings: the ``EDU_GUARD_*`` configuration.
        :param data: the uploaded file's bytes (kinds with ``needs_file``).
        :param filename: its name (the suffix picks the reader).
        :raises ComparisonError: the input cannot be read.
        """
