"""一案一档: a case's whole file printed as one PDF, in order, through the letters'
machinery (the GB/T 9704 layout, the fonts, the character check):

1. 控辍保学个案立案登记表 — the case as opened, guardians, 包保责任人 (ended ones
   with their end date), the timeline of acts (each service of a letter included) and
   every home visit;
2. every letter of the case in the order issued, each with its 送达回证;
3. 控辍保学个案销号登记表 — the outcome and the 销号 (or the state of an open case).

The stored letters print exactly as they were issued; the two registers are built from
the data on the day printed and are not numbered or stored (they print the same again
from the same data).
"""

from __future__ import annotations

from datetime import date

from edu_guard.auth import audit
from edu_guard.cases import machine
from edu_guard.cases.models import RESPONSIBLE_ROLES, SOURCES, DropoutCase
from edu_guard.i18n import Message
from edu_guard.letters.render import render_pdf
from edu_guard.letters.services import _child_data, bureau_issuer, letter_item, printable_item


def _timeline(case: DropoutCase) -> list[dict]:
    rows = []
    for e in case.events:
        what = machine.EVENT_LABELS.get(e.event, e.event)
        if e.from_state != e.to_state:
            what += f" → {machine.STATES[e.to_state].label}"
        detail = []
        if e.letter is not None:
            detail.append(f"{e.letter.title} {e.letter.doc_number or ''}".strip())
        if e.note:
            # A register is an official record: a note the system wrote prints in Chinese.
            detail.append(e.note.chinese() if isinstance(e.note, Message) else e.note)
        rows.append({"on": e.acted_on, "what": what, "detail": "；".join(detail) or None,
                     "who": e.user.display_name if e.user else None})
    return rows


def _visits(case: DropoutCase) -> list[dict]:
    return [{"on": v.visited_on, "what": f"{v.form}：{v.visitors}",
             "detail": "；".join(x for x in (v.findings, v.outcome and f"结果：{v.outcome}",
                                             v.next_action and f"下一步：{v.next_action}") if x)}
            for v in sorted(case.visits, key=lambda v: (v.visited_on, v.id))]


def _person(a) -> str:
    text = f"{RESPONSIBLE_ROLES.get(a.role, a.role)} {a.name} {a.phone or ''}".strip()
    return f"{text}（{a.ended_on} 终止）" if a.ended_on else text


def case_letters(case: DropoutCase) -> list:
    """The case's letters in the order issued (date, then number of the register)."""
    return sorted(case.letters, key=lambda letter: (letter.issued_on, letter.id))


def case_file_pdf(case: DropoutCase, *, printed_on: date, full_id: bool = False, user=None) -> bytes:
    """Print the whole case file (一案一档) as one PDF: register, letters, closure.

    :param printed_on: the date printed on the two registers (the county's today).
    :param full_id: print the child's full ID number (users who see full numbers).
    :return: the PDF bytes; the print is recorded in the audit log against the case.
    :raises edu_guard.letters.render.LetterError: a context or character problem (see
        :func:`edu_guard.letters.render.prepare`): nothing is printed.
    """

    issuer = bureau_issuer()
    letters = case_letters(case)
    number = f"{case.opened_on.year}-{case.id:05d}"
    child = case.child
    register = {
        "case_number": number,
        "child": _child_data(case, full_id=full_id),
        "township": (case.township or child.township).name if (case.township or child.township) else None,
        "guardians": [f"{g.name} {g.relation or ''} {g.phone or ''}".strip() for g in child.guardians],
        "reason": case.reason, "reason_note": case.reason_note, "source": SOURCES.get(case.source, case.source),
        "opened_on": case.opened_on, "state": machine.STATES[case.state].label,
        "people": [_person(a) for a in case.assignments],
        "timeline": _timeline(case), "visits": _visits(case),
        "letters": [f"{letter.title} {letter.doc_number or ''}".strip() for letter in letters],
    }
    closure = {
        "case_number": number, "child_name": child.name, "closed": case.state == "closed",
        "state": machine.STATES[case.state].label, "outcome": case.outcome, "outcome_on": case.outcome_on,
        "closed_on": case.closed_on, "closed_reason": case.closed_reason,
    }
    items = [printable_item("case_register", register, issuer=issuer, issued_on=printed_on),
             *[letter_item(letter) for letter in letters],
             printable_item("case_closure", closure, issuer=issuer, issued_on=printed_on)]
    pdf = render_pdf(items)
    audit.record("print", case, before=None, after={"printed": "case_file", "letters": len(letters)}, user=user)
    return pdf
