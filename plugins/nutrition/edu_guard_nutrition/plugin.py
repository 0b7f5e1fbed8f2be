"""农村义务教育学生营养改善计划 (the rural compulsory-education nutrition programme).

Every pupil of a pilot school gets a meal subsidy for each school day: 4 yuan a day, 5 yuan
from the 2021 autumn term (docs/domain.md §2; 教育部等《关于提高农村义务教育学生营养膳食补助
标准的通知》2021). The pilot schools are a setting (``"*"``: every compulsory school of
the county).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from marshmallow import Schema, fields, validate

from edu_guard.toolkit import (AidScheme, Candidate, Decision, Message, Rate, TermInfo, hookimpl, not_eligible,
                               plugin_settings)

NAME = "nutrition"


class Settings(Schema):
    """Settings: the pilot schools by 学校标识码 (``["*"]`` for all)."""

    pilot_schools = fields.List(fields.String(validate=validate.Regexp(r"^(\*|\d{10})$")), load_default=lambda: ["*"])


class Nutrition(AidScheme):
    """营养改善计划: per school day, for every pupil of a pilot school."""

    def __init__(self, pilot_schools, **kw):
        super().__init__(**kw)
        self.pilot_schools = frozenset(pilot_schools)

    def decide(self, c: Candidate, term: TermInfo) -> Decision:
        if c.stage not in self.stages:
            return not_eligible(Message("学段为%(stage)s，不属义务教育阶段", stage=Message(c.stage) if c.stage else Message("未知")))
        if "*" not in self.pilot_schools and c.school_code not in self.pilot_schools:
            return not_eligible(Message("%(school)s不是营养改善计划试点学校", school=c.school_name))
        per_day = self.rate_for(term).amounts["default"]
        return Decision(True, Message("试点学校在校生，%(days)s个在校日×%(per_day)s元", days=term.school_days, per_day=per_day),
                        self.amount("default", term), "default")


@hookimpl
def plugin_settings_schema():
    """The plugin's settings (``EDU_GUARD_PLUGIN_SETTINGS["nutrition"]``)."""
    return Settings()


@hookimpl
def aid_schemes():
    """The nutrition programme with the configured pilot schools."""
    return [
        Nutrition(
            plugin_settings(NAME)["pilot_schools"],
            code="nutrition", name="农村义务教育学生营养改善计划膳食补助", stages=("小学", "初中"),
            funding_level="中央", unit="school_day",
            rates=(
                Rate(date(2011, 9, 1), {"default": Decimal("4")}, "每生每天4元"),
                Rate(date(2021, 8, 1), {"default": Decimal("5")}, "2021年秋季学期起每生每天5元"),
            ),
            description="试点地区义务教育学生，按在校天数补助",
        )
    ]
