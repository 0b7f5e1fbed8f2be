"""Imports in the reader's language (issue 10 §5): upload refusals, a failed import's
reason, the reject reasons, remarks and the "what was read" lines are kept as
catalogue ids with their arguments, so an English page shows them in English and a
Chinese one in Chinese, whichever language the import ran in. The rejects workbook keeps
its Chinese header (the importer reads it back); its reasons follow the downloader's
language. The CLI stays Chinese.
"""

import io
import re

import openpyxl
import pytest
from flask_babel import refresh
from marshmallow import ValidationError, fields, validate

from edu_guard.db import db
from edu_guard.i18n import Message
from edu_guard.messages import Template
from edu_guard.registry import readers
from edu_guard.registry.models import ImportRun
from edu_guard.registry.normalize import as_message
from edu_guard.registry.services import ImportFileError, describe_source, import_file


@pytest.fixture
def import_clerk(app, make_user, login):
    user = make_user("clerk", username="zhang")
    login(user)
    return user


def get(client, url, lang):
    return client.get(url + ("&" if "?" in url else "?") + f"lang={lang}")


def upload(client, kind, name, data, lang="zh"):
    """Post a file (the job runs at once: immediate queue); return the response."""
    return client.post(f"/imports?lang={lang}", data={"kind": kind, "file": (io.BytesIO(data), name)},
                       content_type="multipart/form-data")


def run_url(client, response) -> str:
    assert response.status_code == 302, response.text
    done = client.get(response.headers["Location"])
    assert done.status_code == 302
    return done.headers["Location"]


def reasons(page: str) -> list[str]:
    return [r for _, r in re.findall(r'<td class="nowrap">([^<]*)</td><td>([^<]+)</td></tr>', page)]


def test_reject_reasons_are_stored_and_shown_in_the_readers_language(app, client, import_clerk, demo_dir):
    run_url(client, upload(client, "schools", "schools.csv", (demo_dir / "schools.csv").read_bytes()))
    url = run_url(client, upload(client, "roster", "roster_2021_spring.xlsx",
                                 (demo_dir / "roster_2021_spring.xlsx").read_bytes()))

    chinese = get(client, url, "zh").text
    assert "读取工作表“花名册”：表头在第2行，数据 1202 行" in chinese
    zh = reasons(chinese)
    assert len(zh) == 8
    assert any(r.startswith("身份证件号校验位错误（GB 11643），号码有误，请核对后重新录入") for r in zh)
    assert any(r.startswith("身份证件号为数值格式，末几位已丢失") for r in zh)

    english = get(client, url, "en").text  # a later request, another language
    assert "Read sheet “花名册”: header on row 2, 1202 data rows" in english
    en = reasons(english)
    assert len(en) == 8
    assert any(r.startswith("ID number: wrong check character (GB 11643): the number is wrong") for r in en)
    assert any(r.startswith("ID number: is in number format, so its last digits are lost") for r in en)
    assert not any("校验位" in r or "数值格式" in r for r in en)

    # stored as catalogue ids, not as text of the language the import ran in
    run = db.session.get(ImportRun, int(url.rsplit("/", 1)[1]))
    assert all(isinstance(r["reason"], Message) for r in run.rejects)


def test_the_rejects_workbook_keeps_its_chinese_header_and_gives_reasons_in_the_page_language(
        app, client, import_clerk, demo_dir):
    run_url(client, upload(client, "schools", "schools.csv", (demo_dir / "schools.csv").read_bytes()))
    url = run_url(client, upload(client, "roster", "roster_2021_spring.xlsx",
                                 (demo_dir / "roster_2021_spring.xlsx").read_bytes()))
    run_id = int(url.rsplit("/", 1)[1])

    def sheet(lang):
        response = get(client, f"/imports/{run_id}/rejects.xlsx", lang)
        assert response.status_code == 200
        return openpyxl.load_workbook(io.BytesIO(response.data)).active

    english = sheet("en")
    header = [c.value for c in english[2]]
    assert header[-2:] == ["原行号", "错误原因"] and "身份证件号" in header  # the importer reads it back
    assert english.cell(row=1, column=1).value.startswith("未导入的行（")
    reasons_en = [english.cell(row=r, column=len(header)).value for r in range(3, english.max_row + 1)]
    assert any(r.startswith("ID number: wrong check character") for r in reasons_en)

    chinese = sheet("zh")
    assert [c.value for c in chinese[2]] == header
    reasons_zh = [chinese.cell(row=r, column=len(header)).value for r in range(3, chinese.max_row + 1)]
    assert any(r.startswith("身份证件号校验位错误") for r in reasons_zh)


def test_remarks_of_skipped_rows_are_shown_in_the_readers_language(app, client, import_clerk, demo_dir):
    name = "monitoring_households_2021.xlsx"
    url = run_url(client, upload(client, "families", name, (demo_dir / name).read_bytes()))
    assert "户主行，已跳过（家庭类型按成员的身份证件号登记" in get(client, url, "zh").text
    english = get(client, url, "en").text
    assert "household head&#39;s row, skipped" in english or "household head's row, skipped" in english
    assert "户主行，已跳过" not in english


