"""Row schemas: the resident-ID check (GB 11643 with python-stdnum), the numeric-cell
rule, cross-checks against the ID, and RowLoader giving what schema.load gives."""

from datetime import date

import pytest
from marshmallow import ValidationError

from edu_guard.registry import readers, schemas
from edu_guard.registry.importers import IMPORTERS
from edu_guard.registry.schemas import RowLoader

from .conftest import gb11643_check, valid_id

#: The textbook example of GB 11643 (a valid number with check character X).
TEXTBOOK_ID = "11010519491231002X"


def test_textbook_id_is_valid():
    assert gb11643_check(TEXTBOOK_ID) == "X"
    assert schemas.validate_id_number(TEXTBOOK_ID) == TEXTBOOK_ID
    assert schemas.validate_id_number("11010519491231002x") == TEXTBOOK_ID


@pytest.mark.parametrize(
    ("number", "reason"),
    [
        ("110105194912310021", "校验位错误"),
        ("1101051949123100", "应为18位（现为16位）"),
        ("110105491231002", "旧版15位"),
        ("11010519491231A02X", "字符"),
        (valid_id("11010519490230002"), "出生日期（19490230）不存在"),
        (valid_id("11010520990101002"), "晚于今天"),
        (valid_id("99999920100101002"), "行政区划代码（999999）不存在"),
    ],
)
def test_invalid_ids_are_refused_with_the_reason(number, reason):
    with pytest.raises(schemas.IdNumberError, match=reason.replace("(", r"\(").replace(")", r"\)")):
        schemas.validate_id_number(number)


def test_only_the_gb11643_check_character_passes():
    """The MOD 11-2 check character is the only one accepted; every other fails."""
    first17 = "53280120080619749"
    right = gb11643_check(first17 + "0")
    assert schemas.validate_id_number(first17 + right) == first17 + right
    for wrong in "0123456789X":
        if wrong != right:
            with pytest.raises(schemas.IdNumberError, match="校验位错误"):
                schemas.validate_id_number(first17 + wrong)


def test_sex_and_birth_date_from_id():
    assert schemas.sex_from_id("532801200709250798") == "男"  # 17th digit 9: odd
    assert schemas.sex_from_id("532801201102226809") == "女"  # 17th digit 0: even
    assert schemas.birth_date_from_id("532801200709250798") == date(2007, 9, 25)


def roster_row(**overrides):
    number = valid_id("53280120100503123")
    row = {
        "name": "岩 罕 ",
        "sex": "男" if int(number[16]) % 2 else "女",
        "birth_date": "2010.05.03",
        "id_number": number,
        "school_code": "2153280177",
    }
    row.update(overrides)
    return {k: v for k, v in row.items() if v is not None}


def load(schema_class, raw, **kwargs):
    return schema_class(**kwargs).load(raw)


def test_roster_row_loads_clean_values():
    data = load(
        schemas.RosterRowSchema,
        roster_row(student_number="g" + valid_id("53280120100503123").lower(), boarding="住校", family_type="监测户"),
    )
    assert data["name"] == "岩罕"
    assert data["birth_date"] == date(2010, 5, 3)
    assert data["student_number"] == "G" + valid_id("53280120100503123")
    assert data["boarding"] is True
    assert data["family_type"] == (("监测户", None),)


def test_numeric_id_cell_is_refused_even_with_a_valid_checksum():
    number = valid_id("53280120100503123")
    with pytest.raises(ValidationError) as info:
        load(schemas.RosterRowSchema, roster_row(id_number=float(number)))
    assert info.value.messages == {"id_number": [schemas.NUMERIC_ID_REASON]}
    with pytest.raises(ValidationError) as info:
        load(schemas.RosterRowSchema, roster_row(id_number=int(number)))
    assert info.value.messages == {"id_number": [schemas.NUMERIC_ID_REASON]}


def test_scientific_notation_id_from_a_csv_is_refused():
    with pytest.raises(ValidationError) as info:
        load(schemas.RosterRowSchema, roster_row(id_number="5.32801E+17"))
    assert info.value.messages == {"id_number": [schemas.SCIENTIFIC_ID_REASON]}


def test_birth_date_and_sex_must_agree_with_the_id():
    with pytest.raises(ValidationError) as info:
        load(
            schemas.RosterRowSchema,
            roster_row(birth_date="2010-05-04", sex="女" if int(valid_id("53280120100503123")[16]) % 2 else "男"),
        )
    messages = info.value.messages
    assert messages["birth_date"] == ["（2010-05-04）与身份证件号中的出生日期（2010-05-03）不一致"]
    assert "与身份证件号第17位所示性别" in messages["sex"][0]


