"""Decoding uploaded text files (文本文件编码): CSV and tab-separated text.

The one place that turns an uploaded file's bytes into text. Files reach the bureau
from Excel ("CSV UTF-8" with a byte-order mark, plain "CSV" in the system code page
GBK/GB18030, "Unicode text" in UTF-16) and from other systems (UTF-8 without a mark).
The rules, in order:

1. A byte-order mark decides: UTF-8 (``EF BB BF``), UTF-16 LE (``FF FE``) or BE
   (``FE FF``). UTF-16 without a mark is recognised by its NUL bytes.
2. Otherwise the file is UTF-8 if all of it is valid UTF-8.
3. Otherwise it is GB18030 (a superset of GBK and GB2312), if all of it decodes so.
4. A file that mixes encodings is refused, naming the first line in the other
   encoding: rows pasted from a GB18030 file under a UTF-8 header (or the reverse)
   would otherwise be read as garbage names and addresses without an error. A file
   starts in UTF-8 when the lines before its first non-UTF-8 byte hold UTF-8 Chinese
   text (three-byte sequences) or it has the UTF-8 mark; a GB18030 file has UTF-8
   rows when a later line is valid UTF-8 with four or more Chinese characters in a
   row (a run that GB18030 text essentially never forms).

Line numbers are 1-based, counted by ``\\n``, as the clerk sees them in a text editor.
"""

from __future__ import annotations

import codecs
import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from edu_guard.messages import N_, Template

#: Encodings :func:`decode` names in :attr:`Text.encoding`.
UTF8, UTF8_SIG, UTF16, GB18030 = "utf-8", "utf-8-sig", "utf-16", "gb18030"

#: Four Chinese characters in UTF-8 (three bytes each, U+3400–U+9FFF): the evidence
#: that a line of a GB18030 file is UTF-8.
_UTF8_HAN_RUN = re.compile(r"[\u3400-\u9fff]{4}")


#: Bytes below 0xE0 (deleted to find three-byte UTF-8 lead bytes).
_BELOW_E0 = bytes(range(0xE0))


class DecodeError(ValueError):
    """The bytes are not text in a supported encoding, or mix encodings.

    Its message is a :class:`~edu_guard.messages.Template` (Chinese text that keeps its
    catalogue id: this module sits below :mod:`edu_guard.i18n`);
    :func:`edu_guard.registry.normalize.as_message` makes it a Message shown in the
    reader's language.

    :ivar line: the 1-based line where the problem starts (``None`` if not known).
    """

    def __init__(self, message: str, line: int | None = None):
        super().__init__(message)
        self.line = line


@dataclass(frozen=True)
class Text:
    """A decoded file: its text (without the byte-order mark) and its encoding
    (:data:`UTF8`, :data:`UTF8_SIG`, :data:`UTF16` or :data:`GB18030`)."""

    text: str
    encoding: str


_ADVICE = Template(N_("请用 Excel 或记事本将整个文件另存为“CSV UTF-8”（或 GB18030/GBK 编码的 CSV）后重新上传"))

_UTF8_AFTER_GB = N_("第%(line)s行是 UTF-8 编码，而前面各行是 GB18030/GBK：文件混用了多种编码。%(advice)s")


def _line_of(raw: bytes, pos: int) -> int:
    return raw.count(b"\n", 0, pos) + 1


def _utf16_without_bom(raw: bytes) -> str | None:
    """``utf-16-le``/``utf-16-be`` when the head is UTF-16 text without a mark (many NUL
    bytes at odd or at even positions), else ``None``."""
    head = raw[:4096]
    if len(head) < 4 or b"\x00" not in head:
        return None
    odd, even = head[1::2].count(0), head[0::2].count(0)
    half = len(head) // 2
    if odd > half * 0.3 and even < half * 0.05:
        return "utf-16-le"
    if even > half * 0.3 and odd < half * 0.05:
        return "utf-16-be"
    return None


def _decode_utf16(raw: bytes, codec: str) -> Text:
    try:
        return Text(raw.decode(codec), UTF16)
    except UnicodeDecodeError as exc:
        line = raw[: exc.start - exc.start % 2].decode(codec, "replace").count("\n") + 1
        raise DecodeError(Template(N_("第%(line)s行不是有效的 UTF-16 文本：%(advice)s"), line=line, advice=_ADVICE),
                          line) from None


def _utf8_lines_in_gb18030(raw: bytes) -> int | None:
    """The first line of a GB18030 file that is UTF-8 Chinese text, or ``None``.

    The lines are read in bulk by polars (lossy UTF-8, so a GB18030 line comes out
    with replacement characters); only when a line looks like UTF-8 is the file walked
    in Python to give its exact line number.
    """
    import polars as pl

    lines = pl.read_csv(raw, has_header=False, separator="\x1f", quote_char=None, encoding="utf8-lossy",
                        new_columns=["line"], infer_schema=False, truncate_ragged_lines=True)["line"]
    clean = lines.filter(~lines.str.contains("\ufffd", literal=True))  # few in a GB18030 file
    if clean.is_empty() or not clean.str.contains(_UTF8_HAN_RUN.pattern).any():
        return None
    for number, line in enumerate(raw.split(b"\n"), start=1):
        if line.isascii():
            continue
        try:
            text = line.decode("utf-8")
        except UnicodeDecodeError:
            continue
        if _UTF8_HAN_RUN.search(text):
            return number
    return None  # pragma: no cover - polars and Python agree on valid UTF-8


