"""The sample county loaded for comparison tests, and the expected categories worked
out from the sample files themselves (csv/openpyxl and the rules written out here),
never from the program's output."""

from __future__ import annotations

import csv
import json
import unicodedata
from datetime import date
from pathlib import Path

import openpyxl
import pytest

WEIGHTS = [2 ** (17 - i) % 11 for i in range(17)]
CHECK = "10X98765432"
AS_OF = date(2021, 4, 30)


def gb11643_check(number: str) -> str:
    """The GB 11643 (MOD 11-2) check character of the first 17 digits."""
    return CHECK[sum(int(d) * w for d, w in zip(number[:17], WEIGHTS)) % 11]


def roster_ids(path: Path) -> set[str]:
    """ID numbers the roster import accepts: text cells with a GB 11643 check character."""
    sheet = openpyxl.load_workbook(path).active
    header_row = next(r for r in range(1, 20) if "身份证件号" in [c.value for c in sheet[r]])
    col = [c.value for c in sheet[header_row]].index("身份证件号")
    ids = set()
    for row in sheet.iter_rows(min_row=header_row + 1):
        values = [c.value for c in row]
        if isinstance(values[0], str) and values[0].startswith("填表人"):
            break
        cell = row[col]
        if cell.data_type == "n" or not cell.value:
            continue
        text = unicodedata.normalize("NFKC", cell.value).strip().upper()
        if len(text) == 18 and gb11643_check(text) == text[-1]:
            ids.add(text)
    return ids


def read_csv(path: Path, encoding: str = "utf-8-sig") -> list[dict]:
    with open(path, encoding=encoding, newline="") as fh:
        return list(csv.DictReader(fh))


def expected_household(demo_dir: Path, with_menghan: bool, as_of: date = AS_OF) -> dict[str, str]:
    """ID number → category, by the rules of the issue applied by hand."""
    enrolled = roster_ids(demo_dir / "roster_2021_spring.xlsx")
    if with_menghan:
        enrolled |= {unicodedata.normalize("NFKC", r["身份证号"]).strip().upper()
                     for r in read_csv(demo_dir / "roster_2021_spring_menghan.csv", "gb18030")}
    dead, transferred, left = set(), set(), set()
    for r in read_csv(demo_dir / "status_changes_2021.csv"):
        if r["变动类型"] == "死亡注销":
            dead.add(r["身份证件号"])
        elif r["变动类型"] == "转出":
            (transferred if r["去向学校"] else left).add(r["身份证件号"])
    enrolled -= left | transferred
    out = {}
    for r in read_csv(demo_dir / "household_register_2021.csv"):
        number = r["公民身份号码"].strip().upper()
        birth = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
        sixteenth = date(birth.year + 16, birth.month, birth.day)
        if gb11643_check(number) != number[-1]:
            out[number] = "invalid"
        elif number in dead:
            out[number] = "deceased"
        elif number in enrolled:
            out[number] = "enrolled"
        elif birth > date(2014, 8, 31):  # not 6 by 31 August 2020 (school year 2020/21)
            out[number] = "too_young"
        elif sixteenth <= as_of:
            out[number] = "too_old"
        elif number in transferred:
            out[number] = "transferred"
        else:
            out[number] = "out_of_school"
    return out


@pytest.fixture
def load(app, demo_dir):
    """``load(*names)`` imports sample files (with the sample's check digits), committed."""
    from edu_guard.db import db
    from edu_guard.registry.services import import_file

    kinds = {"schools.csv": "schools", "roster_2021_spring.xlsx": "roster", "roster_2021_spring_menghan.csv": "roster",
             "status_changes_2021.csv": "status-changes", "disabled_children_2021.csv": "disabled"}

    def run(*names):
        with app.app_context():
            for name in names:
                import_file(kinds[name], demo_dir / name)
            db.session.commit()

    return run


@pytest.fixture
def invoke(app):
    """``invoke(*args)`` runs ``edu-guard …``; ``invoke.json(*args)`` parses ``--json``."""
    from edu_guard.cli import cli

    class Invoke:
        def __call__(self, *args):
            return app.test_cli_runner().invoke(cli, [str(a) for a in args], catch_exceptions=False)

        def json(self, *args):
            result = self(*args, "--json")
            assert result.exit_code == 0, result.output
            return json.loads(result.stdout)

    return Invoke()


@pytest.fixture
def expected(demo_dir):
    """``expected(with_menghan)`` → ID number → category (see :func:`expected_household`)."""
    return lambda with_menghan, as_of=AS_OF: expected_household(demo_dir, with_menghan, as_of)