def test_g_student_number_that_differs_from_the_id_loads():
    """A G-number that differs from the (corrected) ID is not a row error: the importer
    keeps both with a warning (tests/registry/test_cases.py)."""
    differing = "G" + TEXTBOOK_ID
    assert load(schemas.RosterRowSchema, roster_row(student_number=differing))["student_number"] == differing
    assert load(schemas.RosterRowSchema, roster_row(student_number="L" + "1" * 18))["student_number"] == "L" + "1" * 18


def test_missing_name_and_school():
    with pytest.raises(ValidationError) as info:
        load(schemas.RosterRowSchema, roster_row(name=None))
    assert info.value.messages == {"name": ["不能为空"]}
    with pytest.raises(ValidationError) as info:
        load(schemas.RosterRowSchema, roster_row(school_code=None))
    assert info.value.messages == {"school_name": ["不能为空（学校标识码和学校名称至少填一项）"]}


def test_family_type_words():
    assert load(schemas.RosterRowSchema, roster_row(family_type="脱贫户、低保"))["family_type"] == (
        ("脱贫户", None),
        ("低保", None),
    )
    assert load(schemas.RosterRowSchema, roster_row(family_type="边缘易致贫户"))["family_type"] == (
        ("监测户", "边缘易致贫户"),
    )
    assert load(schemas.RosterRowSchema, roster_row(family_type="无"))["family_type"] == ()
    with pytest.raises(ValidationError, match="无法识别"):
        load(schemas.RosterRowSchema, roster_row(family_type="富裕户"))


def test_disability_certificate_gives_category_and_level():
    number = valid_id("53280120100503123")
    row = {
        "name": "于梅海",
        "id_number": number,
        "certificate_number": number + "71",
        "disability_category": "多重",
        "disability_level": "1级",
        "can_attend_school": "否",
    }
    data = load(schemas.DisabilityRowSchema, row)
    assert schemas.parse_certificate(data["certificate_number"]) == ("多重", 1)
    assert data["can_attend_school"] is False
    with pytest.raises(ValidationError) as info:
        load(schemas.DisabilityRowSchema, dict(row, disability_level="二级"))
    assert info.value.messages == {"disability_level": ["（二级）与残疾人证号第20位所示等级（1级）不一致"]}
    with pytest.raises(ValidationError) as info:
        load(schemas.DisabilityRowSchema, dict(row, certificate_number=number + "81"))
    assert "不是有效的残疾类别" in info.value.messages["certificate_number"][0]
    with pytest.raises(ValidationError) as info:
        load(schemas.DisabilityRowSchema, dict(row, certificate_number=TEXTBOOK_ID + "71"))
    assert "应为身份证件号加2位数字" in info.value.messages["certificate_number"][0]


@pytest.mark.parametrize(
    ("kind", "name"),
    [
        ("schools", "schools.csv"),
        ("roster", "roster_2021_spring.xlsx"),
        ("roster", "roster_2021_spring_menghan.csv"),
        ("status-changes", "status_changes_2021.csv"),
        ("families", "monitoring_households_2021.xlsx"),
        ("disabled", "disabled_children_2021.csv"),
    ],
)
def test_row_loader_gives_what_schema_load_gives(demo_dir, kind, name):
    """The fast loader must agree with marshmallow on every row of every sample file."""
    importer = IMPORTERS[kind]
    table = readers.read_table(demo_dir / name, name, importer.fields())
    schema = importer.schema_class()
    loader = RowLoader(schema, memoise=importer.fields() - importer.unique_fields)
    compared = 0
    for _, cells in table.rows:
        raw = {
            f: cells[i]
            for f, i in table.columns.items()
            if not (cells[i] is None or (isinstance(cells[i], str) and not cells[i].strip()))
        }
        try:
            expected = ("ok", schema.load(raw))
        except ValidationError as exc:
            expected = ("error", exc.messages)
        try:
            got = ("ok", loader.load(raw))
        except ValidationError as exc:
            got = ("error", exc.messages)
        assert got == expected
        compared += 1
    assert compared > 0


def test_long_student_number_in_a_numeric_cell_is_refused_like_the_id():
    from marshmallow import ValidationError as MarshmallowError

    field = schemas.StudentNumber()
    with pytest.raises(MarshmallowError, match="15位"):
        field.deserialize(532801201003011933.0)