def _is_utf8_line(raw: bytes, pos: int) -> bool:
    """Whether the line holding ``pos`` is UTF-8 Chinese text."""
    start, end = raw.rfind(b"\n", 0, pos) + 1, raw.find(b"\n", pos)
    try:
        return bool(_UTF8_HAN_RUN.search(raw[start: None if end < 0 else end].decode("utf-8")))
    except UnicodeDecodeError:
        return False


def decode(raw: bytes) -> Text:
    """Decode an uploaded text file by the rules of this module.

    :param raw: the file's bytes.
    :return: the text without a byte-order mark, with its encoding.
    :raises DecodeError: the file is not valid in any supported encoding, or mixes
        encodings; the Chinese message names the line.
    """
    if raw.startswith(codecs.BOM_UTF8):
        body = raw[len(codecs.BOM_UTF8):]
        try:
            return Text(body.decode("utf-8"), UTF8_SIG)
        except UnicodeDecodeError as exc:
            line = _line_of(body, exc.start)
            raise DecodeError(Template(N_("第%(line)s行不是 UTF-8 编码，而文件开头标明是 UTF-8：文件混用了多种编码。%(advice)s"),
                                       line=line, advice=_ADVICE), line) from None
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return _decode_utf16(raw, "utf-16")
    utf16 = _utf16_without_bom(raw)
    if utf16:
        return _decode_utf16(raw, utf16)
    try:
        return Text(raw.decode("utf-8"), UTF8)
    except UnicodeDecodeError as exc:
        bad = exc.start
    line = _line_of(raw, bad)
    line_start = raw.rfind(b"\n", 0, bad) + 1
    # The lines before are valid UTF-8; a lead byte ≥ 0xE0 there is UTF-8 Chinese text.
    if raw[:line_start].translate(None, _BELOW_E0):
        raise DecodeError(Template(N_("第%(line)s行不是 UTF-8 编码，而前面各行是 UTF-8：文件混用了多种编码。%(advice)s"),
                                   line=line, advice=_ADVICE), line)
    # The search for UTF-8 lines (polars, without the GIL) runs beside Python's decoding.
    with ThreadPoolExecutor(1) as pool:
        search = pool.submit(_utf8_lines_in_gb18030, raw[line_start:])
        try:
            text = raw.decode("gb18030")
        except UnicodeDecodeError as exc:
            bad_line = _line_of(raw, exc.start)
            if _is_utf8_line(raw, exc.start):
                raise DecodeError(Template(_UTF8_AFTER_GB, line=bad_line, advice=_ADVICE), bad_line) from None
            raise DecodeError(Template(N_("无法识别文件的编码（第%(line)s行既不是 UTF-8 也不是 GB18030/GBK）：%(advice)s"),
                                       line=bad_line, advice=_ADVICE), bad_line) from None
        utf8_line = search.result()
    if utf8_line is not None:
        utf8_line += line - 1
        raise DecodeError(Template(_UTF8_AFTER_GB, line=utf8_line, advice=_ADVICE), utf8_line)
    return Text(text, GB18030)


#: Bytes at the top of a file :func:`utf8_bytes` looks at when the parser checks UTF-8.
HEAD_BYTES = 256 * 1024


def utf8_bytes(raw: bytes, *, parser_checks_utf8: bool = False) -> tuple[bytes, str]:
    """Return the file as UTF-8 bytes for byte-level parsers (polars), and its encoding.

    A UTF-8 file (with or without its mark) is returned as it is (no copy, the mark
    kept, so line numbers do not move); any other is decoded and re-encoded.

    :param parser_checks_utf8: the caller's parser refuses invalid UTF-8 itself (polars'
        strict ``encoding="utf8"``, which checks in parallel without the GIL): then a
        file whose top (:data:`HEAD_BYTES`) is UTF-8 is returned unchecked, and when the
        parser refuses it the caller calls :func:`decode` for the message with the line.
    :raises DecodeError: as :func:`decode`.
    """
    if parser_checks_utf8:
        head = raw[:HEAD_BYTES]
        if len(raw) > HEAD_BYTES:
            head = head[: head.rfind(b"\n") + 1]
        if not raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) and not _utf16_without_bom(raw):
            try:
                head.decode("utf-8")
            except UnicodeDecodeError:
                pass
            else:
                return raw, UTF8_SIG if raw.startswith(codecs.BOM_UTF8) else UTF8
    decoded = decode(raw)
    if decoded.encoding in (UTF8, UTF8_SIG):
        return raw, decoded.encoding
    return decoded.text.encode("utf-8"), decoded.encoding
