"""The national aid schemes (国家资助项目), registered as a built-in plugin.

Standards and who qualifies are from docs/domain.md §2 (财政部 教育部《学生资助资金管理办法》
财教〔2021〕310号 and its 2024/2025 amendments). Amounts a county sets (the public fee of a
普通高中, the approved tuition of a 中职, the preschool standard) are this plugin's settings:
``EDU_GUARD_PLUGIN_SETTINGS["national_schemes"]``.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from marshmallow import Schema, fields, validate

from edu_guard.hookspecs import hookimpl
from edu_guard import hooks
from edu_guard.i18n import N_, Message
from edu_guard.schemes.base import (AidScheme, Candidate, Decision, Rate, TermInfo, grade_number, listed,
                                     not_eligible, stage_name)

D = Decimal
POSITIVE = validate.Range(min=D("0"), min_inclusive=False)


class NationalSettings(Schema):
    """County settings of the national schemes (yuan, ``Decimal``)."""

    #: 学前教育资助 a year (set locally; docs/domain.md §2 gives 600 as an example).
    preschool_yearly = fields.Decimal(load_default=D("600"), validate=POSITIVE, as_string=True)
    #: The public 学杂费 of a 普通高中 a term, waived for eligible pupils (county setting).
    high_school_fee_per_term = fields.Decimal(load_default=D("400"), validate=POSITIVE, as_string=True)
    #: The approved public tuition of a 中职 a year, waived for every full-time pupil.
    vocational_tuition_yearly = fields.Decimal(load_default=D("2000"), validate=POSITIVE, as_string=True)


def _boarding_key(c: Candidate) -> str:
    return f"{c.stage}/{'寄宿' if c.boarding else '走读'}"


def _hardship_reason(c: Candidate) -> Message:
    """Why a 家庭经济困难 pupil gets the living allowance: the statuses, the stage and
    boarding or not (``家庭经济困难（低保），小学/寄宿``)."""
    kinds = listed(sorted(c.family_kinds)) if c.family_kinds else Message("残疾")
    if c.boarding:
        return Message("家庭经济困难（%(kinds)s），%(stage)s/寄宿", kinds=kinds, stage=stage_name(c.stage) if c.stage else "")
    return Message("家庭经济困难（%(kinds)s），%(stage)s/走读", kinds=kinds, stage=stage_name(c.stage) if c.stage else "")


class CompulsoryLiving(AidScheme):
    """义务教育家庭经济困难学生生活补助: boarders at the full rate, day pupils at half."""

    def decide(self, c: Candidate, term: TermInfo) -> Decision:
        if c.stage not in self.stages:
            return not_eligible(Message("学段为%(stage)s，不属义务教育阶段", stage=stage_name(c.stage)))
        if not c.hardship:
            return not_eligible(Message("非家庭经济困难学生"))
        key = _boarding_key(c)
        return Decision(True, _hardship_reason(c), self.amount(key, term), key)


class Preschool(AidScheme):
    """学前教育资助: 家庭经济困难 children in kindergarten, at the county's yearly standard."""

    def __init__(self, yearly: Decimal, **kw):
        super().__init__(rates=(Rate(date(2011, 9, 1), {"default": yearly}, "县级标准"),), **kw)

    def decide(self, c: Candidate, term: TermInfo) -> Decision:
        if c.stage != "学前":
            return not_eligible(Message("学段为%(stage)s，不属学前教育", stage=stage_name(c.stage)))
        if not c.hardship:
            return not_eligible(Message("非家庭经济困难幼儿"))
        return Decision(True, Message("家庭经济困难幼儿"), self.amount("default", term), "default")


class HighSchoolGrant(AidScheme):
    """普通高中国家助学金 in three tiers (一档 for 脱贫/监测/特困/孤儿, 二档 for 低保 and
    disabled pupils, 三档 for other 家庭经济困难)."""

    def decide(self, c: Candidate, term: TermInfo) -> Decision:
        if c.stage != "高中":
            return not_eligible(Message("学段为%(stage)s，不属普通高中", stage=stage_name(c.stage)))
        if not c.hardship:
            return not_eligible(Message("非家庭经济困难学生"))
        kinds = c.family_kinds
        tier = N_("一档") if kinds & {"脱贫户", "监测户", "特困", "孤儿", "事实无人抚养"} else N_("二档") if (kinds & {"低保"} or c.disabled) else N_("三档")
        return Decision(True, Message("家庭经济困难，%(tier)s", tier=Message(tier)), self.amount(tier, term), tier)


class HighSchoolFeeWaiver(AidScheme):
    """普通高中免学杂费 for pupils of 脱贫 (incl. monitored), 低保, 特困 families and
    家庭经济困难 disabled pupils, at the county's public fee."""

    def __init__(self, per_term: Decimal, **kw):
        super().__init__(rates=(Rate(date(2016, 9, 1), {"default": per_term}, "县级公办学校学杂费标准"),), **kw)

    def decide(self, c: Candidate, term: TermInfo) -> Decision:
        if c.stage != "高中":
            return not_eligible(Message("学段为%(stage)s，不属普通高中", stage=stage_name(c.stage)))
        which = c.family_kinds & {"脱贫户", "监测户", "低保", "特困"}
        if not which and not (c.disabled and c.hardship):
            return not_eligible(Message("非脱贫家庭、低保、特困或家庭经济困难残疾学生"))
        return Decision(True, listed(sorted(which)) if which else Message("家庭经济困难残疾学生"), self.amount("default", term),
                        "default")


