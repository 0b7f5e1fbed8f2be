"""A file a clerk uploads by mistake (a renamed Word file, a text file called .xlsx, an
empty file) is refused in Chinese, naming the file and the reason — never with a
library's English error ("Cannot detect file format", "File is not a zip file")."""

import io
import re
import zipfile

import pytest

ENGLISH = re.compile(r"[A-Za-z]{4,}")
#: English words a Chinese message may carry: file types and the program names a clerk sees.
ALLOWED = {"Excel", "xlsx", "docx", "WPS", "YYYY", "UTF", "Word", "Office", "PowerPoint", "pptx", "OpenDocument"}


def _zip_not_a_workbook() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("word/document.xml", "<w:document/>")
    return buf.getvalue()


FAKES = {
    "text renamed": ("花名册.xlsx", "姓名,身份证号\n张三,532801200901142694\n".encode("gbk")),
    "word renamed": ("花名册.xlsx", _zip_not_a_workbook()),
    "empty": ("花名册.xlsx", b""),
    "pdf renamed": ("花名册.xlsx", b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n"),
}


def _english_words(text: str) -> list[str]:
    return [w for w in ENGLISH.findall(text) if w not in ALLOWED]


def _flashes(html: str) -> list[str]:
    return [re.sub(r"<[^>]+>", "", m).strip() for m in re.findall(r'class="flash[^"]*"[^>]*>(.*?)</', html, re.S)]


@pytest.mark.parametrize("fake", sorted(FAKES))
def test_import_page_names_the_file_and_the_reason_in_chinese(app, client, make_user, login, fake):
    name, data = FAKES[fake]
    login(make_user("clerk", username="zhang"))
    response = client.post("/imports", data={"kind": "roster", "file": (io.BytesIO(data), name)},
                           content_type="multipart/form-data", follow_redirects=True)
    text = response.get_data(as_text=True)
    messages = _flashes(text) or re.findall(r'class="error[^"]*"[^>]*>(.*?)</', text, re.S)
    said = " ".join(messages)
    assert name in said, f"{fake}: the message does not name the file: {messages or text[-2000:]}"
    assert not _english_words(said), f"{fake}: English in the Chinese message: {said}"


@pytest.mark.parametrize("fake", sorted(FAKES))
def test_comparison_names_the_file_and_the_reason_in_chinese(app, client, make_user, login, fake):
    name, data = FAKES[fake]
    login(make_user("clerk", username="zhang"))
    response = client.post("/comparisons", data={"kind": "household", "as_of": "2021-03-01",
                                                 "file": (io.BytesIO(data), name)},
                           content_type="multipart/form-data", follow_redirects=True)
    said = " ".join(_flashes(response.get_data(as_text=True)))
    assert name in said, f"{fake}: the message does not name the file: {said!r}"
    assert not _english_words(said), f"{fake}: English in the Chinese message: {said}"


@pytest.mark.parametrize("data, says", [
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 64, "旧版 Office 文件"),
    (b"<html><body><table><tr><td>\xe5\xa7\x93\xe5\x90\x8d</td></tr></table>", "网页"),
    (b"PK\x05\x06" + b"\x00" * 18, "不是 Excel 工作簿"),  # an empty zip
])
def test_reader_says_what_the_file_really_is(data, says):
    from edu_guard.registry import readers

    with pytest.raises(readers.ReadError) as refused:
        readers.read_table(data, "名单.xlsx", frozenset({"name", "id_number"}), 2)
    message = str(refused.value)
    assert message.startswith("“名单.xlsx”：") and says in message, message
    assert not _english_words(message), message
