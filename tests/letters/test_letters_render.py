"""Rendering: what the PDFs say, their layout, the locked-down fetcher, escaping and
fonts (docs/domain.md §5, docs/architecture.md)."""

from __future__ import annotations

import io
import re
from datetime import date
from decimal import Decimal

import jinja2
import pytest
from markupsafe import Markup

from edu_guard.db import db
from edu_guard.letters import render
from edu_guard.letters.fonts import FontsMissing, MissingCharacters
from edu_guard.letters.models import Letter
from edu_guard.letters.schemas import ContextError
from edu_guard.letters.services import (
    context_for_case,
    issue_letter,
    issuer_for,
    letter_pdf,
    print_run,
    record_service,
)


def _order(case, issued_on=date(2021, 3, 8), deadline=date(2021, 3, 22), **extra):
    return issue_letter(
        "order_to_correct",
        context_for_case("order_to_correct", case, deadline=deadline, **extra),
        issuer=issuer_for("order_to_correct", case),
        cases=[case],
        issued_on=issued_on,
    )


def _pdf_fonts(pdf: bytes) -> set[str]:
    from pypdf import PdfReader

    names = set()
    for page in PdfReader(io.BytesIO(pdf)).pages:
        for font in (page.get("/Resources", {}).get("/Font", {}) or {}).values():
            names.add(str(font.get_object()["/BaseFont"]).split("+", 1)[-1])
    return names


def test_order_to_correct_says_who_what_and_when(make_case, pdf_pages, pdf_text):
    case = make_case(name="玉香", guardian="岩温", township="嘎洒镇", school="景洪市第三中学")
    letter = _order(case)
    pdf = letter_pdf(letter)
    pages = pdf_pages(pdf)
    text = "".join(pages)
    assert letter.doc_number == "嘎洒政责改〔2021〕1号"
    assert pages[0].startswith("嘎洒镇人民政府责令限期改正通知书嘎洒政责改〔2021〕1号岩温：")
    for needle in (
        "玉香（女，2009年5月1日出生）系景洪市第三中学七年级学生",
        "自2021年3月1日起未到校接受义务教育",
        "你是玉香的父亲",
        "《中华人民共和国义务教育法》第五条第二款",
        "《中华人民共和国未成年人保护法》第十六条",
        "第十七条",
        "依据《中华人民共和国义务教育法》第五十八条的规定，现责令你于2021年3月22日前将玉香送回景洪市第三中学就读",
        "景洪市教育体育局将依照《云南省义务教育条例》第四十二条的规定",
        "嘎洒镇人民政府2021年3月8日",
    ):
        assert needle in text, needle
    # The 送达回证 on a page of its own, last.
    slip = pages[-1]
    assert slip.startswith("嘎洒镇人民政府送达回证")
    for needle in ("《责令限期改正通知书》嘎洒政责改〔2021〕1号", "受送达人岩温", f"送达地点{case.child.address}", "□直接送达", "□公告送达", "送达人签名"):
        assert needle in slip, needle
    assert sum("送达回证" in p for p in pages) == 1


