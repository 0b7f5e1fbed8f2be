"""Aid schemes (资助项目): what a scheme declares and how it decides.

A scheme is a plain object returned by the :func:`edu_guard.hookspecs.aid_schemes` hook.
Core never asks where a scheme comes from: the national schemes of
:mod:`edu_guard.schemes.national` are built-in plugins, local ones (雨露计划, 营养改善计划,
较少民族学生生活补助) live in ``plugins/``. Amounts are ``Decimal`` yuan; a scheme's
standard is looked up by the date the term starts (docs/domain.md §2: "every amount is looked up
by the date (term) it applies to").
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Mapping

from edu_guard import money
from edu_guard.i18n import N_, Message
from edu_guard.registry.terms import term_label, term_name  # noqa: F401 (the schemes' names for them)

#: Family statuses that make a pupil 家庭经济困难 for the national schemes: 脱贫户,
#: 防止返贫监测对象 (监测户, risk not removed), 低保, 特困, 孤儿 and 事实无人抚养, and
#: disability (教育部等《关于进一步加强学生资助工作的意见》; docs/domain.md §2).
HARDSHIP_KINDS = frozenset({"脱贫户", "监测户", "低保", "特困", "孤儿", "事实无人抚养", "残疾"})

#: Statuses counted in the "其中：脱贫家庭学生" line (脱贫户 including monitored households).
POVERTY_KINDS = frozenset({"脱贫户", "监测户"})

#: The units a standard can be given in; every amount is turned into yuan for one term.
UNITS = {"term": N_("每学期"), "year": N_("每学年"), "school_day": N_("每在校日")}

#: Stages a scheme may cover.
STAGES = (N_("学前"), N_("小学"), N_("初中"), N_("高中"), N_("中职"), N_("高职"))


class SchemeError(ValueError):
    """A scheme cannot decide: no standard in force for the term, or a bad setting
    (a :class:`~edu_guard.i18n.Message` when a page shows it)."""


def listed(values, sep: str = "、") -> Message:
    """Labels kept as Chinese data (family statuses, stages), each shown in the reader's
    language, joined by ``sep`` (``、``; English pages write ``, ``)."""
    return Message.join([Message(v) for v in values if v], sep)


def stage_name(stage: str | None) -> Message:
    """A pupil's stage for a reason (``未知`` when unknown), in the reader's language."""
    return Message(stage) if stage else Message("未知")


def _stage(stage: str | None) -> "Message | str":
    """A stage as it is written (empty stays empty), in the reader's language."""
    return Message(stage) if stage else ""


@dataclass(frozen=True)
class Rate:
    """A standard (资助标准) in force from a date until the next one.

    :param effective_from: first day it applies to (a term starting on or after it uses it).
    :param amounts: yuan as ``Decimal`` in the scheme's unit, keyed by what the scheme
        distinguishes (``"小学/寄宿"``, a tier name, or ``"default"``).
    :param source: the document that set it, shown to the clerk.
    """

    effective_from: date
    amounts: Mapping[str, Decimal]
    source: str = ""


@dataclass(frozen=True)
class TermInfo:
    """The term a decision is for (学期): ``school_days`` counts days of teaching."""

    code: str
    name: str
    start: date
    end: date
    school_days: int


@dataclass(frozen=True, slots=True)
class Candidate:
    """What a scheme may know of a child in a term: a plain snapshot, no ORM object.

    ``family_kinds`` holds the family statuses valid in the term (a monitored household
    whose risk was removed, or a status whose validity ended before the term, is left
    out). ``stage`` is the school's stage (one of :data:`STAGES`); ``grade`` is the grade
    as written in the roster (``"三年级"``, ``"高一"``, ``"中职二年级"``).
    """

    child_id: int
    id_number: str
    name: str
    school_code: str
    school_name: str
    stage: str
    grade: str | None = None
    boarding: bool = False
    ethnicity: str | None = None
    family_kinds: frozenset[str] = frozenset()
    disabled: bool = False
    township: str | None = None

    @property
    def hardship(self) -> bool:
        """Whether the child is 家庭经济困难 (:data:`HARDSHIP_KINDS`)."""
        return bool(self.family_kinds & HARDSHIP_KINDS) or self.disabled

    @property
    def poverty(self) -> bool:
        """Whether the child counts in "其中：脱贫家庭学生" (:data:`POVERTY_KINDS`)."""
        return bool(self.family_kinds & POVERTY_KINDS)


@dataclass(frozen=True, slots=True)
class Decision:
    """A scheme's answer for one child and term.

    ``Decision(eligible, reason, amount=Decimal("0"), tier=None)``:

    :param eligible: whether the child is proposed.
    :param reason: why, shown on the list (eligible or not): a
        :class:`~edu_guard.i18n.Message` (stored as one, shown in the reader's language)
        or plain Chinese text.
    :param amount: yuan (``Decimal``) for the term; zero when not eligible.
    :param tier: the tier or rate key used (``"初中/寄宿"``, ``"一档"``), or ``None``.
    """

    eligible: bool
    reason: Message | str
    amount: Decimal = Decimal("0")
    tier: str | None = None


