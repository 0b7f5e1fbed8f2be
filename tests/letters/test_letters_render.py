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


def _word_boxes(pdf: bytes) -> list[tuple[float, str]]:
    """``(xMin in pt, word)`` of every word of the PDF, from ``pdftotext -bbox``."""
    import html
    import subprocess

    out = subprocess.run(["pdftotext", "-bbox", "-", "-"], input=pdf, capture_output=True, check=True).stdout.decode()
    return [(float(x), html.unescape(w)) for x, w in re.findall(r'<word xMin="([\d.]+)"[^>]*>([^<]*)</word>', out)]


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
    # GB/T 9704 7.3.4: with several attachments the numbers stand one under the other:
    # "附件：1. …" then "2." … "4." under the "1.", three 3号 characters (16 pt) after "附件"
    starts = {w[:2]: x for x, w in _word_boxes(letter_pdf(application))
              if re.match(r"^[2-4]\.", w) or w.startswith("附件：1.")}
    numbers = [starts[f"{n}."] for n in range(2, 5)]
    assert abs(starts["附件"] - (28 / 25.4 * 72 + 2 * 16)) < 1, starts  # 左空二字 from the type area's edge
    assert max(numbers) - min(numbers) < 0.5, starts
    assert abs(numbers[0] - (starts["附件"] + 3 * 16)) < 1, starts

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
    )
    pdf = render.html_to_pdf(html)
    out = subprocess.run(["pdftotext", "-f", "1", "-l", "1", "-layout", "-", "-"], input=pdf, capture_output=True, check=True).stdout.decode()
    lines = [line.strip() for line in out.splitlines() if "永" in line]
    assert lines == ["永" * 28] * 22


def test_the_fetcher_serves_only_our_css(letters_ready, tmp_path):
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
    # Only stylesheets and SVG inside templates/letters/, and nothing that climbs out;
    # no font files (the letters' fonts come from the system, through fontconfig).
    assert fetcher.local_path((render.LETTER_TEMPLATE_DIR / "_base.html").as_uri()) is None
    assert fetcher.local_path(render.LETTER_TEMPLATE_DIR.as_uri() + "/../../edu_guard/static/app.css") is None
    assert fetcher.local_path((render.LETTER_TEMPLATE_DIR / "han-first-page.svg").as_uri()) is not None


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


def _postscript_name(font) -> str:
    """The PostScript name of an embedded font (``FandolSong-Bold``), read from the font
    program itself: WeasyPrint's ``/BaseFont`` names only the family (``FandolSong``)."""
    from fontTools.ttLib import TTFont

    descendant = font["/DescendantFonts"][0].get_object() if "/DescendantFonts" in font else font
    descriptor = descendant["/FontDescriptor"].get_object()
    for key in ("/FontFile3", "/FontFile2"):
        if key in descriptor:
            program = TTFont(io.BytesIO(descriptor[key].get_object().get_data()))
            name = program["name"].getDebugName(6) if "name" in program else None
            if name:
                return name
    return str(font["/BaseFont"]).split("+", 1)[-1]


def _text_by_font(pdf: bytes) -> dict[str, str]:
    """The text of a PDF by the font that draws it (its PostScript name), read back with
    pypdf's text visitor."""
    from pypdf import PdfReader

    out: dict[str, list[str]] = {}
    names: dict[str, str] = {}  # "/WMQLCF+FandolSong" (unique per embedded font) → PostScript name
    for page in PdfReader(io.BytesIO(pdf)).pages:
        def visit(text, cm, tm, font, size):
            if font and text.strip():
                key = str(font["/BaseFont"])
                if key not in names:
                    names[key] = _postscript_name(font)
                name = names[key]
                out.setdefault(name, []).append(text)
        page.extract_text(visitor_text=visit)
    return {name: re.sub(r"\s+", "", "".join(parts)) for name, parts in out.items()}


def _free_faces_expected():
    """Skip on a machine with a commercial 仿宋/小标宋 (the stacks then pick it, rightly)."""
    from edu_guard.letters.fonts import BODY_FACES, TITLE_FACES, face_for

    if face_for(BODY_FACES) != "FandolFang" or face_for(TITLE_FACES) != "Noto Serif CJK SC":
        pytest.skip("a commercial 仿宋 or 小标宋 is installed; the free faces are not the first choice here")


