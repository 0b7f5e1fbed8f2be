"""Helpers for the importer tests: the sample files, small workbooks made on the fly,
and the expected figures worked out from the sample files themselves (with openpyxl
and an independent MOD 11-2 implementation, not with the importer's code)."""

from __future__ import annotations

import csv
import io
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import openpyxl
import pytest

WEIGHTS = [2 ** (17 - i) % 11 for i in range(17)]  # GB 11643: 7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2
CHECK = "10X98765432"


def gb11643_check(number: str) -> str:
    """The real check character of the first 17 digits (GB 11643, MOD 11-2)."""
    return CHECK[sum(int(d) * w for d, w in zip(number[:17], WEIGHTS)) % 11]


def valid_id(first17: str) -> str:
    """Complete 17 digits into a GB 11643-valid ID number."""
    return first17 + gb11643_check(first17)


@dataclass
class RosterFacts:
    """What the sample roster holds, read with openpyxl (not with the importer)."""

    header_row: int
    data_rows: list[int]
    numeric_id_rows: list[int]
    bad_check_rows: list[int]
    blank_id_rows: list[int]
    text_ids: dict[str, int]
    numeric_id_values: dict[int, float]
    names: dict[str, str]
    #: row → (家庭类型, 是否残疾) as typed
    family: dict[int, tuple[str, str]]


def read_roster_facts(path: Path) -> RosterFacts:
    workbook = openpyxl.load_workbook(path)
    sheet = workbook.active
    header_row = next(r for r in range(1, 20) if "身份证件号" in [c.value for c in sheet[r]])
    header = [c.value for c in sheet[header_row]]
    id_col, name_col = header.index("身份证件号"), header.index("姓名")
    facts = RosterFacts(header_row, [], [], [], [], {}, {}, {}, {})
    family_col, disabled_col = header.index("家庭类型"), header.index("是否残疾")
    for row in sheet.iter_rows(min_row=header_row + 1):
        values = [c.value for c in row]
        if all(v in (None, "") for v in values):
            continue
        if isinstance(values[0], str) and values[0].startswith("填表人"):
            break
        number = row[0].row
        facts.data_rows.append(number)
        facts.family[number] = (values[family_col] or "", values[disabled_col] or "")
        id_cell = row[id_col]
        if id_cell.data_type == "n" and id_cell.value is not None:
            facts.numeric_id_rows.append(number)
            facts.numeric_id_values[number] = id_cell.value
            continue
        text = unicodedata.normalize("NFKC", id_cell.value or "").strip().upper()
        if not text:
            facts.blank_id_rows.append(number)
            continue
        facts.text_ids[text] = number
        facts.names[text] = "".join((values[name_col] or "").split())
        if gb11643_check(text) != text[-1]:
            facts.bad_check_rows.append(number)
    return facts


@pytest.fixture(scope="session")
def roster_facts() -> RosterFacts:
    from edu_guard.testing import DEMO_DIR

    return read_roster_facts(DEMO_DIR / "roster_2021_spring.xlsx")


def read_csv_rows(path: Path, encoding: str) -> list[dict]:
    with open(path, encoding=encoding, newline="") as fh:
        return list(csv.DictReader(fh))


def xlsx_bytes(rows: list[list], number_formats: dict[str, str] | None = None) -> bytes:
    """Return a workbook of ``rows`` (typed values kept) as bytes."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    for ref, fmt in (number_formats or {}).items():
        sheet[ref].number_format = fmt
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


ROSTER_HEADER = [
    "序号",
    "姓名",
    "性别",
    "出生日期",
    "民族",
    "身份证件号",
    "全国学籍号",
    "学校标识码",
    "学校名称",
    "年级",
    "班级",
    "就读方式",
    "乡镇",
    "村（社区）",
    "家庭类型",
    "监护人",
    "监护人联系电话",
]


@pytest.fixture
def school(app_ctx):
    """The school 勐罕中心小学 (2153280177) in 勐罕镇, committed."""
    from edu_guard.db import db
    from edu_guard.registry.models import School, Township

    town = Township(county_code="532801", name="勐罕镇")
    made = School(code="2153280177", name="勐罕中心小学", stage="小学", township=town, county_code="532801")
    db.session.add(made)
    db.session.commit()
    return made


@pytest.fixture
def import_sample(app_ctx, demo_dir):
    """``import_sample(kind, file name)`` → the result; committed."""
    from edu_guard.db import db
    from edu_guard.registry.services import import_file

    def run(kind: str, name: str, **kwargs):
        result = import_file(kind, demo_dir / name, **kwargs)
        db.session.commit()
        return result

    return run


@pytest.fixture
def sample_county(import_sample):
    """The sample county loaded up to the roster and the 勐罕镇 CSV."""
    import_sample("schools", "schools.csv")
    import_sample("roster", "roster_2021_spring.xlsx")
    import_sample("roster", "roster_2021_spring_menghan.csv")
