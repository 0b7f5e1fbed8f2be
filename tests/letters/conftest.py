"""Fixtures for the letters tests: a case with its child, and PDF text extraction (pypdf)."""

from __future__ import annotations

import io
import re
from datetime import date

import pytest

from edu_guard.db import db


@pytest.fixture
def make_case(letters_ready):
    """Factory: ``make_case(name="玉香", id_number=…, township="嘎洒镇", guardian="岩温",
    school="景洪市第三中学", grade="七年级", opened_on=date(2021, 3, 1))`` → a committed
    :class:`DropoutCase` in state ``persuasion`` with an enrolled child and a guardian."""
    from edu_guard.cases.models import DropoutCase
    from edu_guard.registry.models import Child, Enrollment, Guardian, School, Township

    townships: dict[str, Township] = {}
    schools: dict[str, School] = {}
    counter = iter(range(1, 100_000))

    def make(
        name: str = "玉香",
        id_number: str | None = None,
        township: str = "嘎洒镇",
        guardian: str | None = "岩温",
        relation: str = "父亲",
        school: str = "景洪市第三中学",
        grade: str = "七年级",
        sex: str = "女",
        opened_on: date = date(2021, 3, 1),
        address: str | None = None,
    ):
        n = next(counter)
        town = townships.get(township)
        if town is None:
            town = townships[township] = Township(county_code="532801", name=township)
            db.session.add(town)
        sch = schools.get(school)
        if sch is None:
            sch = schools[school] = School(code=f"21532801{len(schools):02d}", name=school, stage="初中", township=town, county_code="532801")
            db.session.add(sch)
        child = Child(
            id_number=id_number or f"5328012009050{n:04d}{'2' if sex == '女' else '1'}",
            name=name,
            sex=sex,
            birth_date=date(2009, 5, 1),
            township=town,
            address=address or f"景洪市{township}曼景罕村{n}号",
        )
        if guardian:
            from stdnum.cn import ric

            gid = f"53282219800101{n % 100:02d}1"  # a valid resident ID of the guardian (勐海县, 1980)
            child.guardians.append(Guardian(name=guardian, relation=relation, phone="13888880000",
                                            address=child.address, id_number=gid + ric.calc_check_digit(gid + "0")))
        db.session.add(child)
        db.session.add(Enrollment(child=child, school=sch, grade=grade, status="在读"))
        case = DropoutCase(
            child=child, state="persuasion", reason="厌学", opened_on=opened_on, step_started_on=opened_on,
            township=town, school=sch,
        )
        db.session.add(case)
        db.session.commit()
        return case

    return make


def _squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


@pytest.fixture
def pdf_pages():
    """``pdf_pages(pdf_bytes)`` → the text of each page, white space removed (so a
    name broken across two lines still matches)."""
    from pypdf import PdfReader

    def pages(pdf: bytes) -> list[str]:
        return [_squash(page.extract_text() or "") for page in PdfReader(io.BytesIO(pdf)).pages]

    return pages


@pytest.fixture
def pdf_text(pdf_pages):
    """``pdf_text(pdf_bytes)`` → the text of the whole PDF, white space and page
    numbers (``— 2 —``, which extraction may place mid-sentence) removed."""
    return lambda pdf: re.sub(r"—\d+—", "", "".join(pdf_pages(pdf)))
