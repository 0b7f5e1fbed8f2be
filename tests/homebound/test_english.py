"""送教上门 on English pages (issue 10 §5): refusals raised in the services read in the
page's language, the norm's label on the compliance pages is translated, and the printed
agreement stays Chinese.

The tests share one app context with their requests, where Flask-Babel keeps the locale it
chose: :func:`flask_babel.refresh` forgets it when a test changes the language."""

import io
import re
from datetime import date, time

import sqlalchemy as sa
from flask_babel import refresh
from pypdf import PdfReader

from edu_guard.db import db
from edu_guard.homebound import services
from edu_guard.homebound.models import HomeboundSession


def _session(client, placement, lang, **fields):
    data = {"held_on": "2021-03-02", "starts_at": "09:00", "ends_at": "11:00", "teachers": "李老师",
            "content_areas": ["认知"], "progress": "好", **fields}
    refresh()
    return client.post(f"/homebound/{placement.id}/sessions?lang={lang}", content_type="multipart/form-data",
                       data=data, follow_redirects=True).text


def test_refusals_read_in_the_page_language(two_schools, make_placement, make_user, login):
    placement = make_placement(two_schools[0], date(2021, 3, 1), ends_on=date(2021, 6, 30))
    client = login(make_user("school", school=two_schools[0]))
    english = _session(client, placement, "en", attachments=(io.BytesIO(b"GIF89a..."), "photo.png"))
    assert "The attachment photo.png is not a JPG, PNG or PDF file (judged by its content)" in english
    chinese = _session(client, placement, "zh", attachments=(io.BytesIO(b"GIF89a..."), "photo.png"))
    assert "附件 photo.png 不是 JPG、PNG 或 PDF 文件（按文件内容判断）" in chinese
    english = _session(client, placement, "en", held_on="2021-07-02")
    assert "2021-07-02 is outside the placement period (2021-03-01–2021-06-30)" in english
    english = _session(client, placement, "en", starts_at="11:00", ends_at="09:00")
    assert "The end time 09:00 must be later than the start time 11:00" in english  # a NormError of the rules
    assert db.session.execute(sa.select(sa.func.count(HomeboundSession.id))).scalar() == 0


def _placement_with_a_session(two_schools, make_placement, make_user, login):
    """A placement from 1 March 2021 with a session on 2 March, and a clerk signed in."""
    placement = make_placement(two_schools[0], date(2021, 3, 1))
    services.log_session(placement, held_on=date(2021, 3, 2), starts_at=time(9), ends_at=time(11), teachers="李老师",
                         content_areas=["认知"], progress="好", guardian_confirmed=True, guardian_name="父")
    db.session.commit()
    return placement, login(make_user("clerk"))


def test_norm_label_translated_and_agreement_stays_chinese(letters_ready, two_schools, make_placement, make_user, login):
    placement, client = _placement_with_a_session(two_schools, make_placement, make_user, login)
    refresh()
    page = client.get("/homebound/compliance?from=2021-03-01&to=2021-03-07&lang=en").text
    assert "2 visits a week, 3 class periods each" in page and "每周送教2次" not in page
    refresh()
    detail = client.get(f"/homebound/{placement.id}?lang=en").text
    assert "2 visits a week, 3 class periods each" in detail
    refresh()
    assert "每周送教2次、每次3课时" in client.get("/homebound/compliance?from=2021-03-01&to=2021-03-07&lang=zh").text
    refresh()
    pdf = client.get(f"/homebound/{placement.id}/agreement.pdf?lang=en").data
    text = re.sub(r"\s+", "", "".join(p.extract_text() or "" for p in PdfReader(io.BytesIO(pdf)).pages))
    assert "景洪市设定的送教标准：每周送教2次、每次3课时" in text and "visits" not in text


def test_a_chosen_period_is_named_in_the_page_language_and_the_log_stays_chinese(letters_ready, two_schools,
                                                                                   make_placement, make_user, login):
    placement, client = _placement_with_a_session(two_schools, make_placement, make_user, login)
    refresh()
    assert "(2021-03-01 to 2021-03-07)" in client.get("/homebound/compliance?from=2021-03-01&to=2021-03-07&lang=en").text
    refresh()
    assert "（2021-03-01至2021-03-07）" in client.get("/homebound/compliance?from=2021-03-01&to=2021-03-07&lang=zh").text
    refresh()
    pdf = client.get(f"/homebound/{placement.id}/log.pdf?from=2021-03-01&to=2021-03-07&lang=en").data
    text = re.sub(r"\s+", "", "".join(p.extract_text() or "" for p in PdfReader(io.BytesIO(pdf)).pages))
    assert "2021-03-01至2021-03-07" in text and " to " not in text


def test_the_disability_category_and_level_read_in_english(two_schools, make_placement, make_user, login):
    placement = make_placement(two_schools[0], date(2021, 3, 1))
    placement.disability_category, placement.disability_level = "视力", "1"
    db.session.commit()
    client = login(make_user("clerk"))
    refresh()
    english = client.get(f"/homebound/{placement.id}?lang=en").text
    assert "visual, level 1" in english and "视力" not in english and "(level)" not in english
    refresh()
    assert "visual, level 1" in client.get("/homebound?lang=en").text
    refresh()
    assert "视力 1级" in client.get(f"/homebound/{placement.id}?lang=zh").text


def test_the_terms_name_reads_in_the_page_language(app, app_ctx):
    from edu_guard.aid.models import Term

    assert services.term_of(date(2021, 3, 2))[2] == "2020-2021学年第二学期"  # no term recorded: the school year's
    db.session.add(Term(code="2021-spring", name="2021年春季学期", start=date(2021, 3, 1), end=date(2021, 7, 9),
                        school_days=90))
    db.session.commit()
    label = services.term_of(date(2021, 3, 2))[2]
    assert label == "2021年春季学期"
    with app.test_request_context("/?lang=en"):
        refresh()
        assert str(label) == "Spring term 2021"
        assert str(services.term_of(date(2021, 10, 8))[2]) == "2021-2022 school year, first term"


def test_the_placement_form_names_the_disability_in_the_page_language(county, make_user, login):
    candidate = next(c for c in services.candidates(date(2021, 3, 1)) if c.category and c.level)
    client = login(make_user("clerk"))
    refresh()
    english = client.get(f"/homebound/place/{candidate.key}?on=2021-03-01&lang=en").text
    category = {"视力": "visual", "听力": "hearing", "言语": "speech", "肢体": "physical", "智力": "intellectual",
                "精神": "mental", "多重": "multiple"}[candidate.category]
    assert f"{category} disability, level {candidate.level}" in english.replace("\u202f", " ")
    refresh()
    chinese = client.get(f"/homebound/place/{candidate.key}?on=2021-03-01&lang=zh").text
    assert f"{candidate.category}残疾{candidate.level}级" in chinese
