"""The placement record with the 服务协议书 and a term's session log, printed through
the letters machinery without a document number."""

import io
import re
from datetime import date, time

import pytest
import sqlalchemy as sa
from pypdf import PdfReader

from edu_guard.auth.models import AuditLog
from edu_guard.db import db
from edu_guard.homebound import schemas, services
from edu_guard.letters.models import Letter
from edu_guard.letters.schemas import LetterError
from edu_guard.letters.services import render_printable


def _text(pdf: bytes) -> str:
    return re.sub(r"\s+", "", "".join(p.extract_text() or "" for p in PdfReader(io.BytesIO(pdf)).pages))


@pytest.fixture
def placement(letters_ready, two_schools, make_placement):
    p = make_placement(two_schools[0], date(2021, 3, 1))
    p.certificate_number = "53280120130112148142"
    p.disability_category, p.disability_level = "肢体", 2
    for day in (date(2021, 3, 2), date(2021, 3, 4), date(2021, 3, 9)):
        services.log_session(p, held_on=day, starts_at=time(9), ends_at=time(11), teachers="李老师",
                             content_areas=["运动"], progress=f"{day.day}日扶站练习", guardian_confirmed=day.day != 9,
                             guardian_name="邹父")
    db.session.commit()
    return p


def test_agreement_prints_without_a_document_number(placement, make_user, login):
    client = login(make_user("clerk"))
    resp = client.get(f"/homebound/{placement.id}/agreement.pdf")
    assert resp.status_code == 200 and resp.mimetype == "application/pdf"
    text = _text(resp.data)
    for expected in ("送教上门安置记录及服务协议书", "邹天", "53280120130112148142", "肢体残疾二级", "勐罕中心小学",
                     "李老师、王老师", "景洪市设定的送教标准：每周送教2次、每次3课时", "残疾人教育条例", "乙方（监护人）", "监护人签字"):
        assert expected in text, expected
    assert "〔2021〕" not in text  # no 发文字号
    assert db.session.execute(sa.select(sa.func.count(Letter.id))).scalar() == 0
    audit = db.session.execute(sa.select(AuditLog).where(AuditLog.action == "print")).scalar_one()
    assert audit.entity == "homebound_placement" and audit.after["printed"] == "homebound_agreement"


def test_session_log_for_a_term(placement, make_user, login):
    client = login(make_user("school", school=placement.school))
    resp = client.get(f"/homebound/{placement.id}/log.pdf?from=2021-03-01&to=2021-03-07")
    assert resp.status_code == 200
    text = _text(resp.data)
    assert "送教上门记录表" in text and "2日扶站练习" in text and "4日扶站练习" in text
    assert "9日扶站练习" not in text  # outside the period
    # 7 days → 2 visits, 6 periods expected; 2 given of 3 periods each.
    assert "送教2次、6课时；按标准应送教2次、6课时" in text


def test_official_kinds_cannot_be_printed_unnumbered(placement):
    with pytest.raises(LetterError, match="须用 issue_letter"):
        render_printable("order_to_correct", {}, issuer="bureau", issued_on=date(2021, 3, 1))
    # The context of an unnumbered kind still passes its schema.
    ctx = schemas.agreement_context(placement)
    ctx.pop("teachers")
    with pytest.raises(LetterError, match="teachers"):
        render_printable("homebound_agreement", ctx, issuer="bureau", issued_on=date(2021, 3, 1))


def test_auditors_agreement_has_masked_numbers_and_only_the_birth_year(placement, make_user, login):
    """Auditors need no whole numbers (docs/security.md): the ID and the 残疾人证号 are
    masked, and the birth date that would fill the ID's stars in is cut to its year."""
    client = login(make_user("auditor"))
    resp = client.get(f"/homebound/{placement.id}/agreement.pdf")
    assert resp.status_code == 200
    text = _text(resp.data)
    child = placement.child
    assert child.id_number not in text and "53280120130112148142" not in text
    assert child.id_number[:6] + "*" * 8 + child.id_number[-4:] in text
    assert "532801**********8142" in text
    assert f"{child.birth_date.year}年" in text and f"{child.birth_date.month}月{child.birth_date.day}日" not in text