def test_the_body_is_set_in_fandolfang_and_titles_in_noto_serif_bold(make_case):
    """GB/T 9704-2012 7.3.1/7.3.3/7.5: titles in 小标宋, body in 仿宋, page numbers in 宋体.
    Without the commercial faces the stacks fall to the free ones tools/system-packages.sh
    installs: FandolFang for the body, Noto Serif CJK SC Bold (the stated substitute for
    小标宋) for the titles, Noto Serif CJK SC for 宋体. The font programs embedded in the
    PDF say which face drew which text."""
    _free_faces_expected()
    case = make_case(name="玉香", guardian="岩温")
    by_font = _text_by_font(letter_pdf(_order(case)))
    assert set(by_font) == {"FandolFang-Regular", "NotoSerifCJKsc-Bold", "NotoSerifCJKsc-Regular"}, by_font.keys()
    # the issuer's name and the document's name (小标宋), and the slip's title
    assert by_font["NotoSerifCJKsc-Bold"] == "嘎洒镇人民政府责令限期改正通知书送达回证"
    body = by_font["FandolFang-Regular"]
    assert "岩温" in body and "玉香" in body and "2021年3月22日" in body and "嘎洒政责改〔2021〕1号" in body
    # the page numbers of the two pages of the 通知书 (the 送达回证 has none)
    assert by_font["NotoSerifCJKsc-Regular"] == "—1——2—"


def test_a_character_fandolfang_lacks_prints_from_noto(make_case, pdf_text):
    """堃 is in neither GB2312 nor FandolFang: Pango falls back to Noto Serif CJK SC for
    that one character (the last family of the stack); the rest stays 仿宋."""
    _free_faces_expected()
    pdf = letter_pdf(_order(make_case(name="王堃", guardian="王建国")))
    assert "王堃" in pdf_text(pdf)
    by_font = _text_by_font(pdf)
    assert "堃" in by_font["NotoSerifCJKsc-Regular"] and "堃" not in by_font["FandolFang-Regular"]
    assert "王建国" in by_font["FandolFang-Regular"]


def test_the_font_stacks_of_the_stylesheet_are_the_ones_init_reports():
    """``edu-guard init`` names the faces from fonts.BODY_FACES/TITLE_FACES; the stylesheet
    must name the same families in the same order (body, then titles)."""
    from edu_guard.letters.fonts import BODY_FACES, TITLE_FACES

    css = (render.LETTER_TEMPLATE_DIR / "gbt9704.css").read_text(encoding="utf-8")
    stacks = [[f.strip().strip('"') for f in m.split(",")] for m in re.findall(r"font-family:([^;]*);", css)]
    assert BODY_FACES.split(",") + ["Noto Serif CJK SC", "serif"] in stacks
    assert TITLE_FACES.split(",") + ["serif"] in stacks
    assert not any("Fandol" in face and face != "FandolFang" and "Song" in face for stack in stacks for face in stack)


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


