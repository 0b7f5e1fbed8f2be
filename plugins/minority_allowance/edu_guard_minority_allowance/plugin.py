"""较少民族学生生活补助 (Yunnan: living allowance for pupils of the smaller ethnic groups).

Pupils in compulsory education whose ethnicity is one of the county's listed groups get a
fixed amount a term. Both the list (default: Yunnan's eight 人口较少民族 of docs/domain.md §2)
and the amount are county settings; the amount has no national standard (uncertain), so
the default is an example to be replaced.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from marshmallow import Schema, fields, validate

from edu_guard.toolkit import (AidScheme, Candidate, Decision, Message, Rate, TermInfo, hookimpl, not_eligible,
                               plugin_settings)

NAME = "minority_allowance"

#: Yunnan's smaller ethnic groups (云南省人口较少民族), docs/domain.md §2.
DEFAULT_GROUPS = ["独龙族", "德昂族", "基诺族", "怒族", "阿昌族", "普米族", "布朗族", "景颇族"]


class Settings(Schema):
    """Settings: the groups, yuan a term, and schemes it may not be paid with."""

    groups = fields.List(fields.String(validate=validate.Length(min=1)), load_default=lambda: list(DEFAULT_GROUPS),
                         validate=validate.Length(min=1))
    per_term = fields.Decimal(load_default=Decimal("500"), as_string=True,
                              validate=validate.Range(min=Decimal("0"), min_inclusive=False))
    effective_from = fields.Date(load_default=date(2015, 9, 1))
    excludes = fields.List(fields.String(), load_default=list)


class MinorityAllowance(AidScheme):
    """较少民族学生生活补助: by ethnicity, for compulsory-stage pupils."""

    def __init__(self, groups, **kw):
        super().__init__(**kw)
        self.groups = tuple(groups)

    def decide(self, c: Candidate, term: TermInfo) -> Decision:
        if c.stage not in self.stages:
            return not_eligible(Message("学段为%(stage)s，不属义务教育阶段", stage=Message(c.stage) if c.stage else Message("未知")))
        eth = (c.ethnicity or "").strip()
        if eth and not eth.endswith("族"):
            eth += "族"
        if eth not in self.groups:
            return not_eligible(Message("民族为%(ethnicity)s，不在本县较少民族名单内",
                                        ethnicity=c.ethnicity or Message("未填")))
        return Decision(True, Message("%(ethnicity)s学生", ethnicity=eth), self.amount("default", term), "default")


@hookimpl
def plugin_settings_schema():
    """The plugin's settings (``EDU_GUARD_PLUGIN_SETTINGS["minority_allowance"]``)."""
    return Settings()


@hookimpl
def aid_schemes():
    """The allowance with the county's groups and amount."""
    s = plugin_settings(NAME)
    return [
        MinorityAllowance(
            s["groups"], code="minority_allowance", name="较少民族学生生活补助", stages=("小学", "初中"),
            funding_level="省级", unit="term", rates=(Rate(s["effective_from"], {"default": s["per_term"]}, "县级标准"),),
            excludes=frozenset(s["excludes"]), eligible_statuses=("民族",),
            description="本县较少民族名单内的义务教育阶段学生",
        )
    ]