def test_an_upload_refusal_is_flashed_in_the_readers_language(app, client, import_clerk):
    pdf = b"%PDF-1.4\n" + b"x" * 100
    english = upload(client, "roster", "roster.xlsx", pdf, lang="en").text
    assert ("“roster.xlsx”: Cannot read the Excel file: it is a PDF file, not an Excel workbook (.xlsx); "
            "only its extension was changed to .xlsx.") in english
    chinese = upload(client, "roster", "roster.xlsx", pdf, lang="zh").text
    assert "“roster.xlsx”：无法读取 Excel 文件：这是 PDF 文件，不是 Excel 工作簿（.xlsx），只是扩展名被改成了 .xlsx。" in chinese


def test_a_failed_import_is_reported_in_the_language_of_whoever_looks(app, client, import_clerk, demo_dir):
    response = upload(client, "roster", "schools.csv", (demo_dir / "schools.csv").read_bytes(), lang="en")
    job_url = response.headers["Location"]
    state = get(client, job_url + ".json", "en").get_json()
    assert state["state"] == "failed"
    assert state["error"] == ("School roster “schools.csv” lacks required columns: Name, ID number "
                              "(not found in the header on row 1); nothing was imported")
    assert "缺少必需的列" in get(client, job_url, "zh").text  # stored in English's request, read in Chinese
    assert "lacks required columns" in get(client, job_url, "en").text


def test_a_file_that_mixes_encodings_is_refused_in_the_readers_language(app, client, import_clerk):
    data = "姓名,身份证件号,学校名称\n岩温,532801200901142690,勐罕中心小学\n".encode() + \
        "玉香,532801201003050028,勐罕中心小学\n".encode("gb18030")
    job_url = upload(client, "roster", "roster.csv", data, lang="zh").headers["Location"]
    assert "第3行不是 UTF-8 编码，而前面各行是 UTF-8：文件混用了多种编码" in get(client, job_url, "zh").text
    english = get(client, job_url, "en").text
    assert "Line 3 is not in UTF-8 but the lines before it are: the file mixes encodings" in english


def test_what_was_read_is_chinese_outside_a_request_and_english_on_an_english_page(app, app_ctx):
    source = {"sheets": [{"name": "花名册", "header_row": 2, "rows": 5}], "encoding": "gb18030",
              "skipped": [{"name": "旧名单", "reason": Message(readers.HIDDEN_REASON)}],
              "unused_columns": [Message("%(name)s（%(where)s）", name="备注", where=Message("第%(n)s列", n=9))]}
    assert [str(line) for line in describe_source(source)] == [
        "读取工作表“花名册”：表头在第2行，数据 5 行", "CSV 编码：GB18030（GBK）",
        "未导入工作表“旧名单”：隐藏的工作表，未导入（如需导入，请在 Excel 中取消隐藏后重新上传）",
        "未导入的列：备注（第9列）",
    ]
    with app.test_request_context("/?lang=en"):
        refresh()  # the app context of the test is shared: choose the request's language
        assert [str(line) for line in describe_source(source)] == [
            "Read sheet “花名册”: header on row 2, 5 data rows", "CSV encoding: GB18030 (GBK)",
            "Sheet “旧名单” not imported: hidden sheet, not imported (to import it, unhide it in Excel and upload again)",
            "Columns not imported: 备注 (column 9)",
        ]


def test_the_cli_result_stays_chinese(app_ctx, demo_dir):
    result = import_file("schools", demo_dir / "schools.csv")
    with pytest.raises(ImportFileError) as info:
        import_file("roster", demo_dir / "schools.csv")
    assert str(info.value) == ("学籍花名册“schools.csv”缺少必需的列：姓名、身份证件号（第1行的表头中没有找到）；"
                               "未导入任何数据")
    assert all(isinstance(line, str) for line in result.summary()["read"].get("unused_columns", []))


def test_marshmallow_messages_keep_their_catalogue_id(app):
    """marshmallow formats its (Chinese) messages with ``str.format``; the Template keeps
    the id and the arguments, and :func:`as_message` makes the Message a page translates."""
    field = fields.String(validate=validate.Length(max=3))
    with pytest.raises(ValidationError) as info:
        field.deserialize("abcdef")
    (message,) = info.value.messages
    assert isinstance(message, Template) and message == "长度不能超过 3 个字符"  # the Chinese text, as before
    with pytest.raises(ValidationError) as missing:
        fields.String(required=True).deserialize(None)
    assert missing.value.messages == ["不能为空"]
    ranged = validate.Range(min=1, max=9)
    with pytest.raises(ValidationError) as range_info:
        ranged(12)
    assert range_info.value.messages == ["应大于或等于 1 且小于或等于 9"]
    with app.test_request_context("/?lang=en"):
        refresh()
        assert str(as_message(message)) == "must be at most 3 characters long"
        assert str(as_message(range_info.value.messages[0])) == \
            "must be greater than or equal to 1 and less than or equal to 9"
