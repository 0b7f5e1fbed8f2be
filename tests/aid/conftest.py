"""Fixtures of the aid tests: the sample county with its monitored households, the
2021 spring term, and the expected figures read from the sample files with openpyxl
(independently of the importers and of the aid code)."""

from __future__ import annotations

import csv
import unicodedata
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest

#: The 2021 spring term of the tests: 2021-03-01 to 2021-07-09 with 90 school days
#: (chosen for the tests: 19 weeks of teaching less the 清明, 劳动节 and 端午 holidays).
SPRING_2021 = dict(code="2021-spring", start=date(2021, 3, 1), end=date(2021, 7, 9), school_days=90)

#: Yunnan's smaller ethnic groups, the minority_allowance plugin's default list.
SMALL_GROUPS = {"独龙族", "德昂族", "基诺族", "怒族", "阿昌族", "普米族", "布朗族", "景颇族"}


@dataclass
class Pupil:
    """A roster row as the test reads it."""

    id_number: str
    name: str
    school_code: str
    stage: str
    boarding: bool
    ethnicity: str
    kinds: frozenset
    disabled: bool


def _norm_id(value) -> str:
    return unicodedata.normalize("NFKC", value or "").strip().upper()


WEIGHTS = [2 ** (17 - i) % 11 for i in range(17)]
CHECK = "10X98765432"


def gb11643_check(number: str) -> str:
    """The GB 11643 (MOD 11-2) check character of the first 17 digits ("" if not digits)."""
    if len(number) != 18 or not number[:17].isdigit():
        return ""
    return CHECK[sum(int(d) * w for d, w in zip(number[:17], WEIGHTS)) % 11]


def read_pupils(demo_dir: Path) -> dict[str, Pupil]:
    """The pupils the registry holds after importing the roster and the 勐罕镇 CSV,
    keyed by ID number: the roster's rows with a text ID whose check character is
    right (the 8 rejected rows — 6 numeric ID cells, a bad check digit, a row with no
    name and ID — are left out), plus the child the 勐罕镇 CSV adds (its ID is text there)."""
    stages, codes = {}, {}
    with open(demo_dir / "schools.csv", encoding="utf-8-sig", newline="") as fh:
        for row in csv.DictReader(fh):
            stages[row["学校标识码"]] = row["学段"]
            codes[row["学校名称"]] = row["学校标识码"]
    sheet = openpyxl.load_workbook(demo_dir / "roster_2021_spring.xlsx").active
    header_row = next(r for r in range(1, 10) if "身份证件号" in [c.value for c in sheet[r]])
    header = [c.value for c in sheet[header_row]]
    col = {name: header.index(name) for name in header if name}
    pupils = {}
    for row in sheet.iter_rows(min_row=header_row + 1):
        values = [c.value for c in row]
        if isinstance(values[0], str) and values[0].startswith("填表人"):
            break
        id_cell = row[col["身份证件号"]]
        id_number = _norm_id(id_cell.value if id_cell.data_type != "n" else "")
        if not id_number or gb11643_check(id_number) != id_number[-1] or not values[col["姓名"]]:
            continue
        kinds = frozenset(k for k in (values[col["家庭类型"]] or "").split("、") if k)
        code = str(values[col["学校标识码"]]).strip()
        pupils[id_number] = Pupil(
            id_number, "".join(values[col["姓名"]].split()), code, stages[code], values[col["就读方式"]] == "住校",
            values[col["民族"]], kinds, values[col["是否残疾"]] == "是",
        )
    assert len(pupils) == 1194, len(pupils)  # docs/domain.md §8: 1202 rows, 8 rejected
    with open(demo_dir / "roster_2021_spring_menghan.csv", encoding="gb18030", newline="") as fh:
        for row in csv.DictReader(fh):
            id_number = _norm_id(row["身份证号"])
            if id_number in pupils or gb11643_check(id_number) != id_number[-1]:
                continue
            code = codes[row["学校名称"]]
            kinds = frozenset(k for k in (row["家庭类型"] or "").split("、") if k)
            pupils[id_number] = Pupil(id_number, row["姓名"].strip(), code, stages[code], row["是否寄宿"] == "是",
                                      row["民族"], kinds, False)
    assert len(pupils) == 1195, len(pupils)  # … and 1 more from the 勐罕镇 CSV
    return pupils


def read_monitored(demo_dir: Path) -> dict[str, str]:
    """ID number → 监测对象类别 of every member listed with an ID number whose risk was
    not removed (a 脱贫户 stays one whatever 是否风险消除 says)."""
    sheet = openpyxl.load_workbook(demo_dir / "monitoring_households_2021.xlsx").active
    rows = list(sheet.iter_rows(values_only=True))
    header = list(rows[0])
    out = {}
    for r in rows[1:]:
        d = dict(zip(header, r))
        if not d["证件号码"]:
            continue
        if d["监测对象类别"] != "脱贫户" and d["是否风险消除"] == "是":
            continue
        out[_norm_id(d["证件号码"])] = d["监测对象类别"]
    return out


@pytest.fixture
def county(app_ctx, demo_dir):
    """The sample county: schools, roster, 勐罕镇 CSV and the monitored households
    imported (the sample files' check characters accepted), committed."""
    from edu_guard.db import db
    from edu_guard.registry.services import import_file

    for kind, name in (("schools", "schools.csv"), ("roster", "roster_2021_spring.xlsx"),
                       ("roster", "roster_2021_spring_menghan.csv"), ("families", "monitoring_households_2021.xlsx")):
        import_file(kind, demo_dir / name)
        db.session.commit()
    return app_ctx


@pytest.fixture(scope="session")
def pupils():
    """The expected registry, read from the sample files (:func:`read_pupils`)."""
    from edu_guard.testing import DEMO_DIR

    return read_pupils(DEMO_DIR)


@pytest.fixture(scope="session")
def monitored():
    """The monitoring list's members (:func:`read_monitored`)."""
    from edu_guard.testing import DEMO_DIR

    return read_monitored(DEMO_DIR)


@pytest.fixture
def spring(app_ctx):
    """The 2021 spring term (:data:`SPRING_2021`), committed."""
    from edu_guard.aid import services
    from edu_guard.db import db

    term = services.add_term(**SPRING_2021)
    db.session.commit()
    return term


D = Decimal