def test_every_kind_through_the_four_steps(make_case, pdf_text):
    """The whole chain for one case, each letter built from the case and the one
    before it, served in turn; then the 劝返联系函 listing three children."""
    case = make_case(name="玉香", guardian="岩温")
    order = _order(case)
    record_service(order, date(2021, 3, 9), "直接送达", "岩温", "张三、李四")

    notice = issue_letter("penalty_notice", context_for_case("penalty_notice", case, fine=Decimal("200")),
                          issuer="bureau", cases=[case], issued_on=date(2021, 3, 25))
    text = pdf_text(letter_pdf(notice))
    assert notice.doc_number == "景教体罚告〔2021〕1号"
    for needle in ("当事人：岩温，系玉香的父亲", "2021年3月9日向你送达《责令限期改正通知书》（嘎洒政责改〔2021〕1号）",
                   "于2021年3月22日前送玉香返校就读", "依据《云南省义务教育条例》第四十二条的规定",
                   "罚款人民币200.00元（大写：贰佰元整）", "第四十四条、第四十五条", "收到本告知书之日起三个工作日内",
                   "第六十三条、第六十四条", "收到本告知书之日起五个工作日内", "景洪市教育体育局2021年3月25日"):
        assert needle in text, needle
    record_service(notice, date(2021, 3, 26), "直接送达", "岩温", "张三、李四")

    decision = issue_letter("penalty_decision", context_for_case("penalty_decision", case, statement="当事人在规定期限内未提出陈述、申辩，也未要求听证。"),
                            issuer="bureau", cases=[case], issued_on=date(2021, 4, 6))
    text = pdf_text(letter_pdf(decision))
    for needle in ("景教体罚决〔2021〕1号", "《行政处罚告知书》（景教体罚告〔2021〕1号）", "2021年3月26日",
                   "罚款人民币200.00元（大写：贰佰元整）。", "收到本决定书之日起十五日内", "每日按罚款数额的百分之三加处罚款",
                   "第七十二条", "六十日内向景洪市人民政府申请行政复议", "六个月内向景洪市人民法院提起行政诉讼", "不停止执行"):
        assert needle in text, needle
    record_service(decision, date(2021, 4, 7), "留置送达", "岩温", "张三、李四")

    demand = issue_letter("demand", context_for_case("demand", case, as_of=date(2021, 4, 30)),
                          issuer="bureau", cases=[case], issued_on=date(2021, 10, 20))
    text = pdf_text(letter_pdf(demand))
    # Due 2021-04-22 (served 04-07 + 15 days): 8 days late by 04-30, 3 % a day of 200 = 48.
    for needle in ("景教体催告〔2021〕1号", "于2021年4月6日作出《行政处罚决定书》（景教体罚决〔2021〕1号）",
                   "已于2021年4月7日送达你", "加处罚款人民币48.00元", "共计人民币248.00元", "（大写：贰佰肆拾捌元整）",
                   "第三十五条、第五十四条", "收到本催告书之日起十个工作日内", "第三十六条", "向景洪市人民法院申请强制执行"):
        assert needle in text, needle
    record_service(demand, date(2021, 10, 21), "直接送达", "岩温", "张三")

    application = issue_letter(
        "enforcement_application",
        context_for_case("enforcement_application", case, as_of=date(2021, 4, 30), representative="刘强",
                         applicant_address="景洪市宣慰大道1号"),
        issuer="bureau", cases=[case], issued_on=date(2021, 11, 2),
    )
    text = pdf_text(letter_pdf(application))
    for needle in ("强制执行申请书景教体强执申〔2021〕1号", "申请人：景洪市教育体育局", "负责人：刘强，局长", "被申请人：岩温",
                   "罚款人民币200.00元及加处罚款人民币48.00元，共计人民币248.00元", "《催告书》（景教体催告〔2021〕1号）",
                   "2021年10月21日", "第五十三条、第五十四条、第五十五条", "此致景洪市人民法院", "2021年11月2日"):
        assert needle in text, needle

    others = [make_case(name="岩罕", guardian="玉南", sex="男"), make_case(name="王芳", guardian="王建国")]
    contact = issue_letter(
        "return_contact",
        context_for_case("return_contact", [case, *others], reply_by=date(2021, 3, 20), contact_person="李明",
                         contact_phone="0691-2123456"),
        issuer="bureau", cases=[case, *others], issued_on=date(2021, 3, 5),
    )
    text = pdf_text(letter_pdf(contact))
    assert contact.doc_number == "景教体函〔2021〕1号"
    for needle in ("景洪市教育体育局景教体函〔2021〕1号关于协助做好适龄儿童少年劝返复学工作的函嘎洒镇人民政府：",
                   "你镇有下列3名适龄儿童、少年", "第十三条", "请于2021年3月20日前将劝返情况书面反馈我局",
                   "附件：未入学（辍学）适龄儿童少年名单", "（联系人：李明，联系电话：0691-2123456）"):
        assert needle in text, needle
    for c in (case, *others):
        assert c.child.name in text
        assert f"532801********{c.child.id_number[-4:]}" in text
        assert c.child.id_number not in text
    assert "送达回证" not in text


def test_many_letters_in_one_pdf_each_start_a_page(make_case, pdf_pages):
    letters = [_order(make_case(name=f"学生{i}", guardian=f"家长{i}")) for i in range(4)]
    singles = [pdf_pages(letter_pdf(l)) for l in letters]
    pages = pdf_pages(print_run(letters))
    assert len(pages) == sum(len(s) for s in singles)
    starts = [i for i, p in enumerate(pages) if "责令限期改正通知书" in p[:20]]
    assert [pages[i][len("嘎洒镇人民政府责令限期改正通知书"):][:len(l.doc_number)] for i, l in zip(starts, letters)] == [l.doc_number for l in letters]
    offset = 0
    for letter, single in zip(letters, singles):
        assert pages[offset:offset + len(single)] == single
        offset += len(single)


