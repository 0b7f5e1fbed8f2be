"""Test-only plugins: one per contribution hook, registered for one test at a time."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import click
from flask import Blueprint
from flask.cli import with_appcontext
from marshmallow import Schema, fields

import sqlalchemy as sa

from edu_guard.toolkit import (
    AidScheme,
    Category,
    Child,
    Comparison,
    Decision,
    LetterKind,
    Outcome,
    Rate,
    SchoolsImporter,
    db,
    hookimpl,
    not_eligible,
    plugin_settings,
    schemes,
)

HERE = Path(__file__).parent


class FlatScheme(AidScheme):
    def decide(self, c, term):
        if c.stage not in self.stages:
            return not_eligible("学段不符")
        return Decision(True, "全体", self.amount("default", term), "default")


class SchemePlugin:
    """A scheme whose amount is a validated setting."""

    class Settings(Schema):
        per_term = fields.Decimal(required=True, as_string=True)

    @hookimpl
    def plugin_settings_schema(self):
        return self.Settings()

    @hookimpl
    def aid_schemes(self):
        amount = plugin_settings("flat")["per_term"]
        return [FlatScheme(code="flat", name="测试统一补助", stages=("小学",), funding_level="县级", unit="term",
                           rates=(Rate(date(2020, 1, 1), {"default": amount}),))]


class DuplicateScheme:
    @hookimpl
    def aid_schemes(self):
        return [FlatScheme(code="compulsory_living", name="重复", stages=("小学",), funding_level="县级", unit="term",
                           rates=(Rate(date(2020, 1, 1), {"default": Decimal("1")}),))]


class NotAList:
    @hookimpl
    def aid_schemes(self):
        return FlatScheme(code="x", name="x", stages=("小学",), funding_level="县级", unit="term")


class Misspelt:
    @hookimpl
    def aid_schemas(self):  # a typo: no such hook
        return []


def letter_kind():
    class NoticeSchema(Schema):
        recipient = fields.String(required=True)
        pupil = fields.String(required=True)

    return LetterKind("notice_of_aid", "资助告知书", NoticeSchema, True, False,
                      lambda c: c["recipient"], lambda c: "关于学生资助的告知书",
                      mark="资告", template_dir=str(HERE / "sample_letter"))


class LetterPlugin:
    @hookimpl
    def letter_types(self):
        return [letter_kind()]


class ImportPlugin:
    @hookimpl
    def import_formats(self):
        class BureauSchools(SchoolsImporter):
            """The bureau's school list under another name."""

            kind = "bureau_schools"
            label = "教育局学校清单"

        return [BureauSchools]


bp = Blueprint("hello_plugin", __name__, url_prefix="/hello")


@bp.get("/")
def hello():
    return "你好，插件"


class WebPlugin:
    @hookimpl
    def web_blueprints(self):
        return [bp]


@click.command("hello")
@with_appcontext
def hello_command():
    """Say which schemes are loaded."""
    click.echo(f"schemes: {len(schemes())}")


class CliPlugin:
    @hookimpl
    def cli_commands(self):
        return [hello_command]


def orphans_comparison():
    """A comparison of a one-column list of orphans' ID numbers against the children."""
    class Orphans(Comparison):
        name = "orphans"
        label = "孤儿名单比对"
        needs_file = True
        categories = {"known": Category("在册儿童"), "unknown": Category("不在册", flagged=True)}

        def run(self, *, as_of, settings, data=None, filename=None):
            ids = [line.strip() for line in data.decode().splitlines() if line.strip()]
            known = set(db.session.scalars(sa.select(Child.id_number).where(Child.id_number.in_(ids))))
            return Outcome([{"line": i + 1, "id_number": n, "name": "", "category": "known" if n in known else "unknown",
                             "reason": "在册" if n in known else "学籍中无此人", "data": None} for i, n in enumerate(ids)])

    return Orphans()


class ComparisonPlugin:
    @hookimpl
    def comparison_kinds(self):
        return [orphans_comparison()]
