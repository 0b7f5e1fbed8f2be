"""A letter-type plugin written as an outside author would, from docs/plugins.md alone
(tests/plugins/outside_letter): numbered, printed with its 送达回证, fields checked."""

import io
from datetime import date

import pytest
from pypdf import PdfReader

from edu_guard.toolkit import LetterError, PluginLoadError, issue_letter, letter_pdf
from tests.plugins.outside_letter import plugin

FIELDS = {"guardian": "岩温", "pupil": "玉香", "school": "勐罕中心小学", "address": "勐罕镇曼听村3号"}


def _text(pdf: bytes) -> str:
    return "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages).replace("\n", "").replace(" ", "")


def test_the_notice_is_numbered_and_printed_with_its_service_slip(plugin_app):
    app = plugin_app([("outside_letter", plugin)])
    with app.app_context():
        first = issue_letter("aid_policy_notice", FIELDS, issuer="bureau", issued_on=date(2021, 9, 1))
        second = issue_letter("aid_policy_notice", {**FIELDS, "pupil": "岩罕"}, issuer="bureau", issued_on=date(2021, 9, 2))
        # the bureau's code (景教体), the kind mark, the year of issue, numbered from 1 in the year
        assert (first.doc_number, second.doc_number) == ("景教体资政〔2021〕1号", "景教体资政〔2021〕2号")
        text = _text(letter_pdf(first))
    assert "你的子女玉香在勐罕中心小学就读，可按规定申请家庭经济困难学生生活补助" in text
    assert "送达回证" in text and "勐罕镇曼听村3号" in text


def test_a_missing_field_refuses_the_letter_without_using_a_number(plugin_app):
    app = plugin_app([("outside_letter", plugin)])
    with app.app_context():
        with pytest.raises(LetterError, match="address"):
            issue_letter("aid_policy_notice", {k: v for k, v in FIELDS.items() if k != "address"}, issuer="bureau",
                         issued_on=date(2021, 9, 1))
        assert issue_letter("aid_policy_notice", FIELDS, issuer="bureau",
                            issued_on=date(2021, 9, 1)).doc_number == "景教体资政〔2021〕1号"


def test_the_key_cannot_be_given_twice(plugin_app):
    class Again:
        letter_types = staticmethod(plugin.letter_types)

    with pytest.raises(PluginLoadError, match=r"'again'.*aid_policy_notice.*'outside_letter'"):
        plugin_app([("outside_letter", plugin), ("again", Again())])
    with pytest.raises(PluginLoadError, match=r"plugin 'twice' is the same object as plugin 'outside_letter'"):
        plugin_app([("outside_letter", plugin), ("twice", plugin)])