def test_page_numbers_restart_with_each_letter(make_case, pdf_pages):
    case = make_case()
    contact = issue_letter("return_contact", context_for_case("return_contact", case, reply_by=date(2021, 3, 20)),
                           issuer="bureau", cases=[case], issued_on=date(2021, 3, 5))
    order = _order(case)
    pages = pdf_pages(print_run([contact, order, order]))
    numbers = [re.findall(r"—(\d+)—", p) for p in pages]
    n_contact = len(pdf_pages(letter_pdf(contact)))
    # 信函格式: no number on page 1; then 2, 3 …
    assert numbers[0] == []
    assert [n for page in numbers[1:n_contact] for n in page] == [str(i) for i in range(2, n_contact + 1)]
    # Each order: — 1 — on its first page, — 2 — on its second, none on its 送达回证.
    rest = numbers[n_contact:]
    assert rest == [["1"], ["2"], [], ["1"], ["2"], []]


def test_the_grid_is_22_lines_of_28_characters(letters_ready):
    """GB/T 9704: 156 × 225 mm type area, 3号 仿宋, 22 lines of 28 characters."""
    import subprocess

    env = render.letters_env()
    body = "永" * (28 * 30)
    html = env.get_template("letters/_base.html").render(
        fragments=[Markup(f'<section class="letter doc"><p class="flush">{body}</p></section>')],
        doc_title="grid",
        font_face_css=Markup(render.letter_fonts().font_face_css()),
    )
    pdf = render.html_to_pdf(html)
    out = subprocess.run(["pdftotext", "-f", "1", "-l", "1", "-layout", "-", "-"], input=pdf, capture_output=True, check=True).stdout.decode()
    lines = [line.strip() for line in out.splitlines() if "永" in line]
    assert lines == ["永" * 28] * 22


def test_the_fetcher_serves_only_our_css_and_fonts(letters_ready, tmp_path):
    secret = tmp_path / "secret.css"
    secret.write_text("body { color: red }")
    fetcher = render.make_url_fetcher()
    html = f"""<html><head>
      <link rel="stylesheet" href="gbt9704.css">
      <link rel="stylesheet" href="{secret.as_uri()}">
      <link rel="stylesheet" href="http://example.com/evil.css">
      <style>@import url("https://example.com/import.css"); body {{ background: url("file:///etc/passwd") }}</style>
      </head><body><p>正文</p><img src="http://example.com/x.png"><img src="file:///etc/hostname">
      <img src="data:image/png;base64,iVBORw0KGgo="><img src="../../edu_guard/config.py"></body></html>"""
    render.html_to_pdf(html, url_fetcher=fetcher)
    assert fetcher.fetched == [(render.LETTER_TEMPLATE_DIR / "gbt9704.css").as_uri()]
    refused = set(fetcher.refused)
    for url in (secret.as_uri(), "http://example.com/evil.css", "https://example.com/import.css", "file:///etc/passwd",
                "http://example.com/x.png", "file:///etc/hostname"):
        assert url in refused, url
    assert any(u.startswith("data:") for u in refused)
    assert any(u.endswith("edu_guard/config.py") for u in refused)
    # Only stylesheets, fonts and SVG inside the two folders, and nothing that climbs out.
    assert fetcher.local_path((render.LETTER_TEMPLATE_DIR / "_base.html").as_uri()) is None
    assert fetcher.local_path(render.LETTER_TEMPLATE_DIR.as_uri() + "/../../edu_guard/static/app.css") is None
    assert fetcher.local_path(render.letter_fonts().files["serif"].as_uri()) is not None


def test_user_text_is_escaped_and_nothing_is_fetched(make_case, pdf_text, monkeypatch):
    evil = '<img src="http://example.com/x.png">'
    case = make_case(name=evil, guardian="岩温")
    fetchers = []

    def spy(app=None):
        fetchers.append(real(app))
        return fetchers[-1]

    real = render.make_url_fetcher
    monkeypatch.setattr(render, "make_url_fetcher", spy)
    letter = _order(case)
    html = render.render_html([render.PrintItem(letter.kind, letter.context, letter.doc_number)])
    assert "<img" not in html
    assert "&lt;img src=&#34;http://example.com/x.png&#34;&gt;" in html
    text = pdf_text(letter_pdf(letter))
    assert '<imgsrc="http://example.com/x.png">' in text
    assert fetchers and all(f.refused == [] for f in fetchers)
    assert all(u.startswith("file://") and not u.startswith("file://example") for f in fetchers for u in f.fetched)


