"""Keeping the signature with the text (公文排版：印章与正文同处一页).

GB/T 9704-2012 7.3.5.1: when the space left after the text cannot hold the seal (the
issuer's name and the date), the *line and character spacing* are adjusted so that
it can; a page bearing only the seal is not allowed, and "此页无正文" must not be used.
The stylesheet already keeps the signature with the paragraph before it
(``break-before: avoid``). What is left is the page that holds nothing of the letter
but its closing phrase (特此通知。, one line) and the signature. For such a letter the
layout is redone with tighter spacing (:data:`TIGHTER`, classes of
``gbt9704.css``), tightest last; if no step brings the page back, the letter keeps its
normal spacing (the closing phrase then still stands with the signature).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

#: Spacing steps tried in order (``section.letter.<class>`` in ``gbt9704.css``).
TIGHTER = ("tight-1", "tight-2")

_SECTION = re.compile(r'<section class="letter ')


def _classes(box) -> set[str]:
    element = getattr(box, "element", None)
    if element is None or getattr(box, "element_tag", None) == "html":
        return set()
    return set((element.get("class") or "").split())


def lonely_signatures(document) -> set[int]:
    """Return the letters (0-based, in document order) that have a page, after their
    first, holding only their signature and at most one line of their text.

    :param document: a laid-out WeasyPrint ``Document``.
    """
    from weasyprint.formatting_structure.boxes import LineBox

    order: dict[int, int] = {}
    lonely: set[int] = set()
    for page in document.pages:
        # letter element id → [lines of its text, of its signature, of the rest (附注 …)]
        lines: dict[int, list[int]] = {}

        def walk(box, letter, where):
            classes = _classes(box)
            if "letter" in classes and getattr(box, "element_tag", None) == "section":
                letter, where = id(box.element), 2
            elif "body" in classes:
                where = 0
            elif "signature" in classes:
                where = 1
            if isinstance(box, LineBox):
                if letter is not None:
                    lines.setdefault(letter, [0, 0, 0])[where] += 1
                return
            for child in getattr(box, "children", ()):
                walk(child, letter, where)

        walk(page._page_box, None, 2)
        for letter, (body, signature, other) in lines.items():
            if letter in order and signature and body <= 1:
                lonely.add(order[letter])
            order.setdefault(letter, len(order))
    return lonely


def with_spacing(html: str, spacing: dict[int, str]) -> str:
    """Return ``html`` with the class ``spacing[i]`` added to the i-th letter's section."""
    if not spacing:
        return html
    out, last = [], 0
    for i, match in enumerate(_SECTION.finditer(html)):
        if i in spacing:
            out.append(html[last:match.end()])
            out.append(spacing[i] + " ")
            last = match.end()
    out.append(html[last:])
    return "".join(out)


def lay_out(html: str, render: Callable[[str], object]) -> object:
    """Lay ``html`` out with ``render`` (HTML → WeasyPrint ``Document``), tightening the
    spacing of the letters whose signature would stand on a page alone.

    :return: the document to write (usually the first layout: the others only when
        some letter needed it).
    """
    document = render(html)
    lonely = lonely_signatures(document)
    if not lonely:
        return document
    spacing: dict[int, str] = {}
    pending: Iterable[int] = lonely
    for step in TIGHTER:
        spacing.update({i: step for i in pending})
        document = render(with_spacing(html, spacing))
        pending = lonely_signatures(document) & set(spacing)
        if not pending:
            return document
    for i in pending:  # no step helped: normal spacing for these
        spacing.pop(i)
    return render(with_spacing(html, spacing))
