"""Decoding uploaded text files: marks, UTF-8, GB18030, UTF-16, mixed files refused."""

import codecs

import pytest

from edu_guard import textfile

HEADER = "姓名,身份证号,户籍地址\n"
ROWS = ["岩温,532801200901142690,勐罕镇曼听村委会\n", "玉香,532801201003050028,嘎洒镇曼景村委会\n"]


TEXT = HEADER + ROWS[0]


@pytest.mark.parametrize(("raw", "encoding"), [
    (TEXT.encode("utf-8"), "utf-8"),
    (codecs.BOM_UTF8 + TEXT.encode("utf-8"), "utf-8-sig"),
    (TEXT.encode("gb18030"), "gb18030"),
    (TEXT.encode("utf-16"), "utf-16"),  # with its mark
    (codecs.BOM_UTF16_BE + TEXT.encode("utf-16-be"), "utf-16"),
    (TEXT.encode("utf-16-le"), "utf-16"),  # no mark: found by its NUL bytes
])
def test_each_encoding_gives_the_text(raw, encoding):
    decoded = textfile.decode(raw)
    assert (decoded.text, decoded.encoding) == (TEXT, encoding)


def test_utf8_rows_after_a_gb18030_start_are_refused_with_the_line():
    # the header and first row in UTF-8, the second row pasted from a GB18030 file (line 3)
    raw = (HEADER + ROWS[0]).encode("utf-8") + ROWS[1].encode("gb18030")
    with pytest.raises(textfile.DecodeError) as err:
        textfile.decode(raw)
    assert err.value.line == 3
    assert "第3行" in str(err.value) and "混用" in str(err.value)


def test_gb18030_rows_after_a_utf8_mark_are_refused_with_the_line():
    raw = codecs.BOM_UTF8 + HEADER.encode("utf-8") + ROWS[0].encode("gb18030") + ROWS[1].encode("utf-8")
    with pytest.raises(textfile.DecodeError) as err:
        textfile.decode(raw)
    assert err.value.line == 2


def test_utf8_rows_after_a_gb18030_start_are_refused_with_the_line_reverse():
    # GB18030 header and rows, then line 4 in UTF-8: GB18030 would decode it as garbage
    utf8_row = "岩罕,532801201003050036,勐罕镇曼听村委会\n".encode("utf-8")
    raw = (HEADER + ROWS[0] + ROWS[1]).encode("gb18030") + utf8_row
    assert raw.decode("gb18030").splitlines()[3].startswith("宀╃綍,")  # the old reader: no error, a garbled name
    with pytest.raises(textfile.DecodeError) as err:
        textfile.decode(raw)
    assert err.value.line == 4
    assert "第4行是 UTF-8" in str(err.value)
    # a UTF-8 row that GB18030 cannot decode at all gets the same message
    raw = (HEADER + ROWS[0]).encode("gb18030") + "刀玉罕,1,景洪市勐养镇\n".encode("utf-8")
    with pytest.raises(textfile.DecodeError) as err:
        textfile.decode(raw)
    assert err.value.line == 3 and "第3行是 UTF-8" in str(err.value)


def test_a_whole_gb18030_file_is_not_mistaken_for_a_mixed_one():
    # many rows, names of two and three characters, the 女 that is also a valid UTF-8 pair
    rows = [f"{n},53280120100305{i:04d},女,勐罕镇曼{c}村委会\n" for i, (n, c) in
            enumerate([("玉香", "听"), ("岩温", "景"), ("咪依", "养"), ("刀玉罕", "纳")] * 500)]
    raw = ("姓名,身份证号,性别,户籍地址\n" + "".join(rows)).encode("gb18030")
    decoded = textfile.decode(raw)
    assert decoded.encoding == "gb18030" and decoded.text.count("\n") == 2001


def test_broken_bytes_name_the_line():
    raw = HEADER.encode("gb18030") + ROWS[0].encode("gb18030") + b"\x81\x20,1,2\n"  # 0x81 0x20 is no GB18030 character
    with pytest.raises(textfile.DecodeError) as err:
        textfile.decode(raw)
    assert err.value.line == 3


def test_utf8_bytes_keeps_a_utf8_file_and_converts_the_others():
    utf8 = codecs.BOM_UTF8 + (HEADER + ROWS[0]).encode("utf-8")
    assert textfile.utf8_bytes(utf8) == (utf8, "utf-8-sig")
    gbk = (HEADER + ROWS[0]).encode("gb18030")
    assert textfile.utf8_bytes(gbk) == ((HEADER + ROWS[0]).encode("utf-8"), "gb18030")


def test_utf8_bytes_leaves_the_check_to_a_strict_parser_when_asked():
    # the top 256 KB are UTF-8: returned unchecked (polars' strict UTF-8 read refuses the rest)
    top = (HEADER + ROWS[0] * (textfile.HEAD_BYTES // len(ROWS[0].encode()) + 1)).encode("utf-8")
    mixed = top + ROWS[1].encode("gb18030")
    assert textfile.utf8_bytes(mixed, parser_checks_utf8=True) == (mixed, "utf-8")
    with pytest.raises(textfile.DecodeError) as err:
        textfile.utf8_bytes(mixed)
    assert err.value.line == top.count(b"\n") + 1
    small = (HEADER + ROWS[0]).encode("utf-8") + ROWS[1].encode("gb18030")  # all of it is the top: checked here
    with pytest.raises(textfile.DecodeError):
        textfile.utf8_bytes(small, parser_checks_utf8=True)
    # a GB18030 or UTF-16 file is still decoded and re-encoded
    assert textfile.utf8_bytes(TEXT.encode("gb18030"), parser_checks_utf8=True) == (TEXT.encode("utf-8"), "gb18030")
    assert textfile.utf8_bytes(TEXT.encode("utf-16"), parser_checks_utf8=True) == (TEXT.encode("utf-8"), "utf-16")