def test_a_character_no_font_has_is_reported_before_printing(make_case):
    case = make_case(name="李𪛖", guardian="李明")
    with pytest.raises(MissingCharacters) as excinfo:
        _order(case)
    message = str(excinfo.value)
    assert "李𪛖" in message and "“𪛖”" in message and "U+2A6D6" in message and "child.name" in message
    assert db.session.execute(db.select(Letter)).first() is None
    # No number was used: the next letter is still number 1.
    assert _order(make_case(name="玉香")).doc_number == "嘎洒政责改〔2021〕1号"


def test_a_character_outside_the_subset_prints_from_the_system_font(make_case, pdf_text):
    assert 0x5803 not in render.letter_fonts().coverage  # 堃 is not in GB2312
    letter = _order(make_case(name="王堃", guardian="王建国"))
    pdf = letter_pdf(letter)
    assert "王堃" in pdf_text(pdf)
    fonts = _pdf_fonts(pdf)
    assert any(name.startswith("Noto-Serif-CJK-SC") for name in fonts), fonts
    assert any(name.startswith("EduGuard-Serif-SC") for name in fonts), fonts


def test_plain_letters_use_only_the_subset_fonts(make_case):
    fonts = _pdf_fonts(letter_pdf(_order(make_case())))
    assert fonts and all(name.startswith("EduGuard-") for name in fonts), fonts


def test_printing_refuses_without_a_chinese_font(make_case, tmp_path, monkeypatch):
    case = make_case()
    empty = tmp_path / "fonts.conf"
    empty.write_text('<?xml version="1.0"?>\n<!DOCTYPE fontconfig SYSTEM "fonts.dtd">\n<fontconfig></fontconfig>\n')
    monkeypatch.setenv("FONTCONFIG_FILE", str(empty))
    from flask import current_app

    current_app.extensions.pop(render.EXT_FONTS, None)
    with pytest.raises(FontsMissing, match=r"apt-get install fonts-noto-cjk"):
        _order(case)
    assert db.session.execute(db.select(Letter)).first() is None


def test_undefined_template_variables_fail(letters_ready):
    env = render.letters_env()
    with pytest.raises(jinja2.UndefinedError):
        env.from_string("{{ child.nickname }}").render(child={"name": "玉香"})


def test_a_stored_context_missing_a_field_stops_the_run_before_weasyprint(make_case, monkeypatch):
    good = _order(make_case(name="玉香"))
    bad = _order(make_case(name="岩罕"))
    context = dict(bad.context)
    del context["deadline"]
    bad.context = context
    db.session.flush()

    def no_weasyprint(*args, **kwargs):  # pragma: no cover - must not be reached
        raise AssertionError("WeasyPrint started")

    monkeypatch.setattr(render, "_write_pdf", no_weasyprint)
    with pytest.raises(ContextError, match="deadline") as excinfo:
        print_run([good, bad])
    assert bad.doc_number in str(excinfo.value)


def test_a_stored_letter_prints_again_byte_for_byte(make_case):
    import hashlib

    letter = _order(make_case())
    data = letter_pdf(letter)
    assert hashlib.sha256(data).hexdigest() == letter.sha256
    assert print_run([letter]) == data


@pytest.mark.parametrize("workers", [1, 2])
def test_long_runs_are_laid_out_in_chunks(make_case, pdf_pages, workers, monkeypatch):
    from flask import current_app

    pools = []
    real_pool = render.ProcessPoolExecutor

    def spy_pool(*args, **kwargs):
        pools.append(kwargs.get("max_workers"))
        return real_pool(*args, **kwargs)

    monkeypatch.setattr(render, "ProcessPoolExecutor", spy_pool)
    letters = [_order(make_case(name=f"学生{i}")) for i in range(7)]
    whole = pdf_pages(print_run(letters))
    current_app.config.update(EDU_GUARD_PRINT_CHUNK=2, EDU_GUARD_PRINT_WORKERS=workers)
    done = []
    chunked = pdf_pages(print_run(letters, progress=lambda n, total: done.append((n, total))))
    assert chunked == whole
    # Four balanced chunks (2, 2, 2, 1); with two workers they run in two processes.
    assert done == [(2, 7), (4, 7), (6, 7), (7, 7)]
    assert pools == ([] if workers == 1 else [2])