def _dash_rows_mm(pdf: bytes, page: int, right_half: bool, folder) -> list[float]:
    """The rows (mm from the top of the page) of the longest horizontal ink run in the
    bottom margin of ``page``: the 一字线 of the page number, read from the pixels."""
    import subprocess

    from PIL import Image

    dpi = 600
    source = folder / "letter.pdf"
    source.write_bytes(pdf)
    subprocess.run(["pdftoppm", "-r", str(dpi), "-f", str(page), "-l", str(page), "-gray", "-png", "-singlefile",
                    str(source), str(folder / "page")], check=True)
    image = Image.open(folder / "page.png").convert("L")
    width, height = image.size
    px_per_mm = dpi / 25.4
    top = int((297 - 35) * px_per_mm)  # the bottom edge of the type area
    pixels = image.load()
    xs = range(width // 2, width) if right_half else range(0, width // 2)
    runs = {}
    for y in range(top, height):
        best = run = 0
        for x in xs:
            run = run + 1 if pixels[x, y] < 128 else 0
            best = max(best, run)
        runs[y] = best
    longest = max(runs.values())
    assert longest > 2 * px_per_mm  # a dash of a 4号 character (≈ 4.9 mm) is there
    return [y / px_per_mm for y, n in runs.items() if n >= longest * 0.9]


def test_the_page_number_dash_is_7mm_below_the_type_area(letters_ready, tmp_path):
    """GB/T 9704 7.5: the 一字线 of the page number lies 7 mm below the type area's
    lower edge (the type area ends 35 mm above the bottom of the A4 page)."""
    env = render.letters_env()
    body = "永" * (28 * 30)  # 30 lines: two pages, numbered — 1 — (right) and — 2 — (left)
    html = env.get_template("letters/_base.html").render(
        fragments=[Markup(f'<section class="letter doc"><p class="flush">{body}</p></section>')],
        doc_title="page numbers",
    )
    pdf = render.html_to_pdf(html)
    for page, right in ((1, True), (2, False)):
        rows = _dash_rows_mm(pdf, page, right, tmp_path)
        below = sum(rows) / len(rows) - (297 - 35)
        assert abs(below - 7) <= 0.5, (page, below)


def _closing_test_html(body_chars: int) -> str:
    body = "永" * body_chars
    fragment = Markup(
        f'<section class="letter doc"><div class="body"><p>{body}</p><p>特此通知。</p></div>'
        '<div class="signature"><div class="seal-area" style="width: 6.5em"><div class="signer">景洪市教育体育局</div>'
        '<div class="date">2021年3月8日</div></div></div></section>')
    return render.letters_env().get_template("letters/_base.html").render(
        fragments=[fragment], doc_title="closing")


def test_the_signature_is_brought_back_to_the_text_by_tighter_spacing(letters_ready, pdf_pages):
    """GB/T 9704 7.3.5.1: a page holding only the closing phrase and the signature is
    avoided by adjusting line and character spacing, when that can bring them back."""
    from weasyprint import HTML

    # 500 characters: 18 lines of 28 (the first indented two), the closing phrase on
    # line 19 and the signature (a free line, issuer, date, a free line) do not fit in
    # 22 lines; at 23–24 lines a page and 29 characters a line they do.
    html = _closing_test_html(500)
    plain = HTML(string=html, base_url=render.LETTER_TEMPLATE_DIR.as_uri() + "/",
                 url_fetcher=render.make_url_fetcher()).render()
    assert len(plain.pages) == 2  # the normal grid: page 2 would hold 特此通知。 and the seal alone
    pages = [re.sub(r"—\d+—", "", p) for p in pdf_pages(render.html_to_pdf(html))]  # without the page numbers
    assert len(pages) == 1
    assert pages[0].endswith("特此通知。景洪市教育体育局2021年3月8日")
    # 590 characters: even the tightest spacing leaves them on page 2, so the letter
    # keeps the normal grid (the closing phrase stays with the seal, never 此页无正文)
    pages = [re.sub(r"—\d+—", "", p) for p in pdf_pages(render.html_to_pdf(_closing_test_html(590)))]
    assert len(pages) == 2 and pages[1] == "特此通知。景洪市教育体育局2021年3月8日"
    assert pages[0].count("永") == 590  # 22 lines of the normal grid (26 + 20 × 28 + 4)


def test_a_real_letter_keeps_its_closing_and_signature_with_the_text(make_case, pdf_pages):
    """GB/T 9704-2012 7.3.5.1 on a real 责令限期改正通知书: long names (a 128-character
    school, a 127-character court, a 107-character review body) make its text end on the
    last lines of page 2, so the normal 22-line grid puts "特此通知。" and the signature
    alone on page 3 (checked below on the plain layout). Printed,
    the tighter spacing brings them back to page 2: no page of the letter starts with
    the closing phrase."""
    from weasyprint import HTML

    school = "景洪市嘎洒镇" + "曼" * 120 + "小学"
    case = make_case(name="玉香", guardian="岩温", school=school)
    context = context_for_case("order_to_correct", case, deadline=date(2021, 3, 22))
    context["court"] = "景洪市人民法院" + "曼" * 120
    context["review_authority"] = "景洪市人民政府" + "曼" * 100
    letter = issue_letter("order_to_correct", context, issuer=issuer_for("order_to_correct", case), cases=[case],
                          issued_on=date(2021, 3, 8))
    item = render.PrintItem(letter.kind, letter.context, letter.doc_number)
    html = render.render_html([item])
    plain = HTML(string=html, base_url=render.LETTER_TEMPLATE_DIR.as_uri() + "/",
                 url_fetcher=render.make_url_fetcher()).write_pdf()
    closing = "特此通知。嘎洒镇人民政府2021年3月8日"
    # the precondition, read from the normal grid's PDF: page 3 holds only the closing
    # phrase, the signature and the contact note (7.3.6-style 附注) under it
    plain_pages = [re.sub(r"—\d+—$", "", p) for p in pdf_pages(plain)]
    assert len(plain_pages) == 4 and plain_pages[2].startswith(closing), plain_pages[2]
    assert plain_pages[3].startswith("嘎洒镇人民政府送达回证")
    printed = [re.sub(r"—\d+—$", "", p) for p in pdf_pages(letter_pdf(letter))]
    assert len(printed) == 3 and printed[2].startswith("嘎洒镇人民政府送达回证"), printed
    assert closing in printed[1] and not printed[1].startswith("特此通知")
    assert printed[1].index(closing) > 0 and "提起行政诉讼。" in printed[1][: printed[1].index(closing)]


def test_every_font_of_a_letter_is_embedded(make_case):
    """Read back with poppler's pdffonts: every font the letter uses is embedded (and
    subset), so it prints the same on a machine without the fonts."""
    import subprocess

    pdf = letter_pdf(_order(make_case(name="王堃")))  # 堃: from the full system font
    out = subprocess.run(["pdffonts", "-"], input=pdf, capture_output=True, check=True).stdout.decode()
    rows = [line.split() for line in out.splitlines()[2:] if line.strip()]
    assert rows, out
    # columns: name, type (1–3 words), encoding, emb, sub, uni, object ID (two numbers): emb and sub are 5th and 4th from the end
    assert all(r[-5] == "yes" and r[-4] == "yes" for r in rows), out
    names = {r[0].split("+", 1)[-1] for r in rows}
    assert any(n.startswith("Noto-Serif-CJK-SC") for n in names) and len(names) >= 2, names