class VocationalTuitionWaiver(AidScheme):
    """中职免学费 for every full-time pupil of years one to three."""

    def __init__(self, yearly: Decimal, **kw):
        super().__init__(rates=(Rate(date(2012, 9, 1), {"default": yearly}, "经批准的公办学校学费标准"),), **kw)

    def decide(self, c: Candidate, term: TermInfo) -> Decision:
        if c.stage != "中职":
            return not_eligible(Message("学段为%(stage)s，不属中职", stage=stage_name(c.stage)))
        year = grade_number(c.grade)
        if year is None or not 1 <= year <= 3:
            return not_eligible(Message("年级“%(grade)s”不在一至三年级", grade=c.grade or ""))
        return Decision(True, Message("中职全日制%(year)s年级", year=year), self.amount("default", term), "default")


class VocationalGrant(AidScheme):
    """中职国家助学金: 家庭经济困难 pupils of years one and two; from the 2025 spring term
    year three too (docs/domain.md §2)."""

    def decide(self, c: Candidate, term: TermInfo) -> Decision:
        if c.stage != "中职":
            return not_eligible(Message("学段为%(stage)s，不属中职", stage=stage_name(c.stage)))
        if not c.hardship:
            return not_eligible(Message("非家庭经济困难学生"))
        year = grade_number(c.grade)
        last = 3 if term.start >= date(2025, 1, 1) else 2
        if year is None or not 1 <= year <= last:
            if last == 3:
                return not_eligible(Message("年级“%(grade)s”不在一至三年级", grade=c.grade or ""))
            return not_eligible(Message("年级“%(grade)s”不在一至二年级", grade=c.grade or ""))
        return Decision(True, Message("家庭经济困难，%(year)s年级", year=year), self.amount("default", term), "default")


def build(settings: dict) -> list[AidScheme]:
    """Return the six national schemes with the county's ``settings``
    (:class:`NationalSettings`, loaded)."""
    autumn_2019, spring_2024, spring_2025 = date(2019, 8, 1), date(2024, 1, 1), date(2025, 1, 1)
    hardship = ("脱贫户", "监测户", "低保", "特困", "孤儿", "残疾")
    return [
        CompulsoryLiving(
            code="compulsory_living", name="义务教育家庭经济困难学生生活补助", stages=("小学", "初中"),
            funding_level="中央和地方", unit="year", eligible_statuses=hardship,
            rates=(
                Rate(autumn_2019, {"小学/寄宿": D("1000"), "初中/寄宿": D("1250"), "小学/走读": D("500"), "初中/走读": D("625")}, "2019年秋季学期起"),
                Rate(spring_2024, {"小学/寄宿": D("1250"), "初中/寄宿": D("1500"), "小学/走读": D("625"), "初中/走读": D("750")}, "2024年春季学期起"),
            ),
            tiers=("小学/寄宿", "小学/走读", "初中/寄宿", "初中/走读"),
            description="寄宿生按标准全额，非寄宿生按寄宿生标准的一半",
        ),
        Preschool(
            settings["preschool_yearly"], code="preschool", name="学前教育资助", stages=("学前",),
            funding_level="中央和地方", unit="year", eligible_statuses=hardship, description="标准由县级确定",
        ),
        HighSchoolGrant(
            code="high_school_grant", name="普通高中国家助学金", stages=("高中",), funding_level="中央和地方",
            unit="year", eligible_statuses=hardship, tiers=("一档", "二档", "三档"),
            rates=(
                Rate(date(2010, 9, 1), {"一档": D("3000"), "二档": D("2000"), "三档": D("1000")}, "平均2000元"),
                # The 2025 split of the 2,300 average is set by each province (uncertain).
                Rate(spring_2025, {"一档": D("3450"), "二档": D("2300"), "三档": D("1150")}, "2025年春季学期起平均2300元（分档为示例，各省自定）"),
            ),
        ),
        HighSchoolFeeWaiver(
            settings["high_school_fee_per_term"], code="high_school_fee_waiver", name="普通高中免学杂费",
            stages=("高中",), funding_level="中央和地方", unit="term", eligible_statuses=("脱贫户", "监测户", "低保", "特困", "残疾"),
        ),
        VocationalTuitionWaiver(
            settings["vocational_tuition_yearly"], code="vocational_tuition_waiver", name="中等职业教育免学费",
            stages=("中职",), funding_level="中央和地方", unit="year", description="全日制一至三年级在校生",
        ),
        VocationalGrant(
            code="vocational_grant", name="中等职业教育国家助学金", stages=("中职",), funding_level="中央和地方",
            unit="year", eligible_statuses=hardship,
            rates=(
                Rate(date(2012, 9, 1), {"default": D("2000")}, "平均2000元"),
                Rate(spring_2025, {"default": D("2300")}, "2025年春季学期起平均2300元"),
            ),
        ),
    ]


@hookimpl
def plugin_settings_schema():
    """The county settings of the national schemes."""
    return NationalSettings()


@hookimpl
def aid_schemes():
    """The six national schemes, with this county's settings."""
    return build(hooks.contributions().settings["national_schemes"])
