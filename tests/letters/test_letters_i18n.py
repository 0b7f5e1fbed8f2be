"""What the letters' services say to a user reads in the page's language — a print
run's summary and failure (stored by the worker, shown in a later request), a letter's
incomplete content — while the letters themselves stay Chinese on an English page:
they are official documents."""

from __future__ import annotations

from datetime import date

from edu_guard.db import db
from edu_guard.letters.fonts import MissingCharacters
from edu_guard.letters.schemas import ContextError
from edu_guard.letters.services import context_for_case, issue_letter, issuer_for
from edu_guard.testing import speak


def _order(case):
    return issue_letter("order_to_correct", context_for_case("order_to_correct", case, deadline=date(2021, 3, 22)),
                        issuer=issuer_for("order_to_correct", case), cases=[case], issued_on=date(2021, 3, 8))


def test_a_print_run_s_summary_is_shown_in_the_reader_s_language(client, login, make_case, make_user, pdf_pages):
    letters = [_order(make_case(name=f"学生{i}", guardian=f"家长{i}")) for i in range(2)]
    db.session.commit()
    login(make_user("clerk"))
    speak(client, "zh")
    resp = client.post("/letters/print", data={"letter_id": [letters[0].id, letters[1].id]})
    job_id = int(resp.location.rsplit("/", 1)[1])
    assert "已生成 2 份文书的 PDF，可下载打印" in client.get(f"/jobs/{job_id}").text
    db.session.expire_all()
    speak(client, "en")
    page = client.get(f"/jobs/{job_id}").text
    assert "The PDF of 2 letters is ready to download and print" in page and "已生成" not in page
    # The letters printed stay Chinese, whatever the language of the page that asked.
    pdf = client.get(f"/jobs/{job_id}/file")
    pages = pdf_pages(pdf.data)
    pdf.close()
    assert sum("责令限期改正通知书" in p[:20] for p in pages) == 2  # each letter (and its 送达回证)
    assert not any("Order" in p or "order to correct" in p for p in pages)
    stored = client.get(f"/letters/{letters[0].id}.pdf")
    text = "".join(pdf_pages(stored.data))
    stored.close()
    assert "责令限期改正通知书" in text and letters[0].doc_number in text and "Order" not in text


def test_a_print_run_s_failure_is_shown_in_the_reader_s_language(client, login, make_case, make_user, monkeypatch):
    letter = _order(make_case())
    db.session.commit()
    login(make_user("clerk"))

    def unprintable(letters, progress=None):
        raise MissingCharacters([("玉香", "child.name", "\ue000")])

    from edu_guard.letters import services

    monkeypatch.setattr(services, "print_run", unprintable)
    speak(client, "zh")
    resp = client.post("/letters/print", data={"letter_id": [letter.id]})
    job_id = int(resp.location.rsplit("/", 1)[1])
    assert "以下文字含有无法打印的字符" in client.get(f"/jobs/{job_id}").text
    db.session.expire_all()
    speak(client, "en")
    page = client.get(f"/jobs/{job_id}").text
    assert "The following text has characters that cannot be printed" in page
    assert "is in none of the fonts installed on this machine and cannot be printed" in page
    assert "以下文字" not in page


def test_an_incomplete_letter_reads_in_the_language_of_the_page(app):
    error = ContextError("order_to_correct", {"deadline": ["Missing data for required field."],
                                              "child": {"name": ["Field may not be null."]}})
    assert str(error) == "《责令限期改正通知书》的内容不完整或有误：\ndeadline：缺少必填项\nchild.name：不能为空"
    with app.test_request_context("/?lang=en"):
        assert str(error).splitlines() == ["The content of “责令限期改正通知书” is incomplete or wrong:",
                                           "deadline: required item missing", "child.name: must not be empty"]
