"""雨露计划 (Rain and Dew plan) as an aid scheme.

Children of 脱贫户 and of monitored households (防止返贫监测对象, risk not removed) who
study in a 中职 or 高职 with a formal 学籍 and are not on 休学 get 3,000 yuan a year, paid
1,500 a term (docs/domain.md §2, uncertain: the rural revitalisation bureau's local rules
decide; both amount and the start date are settings).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from marshmallow import Schema, fields, validate

from edu_guard.toolkit import (AidScheme, Candidate, Decision, Message, Rate, TermInfo, hookimpl, not_eligible,
                               plugin_settings)

NAME = "yulu"


class Settings(Schema):
    """雨露计划 settings: yuan a term, and the schemes it may not be paid with."""

    per_term = fields.Decimal(load_default=Decimal("1500"), as_string=True,
                              validate=validate.Range(min=Decimal("0"), min_inclusive=False))
    effective_from = fields.Date(load_default=date(2015, 9, 1))
    excludes = fields.List(fields.String(), load_default=list)


class Yulu(AidScheme):
    """雨露计划: vocational pupils of 脱贫/监测 families, not on 休学."""

    def decide(self, c: Candidate, term: TermInfo) -> Decision:
        if c.stage not in self.stages:
            return not_eligible(Message("学段为%(stage)s，雨露计划面向中职、高职学生", stage=Message(c.stage) if c.stage else Message("未知")))
        if not c.poverty:
            return not_eligible(Message("非脱贫户或防止返贫监测对象家庭"))
        kinds = Message.join([Message(k) for k in sorted(c.family_kinds & {"脱贫户", "监测户"})], "、")
        return Decision(True, Message("%(kinds)s家庭，%(stage)s在读", kinds=kinds, stage=Message(c.stage)),
                        self.amount("default", term), "default")


@hookimpl
def plugin_settings_schema():
    """The plugin's settings (``EDU_GUARD_PLUGIN_SETTINGS["yulu"]``)."""
    return Settings()


@hookimpl
def aid_schemes():
    """The 雨露计划 scheme at the configured amount."""
    s = plugin_settings(NAME)
    return [
        Yulu(
            code="yulu", name="雨露计划职业教育补助", stages=("中职", "高职"), funding_level="省级",
            unit="term", rates=(Rate(s["effective_from"], {"default": s["per_term"]}, "乡村振兴部门标准"),),
            excludes=frozenset(s["excludes"]), eligible_statuses=("脱贫户", "监测户"),
            description="脱贫家庭（含监测对象）子女接受中、高等职业教育，每生每学期补助",
        )
    ]