@dataclass
class AidScheme:
    """A scheme's declaration (资助项目). Subclass and override :meth:`decide`.

    :param code: stable identifier, ``[a-z0-9_]``; payments refer to it.
    :param name: the full name used in reports (``义务教育家庭经济困难学生生活补助``).
    :param stages: stages covered (:data:`STAGES`).
    :param funding_level: who pays (``"中央和地方"``, ``"省级"``, ``"县级"``).
    :param unit: ``"term"``, ``"year"`` (half paid each term) or ``"school_day"``.
    :param rates: the standards by date, any order.
    :param excludes: codes of schemes a child may not be paid together with in a term.
    :param eligible_statuses: the family statuses that qualify, for display.
    :param report_group: the 其中 group the bureau's report lists it under (defaults to name).
    """

    code: str
    name: str
    stages: tuple[str, ...]
    funding_level: str
    unit: str
    rates: tuple[Rate, ...] = ()
    excludes: frozenset[str] = frozenset()
    eligible_statuses: tuple[str, ...] = ()
    tiers: tuple[str, ...] = ()
    report_group: str = ""
    description: str = ""
    plugin: str = field(default="", compare=False)

    def __post_init__(self):
        if self.unit not in UNITS:
            raise SchemeError(f"scheme {self.code}: unit must be one of {sorted(UNITS)}, not {self.unit!r}")
        unknown = set(self.stages) - set(STAGES)
        if unknown:
            raise SchemeError(f"scheme {self.code}: unknown stages {sorted(unknown)}")
        self.excludes = frozenset(self.excludes)

    # --- standards ----------------------------------------------------------------

    def rate_for(self, term: TermInfo) -> Rate:
        """Return the standard in force on the term's first day.

        :raises SchemeError: when no standard had started by then.
        """
        started = [r for r in self.rates if r.effective_from <= term.start]
        if not started:
            raise SchemeError(Message("%(scheme)s：%(term)s没有适用的资助标准", scheme=self.name, term=term_name(term)))
        return max(started, key=lambda r: r.effective_from)

    def term_amount(self, per_unit: Decimal, term: TermInfo) -> Decimal:
        """Turn an amount in the scheme's unit into yuan for one term.

        A yearly standard pays half each term (docs/domain.md §2); a per-school-day standard is
        multiplied by the term's school days. Rounded half up to the fen (:mod:`edu_guard.money`).
        """
        per_unit = Decimal(per_unit)
        if self.unit == "year":
            return money.to_yuan(per_unit / 2)
        if self.unit == "school_day":
            return money.to_yuan(per_unit * term.school_days)
        return money.to_yuan(per_unit)

    def amount(self, key: str, term: TermInfo) -> Decimal:
        """Yuan for one term at the standard ``key`` of the rate in force.

        :raises SchemeError: when the rate in force has no such key.
        """
        rate = self.rate_for(term)
        if key not in rate.amounts:
            raise SchemeError(Message("%(scheme)s：%(term)s的标准中没有“%(key)s”", scheme=self.name, term=term_name(term), key=key))
        return self.term_amount(rate.amounts[key], term)

    # --- decision -----------------------------------------------------------------

    def decide(self, candidate: Candidate, term: TermInfo) -> Decision:
        """Decide whether ``candidate`` gets this scheme in ``term`` and how much.

        The default covers the stage check only; schemes override it and call
        ``super().decide`` first or check the stage themselves.

        :return: a :class:`Decision`; never raises for an ineligible child.
        :raises SchemeError: when the scheme's own standard is missing for the term.
        """
        if candidate.stage not in self.stages:
            return Decision(False, Message("学段为%(stage)s，本项目面向%(stages)s", stage=_stage(candidate.stage),
                                           stages=listed(self.stages)))
        return Decision(False, Message("未实现资格判定"))

    def declaration(self) -> dict:
        """Return the declaration as plain data (for ``edu-guard plugins --json`` and the UI):
        amounts are strings of yuan."""
        return {
            "code": self.code,
            "name": self.name,
            "plugin": self.plugin,
            "stages": list(self.stages),
            "funding_level": self.funding_level,
            "unit": self.unit,
            "unit_label": UNITS[self.unit],
            "excludes": sorted(self.excludes),
            "eligible_statuses": list(self.eligible_statuses),
            "tiers": list(self.tiers),
            "rates": [
                {
                    "effective_from": r.effective_from.isoformat(),
                    "amounts": {k: str(v) for k, v in r.amounts.items()},
                    "source": r.source,
                }
                for r in sorted(self.rates, key=lambda r: r.effective_from)
            ],
            "description": self.description,
        }


_CN_NUMERALS = {"一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}


def grade_number(grade: str | None) -> int | None:
    """Return the grade a roster cell names, counted the way its stage counts:
    compulsory education 1–9 (``"三年级"`` → 3, ``"七年级"`` and ``"初一"`` → 7,
    ``"初三"`` → 9), 高中 and 中职 from 1 (``"高二"`` → 2, ``"中职1年级"`` → 1);
    ``None`` when the cell names no number."""
    if not grade:
        return None
    grade = grade.strip()
    for ch in grade:
        n = int(ch) if ch.isdigit() else _CN_NUMERALS.get(ch)
        if n is not None:
            return n + 6 if grade.startswith("初") and n <= 3 else n
    return None


def stage_of(school_stage: str | None, grade: str | None) -> str:
    """Return a pupil's stage: the school's when it is one of :data:`STAGES`, else from the
    grade of a 九年一贯制 or 完全中学 school (一–六年级 小学, 七–九年级 初中, 高一–高三 高中).

    :return: one of :data:`STAGES`, or ``school_stage`` unchanged when neither tells.
    """
    if school_stage in STAGES:
        return school_stage
    n = grade_number(grade)
    if grade and grade.startswith("高") and n:
        return "高中"
    if n is not None:
        return "小学" if n <= 6 else "初中" if n <= 9 else school_stage or ""
    return school_stage or ""


def not_eligible(reason: Message | str) -> Decision:
    """Shorthand for a refusal with its reason."""
    return Decision(False, reason)
