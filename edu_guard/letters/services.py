"""Issue, print and serve letters (公文); build their contexts from a dropout case.

The only place that changes letters (docs/architecture.md): it adds and flushes, writes an
audit row, and never commits: the request or CLI boundary commits once, so a letter,
its document number and its audit row are stored together or not at all.

The case service (:mod:`edu_guard.cases.services`) calls:

* :func:`context_for_case` to build a kind's context from a case and the dates and
  amounts it decides (deadlines, the fine in yuan as :class:`~decimal.Decimal`);
* :func:`issue_letter` to number, render and store the letter;
* :func:`record_service` when the 送达回证 comes back.

Clerks' batch prints go through :func:`print_run`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import sqlalchemy as sa
from flask import current_app

from edu_guard import clock
from edu_guard import money
from edu_guard.auth import audit
from edu_guard.i18n import Message, N_
from edu_guard.auth.services import mask_id_number  # the one masking rule (docs/domain.md §6)
from edu_guard.db import db
from edu_guard.uploads import write_private
from edu_guard.letters import numbering
from edu_guard.letters.models import SERVICE_MANNERS, Letter
from edu_guard.letters.render import PrintItem, prepare, render_pdf
from edu_guard.letters.schemas import (
    ContextError,
    LetterError,
    dump_context,
    get_kind,
    load_context,
)
from edu_guard.deadlines import effective_service


class ServiceError(LetterError):
    """A proof of service (送达) cannot be recorded as given."""


# --- issuers ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Issuer:
    """Who issues a letter: the full name (printed) and the code of its numbers.

    :ivar name: e.g. ``景洪市教育体育局``.
    :ivar code: e.g. ``景教体`` (``景教体函〔2021〕11号``).
    """

    name: str
    code: str


def bureau_issuer() -> Issuer:
    """Return the county education bureau of ``EDU_GUARD_ISSUERS["bureau"]``."""
    conf = current_app.config["EDU_GUARD_ISSUERS"]["bureau"]
    return Issuer(conf["name"], conf["code"])


def township_short_name(township: str) -> str:
    """Return a township's name without its suffix: 嘎洒镇 → 嘎洒, 允景洪街道 → 允景洪."""
    for suffix in ("街道办事处", "街道", "镇", "乡"):
        if township.endswith(suffix) and len(township) > len(suffix):
            return township[: -len(suffix)]
    return township


def is_subdistrict(township: str) -> bool:
    """Whether ``township`` is an urban subdistrict (街道): its office (街道办事处) is an
    agency of the county government, not a level of government."""
    return township.endswith("街道") or township.endswith("街道办事处")


def township_settings(township) -> dict:
    """The county's settings for one township (``EDU_GUARD_TOWNSHIPS[name]``), {} if none."""
    name = getattr(township, "name", township)
    return dict((current_app.config.get("EDU_GUARD_TOWNSHIPS") or {}).get(name) or {})


def township_office(township) -> str:
    """The body a working letter (劝返联系函) goes to: the configured ``office``, else
    a 乡/镇's 人民政府, a 街道's 办事处 (允景洪街道 → 允景洪街道办事处)."""
    name = getattr(township, "name", township)
    conf = township_settings(name)
    if conf.get("office"):
        return conf["office"]
    if is_subdistrict(name):
        return name if name.endswith("办事处") else f"{name}办事处"
    return f"{name}人民政府"


def township_issuer(township, short: str | None = None) -> Issuer:
    """Return a township government as issuer.

    The name and code come from ``EDU_GUARD_TOWNSHIPS[name]`` (``name``, ``code``) when
    set, else from ``EDU_GUARD_ISSUERS["township"]`` with the township's name and its
    short name (``嘎洒镇`` → ``嘎洒镇人民政府``, ``嘎洒政``).

    :param township: a :class:`~edu_guard.registry.models.Township` or its name.
    :param short: the short name in its document numbers.
    :raises LetterError: a 街道 (no 人民政府 of its own: its orders come from the bureau),
        or an ethnic township (民族乡) with no configured code — its short form is not
        derivable from the name (景哈哈尼族乡 is 景哈, not 景哈哈尼族).
    """
    name = getattr(township, "name", township)
    conf = township_settings(name)
    if is_subdistrict(name) and not (conf.get("name") and conf.get("code")):
        raise LetterError(Message("%(name)s是街道，没有一级人民政府；其责令改正由县级教育行政部门作出（如确需以其他机关名义，请在 EDU_GUARD_TOWNSHIP"
                                  "S[\"%(name)s\"] 中设置 name 和 code）", name=name))
    if conf.get("name") and conf.get("code"):
        return Issuer(conf["name"], conf["code"])
    if "族" in name and not short:
        raise LetterError(Message("%(name)s是民族乡（镇），其发文代字不能由名称推出：请在 EDU_GUARD_TOWNSHIPS[\"%(name)s\"] 中设置 "
                                  "name（发文机关全称）和 code（发文代字，如“景哈政”）", name=name))
    base = current_app.config["EDU_GUARD_ISSUERS"]["township"]
    short = short or township_short_name(name)
    return Issuer(base["name"].format(township=name, short=short), base["code"].format(township=name, short=short))


def resolve_issuer(issuer) -> Issuer:
    """Return an :class:`Issuer` from an Issuer, a key of ``EDU_GUARD_ISSUERS``
    (``"bureau"``), a Township, or a mapping with ``name`` and ``code``.

    :raises LetterError: for anything else.
    """
    if isinstance(issuer, Issuer):
        return issuer
    if isinstance(issuer, str):
        if issuer == "bureau":
            return bureau_issuer()
        raise LetterError(Message("未知的发文机关 %(issuer)s", issuer=repr(issuer)))
    if isinstance(issuer, Mapping) and issuer.get("name") and issuer.get("code"):
        return Issuer(str(issuer["name"]), str(issuer["code"]))
    if getattr(issuer, "__tablename__", None) == "township":
        return township_issuer(issuer)
    raise LetterError(Message("无法识别的发文机关：%(issuer)s", issuer=repr(issuer)))


def order_issuer_is_bureau(township) -> bool:
    """Whether the county education department (not the township government) issues a
    township's orders: ``EDU_GUARD_TOWNSHIPS[name]["issuer"] == "bureau"``, and by
    default for a 街道 (义务教育法 Art. 58 names only 乡镇人民政府 and the county
    education department)."""
    name = getattr(township, "name", township)
    conf = township_settings(name)
    if conf.get("issuer"):
        return conf["issuer"] == "bureau"
    return is_subdistrict(name) and not (conf.get("name") and conf.get("code"))


def issuer_for(kind: str, case=None) -> Issuer:
    """Return the usual issuer of ``kind`` for ``case``.

    The township government orders the guardian to correct (义务教育法 Art. 58 names
    it first) — for a 街道, or where the county so configures, the county education
    bureau does; the bureau writes to townships, imposes the penalty (the authority the
    county's regulation names: ``EDU_GUARD_PENALTY_BASIS``), serves the demand and
    applies to the court.

    :raises LetterError: an order for a case with no township.
    """
    if kind == "order_to_correct":
        township = getattr(case, "township", None) or getattr(getattr(case, "child", None), "township", None)
        if township is None:
            raise LetterError(Message("该个案没有所属乡镇，无法确定责令限期改正通知书的发文机关"))
        if order_issuer_is_bureau(township):
            return bureau_issuer()
        return township_issuer(township)
    get_kind(kind)
    return bureau_issuer()


# --- issuing ----------------------------------------------------------------------------


@dataclass(frozen=True)
class PenaltySettings:
    """The county's penalty basis and fine range (yuan)."""

    basis: str
    low: Decimal
    high: Decimal


PENALTY_SETTING_KEYS = ("EDU_GUARD_PENALTY_BASIS", "EDU_GUARD_FINE_MIN", "EDU_GUARD_FINE_MAX")


def missing_penalty_settings(config=None) -> list[str]:
    """The penalty settings the county has not set (empty when all are)."""
    config = config if config is not None else current_app.config
    return [key for key in PENALTY_SETTING_KEYS if config.get(key) in (None, "")]


#: The county settings the penalty and enforcement letters print, with what they are
#: (行政处罚法 Art. 44, 59 (四), 67; 行政强制法 Art. 35): key → (label, sub-keys or None).
LEGAL_SETTINGS = {
    "EDU_GUARD_PENALTY_BASIS": (N_("处罚依据（地方性法规及条款）"), None),
    "EDU_GUARD_FINE_MIN": (N_("罚款下限（元）"), None),
    "EDU_GUARD_FINE_MAX": (N_("罚款上限（元）"), None),
    "EDU_GUARD_FINE_PAYMENT_ACCOUNT": (N_("罚款缴纳渠道（代收银行、户名、账号）"), ("bank", "account_name", "account_number")),
    "EDU_GUARD_BUREAU_CONTACT": (N_("教育局联系人、电话和地址"), ("person", "phone", "address")),
}


def missing_legal_settings(config=None) -> list[tuple[str, str]]:
    """The county settings the penalty letters need that are not (wholly) set — the
    basis, the fine range, the payment channel and the bureau's contact — as
    ``[(key, Chinese label), …]``; empty when all are set. The layout warns the admin
    on every page while this is not empty."""
    config = config if config is not None else current_app.config
    missing = []
    for key, (label, parts) in LEGAL_SETTINGS.items():
        value = config.get(key)
        if parts is None:
            bad = value in (None, "")
        else:
            bad = not isinstance(value, Mapping) or any(not value.get(p) for p in parts)
        if bad:
            missing.append((key, label))
    return missing


def penalty_settings() -> PenaltySettings:
    """The county's penalty basis and fine range.

    A fine needs a provincial or local regulation (义务教育法 Art. 58 provides none),
    so there is no default: the county sets ``EDU_GUARD_PENALTY_BASIS`` (regulation and
    article), ``EDU_GUARD_FINE_MIN`` and ``EDU_GUARD_FINE_MAX``.

    :raises LetterError: naming the settings not set.
    """
    missing = missing_penalty_settings()
    if missing:
        raise LetterError(Message("本县尚未设置行政处罚的依据和罚款幅度，不能制发处罚文书：请在配置中设置 %(missing)s（地方性法规名称及条款、罚款下限和上限，单位元"
                                  "）", missing=Message.join(missing, "、")))
    cfg = current_app.config
    return PenaltySettings(str(cfg["EDU_GUARD_PENALTY_BASIS"]), Decimal(str(cfg["EDU_GUARD_FINE_MIN"])),
                           Decimal(str(cfg["EDU_GUARD_FINE_MAX"])))


def payment_channel() -> str:
    """How a fine is paid, as printed: the designated bank and account of
    ``EDU_GUARD_FINE_PAYMENT_ACCOUNT`` (行政处罚法 Art. 59 (四), 67; 行政强制法 Art. 35 (三)).

    :raises LetterError: the account is not configured.
    """
    acct = current_app.config.get("EDU_GUARD_FINE_PAYMENT_ACCOUNT") or {}
    missing = [k for k in ("bank", "account_name", "account_number") if not acct.get(k)]
    if missing:
        raise LetterError(Message("本县尚未设置罚款缴纳渠道：请在配置 EDU_GUARD_FINE_PAYMENT_ACCOUNT 中设置 %(missing)s（代收银行、"
                                  "户名、账号）", missing=Message.join(missing, "、")))
    return f"到{acct['bank']}（户名：{acct['account_name']}；账号：{acct['account_number']}）"


def _check_fine(kind: str, loaded: Mapping) -> None:
    if kind not in ("penalty_notice", "penalty_decision"):
        return
    rules = penalty_settings()
    fine = loaded["fine"]
    if not rules.low <= fine <= rules.high:
        raise ContextError(kind, {"fine": [Message("罚款 %(fine)s 元不在本县规定的 %(low)s–%(high)s 元范围内（%(basis)s）",
                                                    fine=fine, low=rules.low, high=rules.high, basis=rules.basis)]})


def _pdf_relpath(year: int, doc_number: str) -> str:
    safe = "".join("_" if ch in '/\\:\0' else ch for ch in doc_number)
    return f"letters/{year}/{safe}.pdf"


def _store_pdf(letter: Letter, pdf: bytes) -> None:
    """Write the PDF atomically under the instance folder and note its sha256."""
    rel = _pdf_relpath(letter.year, letter.doc_number)
    path = Path(current_app.instance_path) / rel
    write_private(path, pdf, prefix=".letter-")  # letters name children and their guardians: 0700
    letter.pdf_path = rel
    letter.sha256 = hashlib.sha256(pdf).hexdigest()


def issue_letter(
    kind: str,
    context: Mapping,
    *,
    issuer,
    cases: Iterable = (),
    issued_on: date,
    user=None,
    render: bool = True,
) -> Letter:
    """Number, render and store a letter; link it to its cases; audit it.

    In order: the context is validated (its kind's schema; for a penalty the fine
    must lie in the county's range) and every character checked against the fonts;
    then the document number is taken (:func:`~edu_guard.letters.numbering.next_number`,
    in this transaction); then the PDF is rendered and written to
    ``<instance>/letters/<year>/<doc_number>.pdf`` with its sha256 on the row. Any
    error before the flush leaves no letter and, once the caller rolls back, no
    used number. Flushes, never commits.

    :param kind: a letter kind (``order_to_correct`` …).
    :param context: the kind's fields (see :func:`context_for_case`).
    :param issuer: an :class:`Issuer`, ``"bureau"``, a Township, or ``{name, code}``.
    :param cases: the :class:`~edu_guard.cases.models.DropoutCase` rows it concerns.
    :param issued_on: the date printed on the letter (成文日期); its year is the
        year of the document number.
    :param user: who issues it (audit); the signed-in user by default.
    :param render: ``False`` numbers and stores the context only; the PDF is made by
        a later :func:`print_run` or :func:`letter_pdf` (bulk issuing).
    :return: the flushed :class:`Letter`.
    :raises ContextError: the context is incomplete or invalid.
    :raises MissingCharacters: some text has a character no installed font has.
    :raises FontsMissing: no Chinese font is installed.
    """
    spec = get_kind(kind)
    who = resolve_issuer(issuer)
    loaded = load_context(kind, context)
    _check_fine(kind, loaded)
    fields = dump_context(kind, loaded)
    mark = current_app.config["EDU_GUARD_LETTER_KIND_MARKS"].get(kind) or spec.mark
    if not mark:
        raise LetterError(Message("《%(kind_name)s》没有发文机关代字：请在 EDU_GUARD_LETTER_KIND_MARKS 中设置“%(kind)s”",
                                  kind_name=spec.name, kind=kind))
    title = spec.title(fields)

    # Check fonts before taking a number, so a refused letter uses none.
    probe_meta = {
        "kind": kind, "doc_number": f"{who.code}{mark}〔{issued_on.year}〕0号", "issuer_name": who.name,
        "issued_on": issued_on.isoformat(), "title": title, "recipient": spec.recipient(fields),
    }
    prepare([PrintItem(kind, {"letter": probe_meta, **fields}, title)])

    seq = numbering.next_number(who.code, mark, issued_on.year)
    doc_number = numbering.format_number(who.code, mark, issued_on.year, seq)
    meta = {**probe_meta, "doc_number": doc_number}
    full = {"letter": meta, **fields}
    letter = Letter(
        kind=kind,
        issuer_name=who.name,
        issuer_code=who.code,
        kind_mark=mark,
        year=issued_on.year,
        seq=seq,
        doc_number=doc_number,
        issued_on=issued_on,
        title=title,
        recipient=meta["recipient"],
        context=full,
        created_by_id=audit.acting_user_id(user),
    )
    if render:
        _store_pdf(letter, render_pdf([PrintItem(kind, full, doc_number)]))
    letter.cases = list(cases)
    db.session.add(letter)
    db.session.flush()
    audit.record("print", letter, user=user)
    db.session.flush()
    return letter


#: What a preview's number says instead of a sequence number.
PREVIEW_NUMBER = "（预览，未编号）"


def preview_letter(kind: str, context: Mapping, *, issuer, issued_on: date, notes: Sequence[str] = ()) -> bytes:
    """Render a letter as it would be issued, without numbering, storing or auditing
    it: the same checks as :func:`issue_letter` (the kind's schema, the county's fine
    range, the fonts), the number replaced by :data:`PREVIEW_NUMBER`, and a closing note
    saying it is a preview and which of its dates rest on an estimate (估算).

    :param kind: a numbered letter kind.
    :param context: the kind's fields (see :func:`context_for_case`).
    :param issuer: as for :func:`issue_letter`.
    :param issued_on: the date it would carry.
    :param notes: the estimated dates, e.g. ``["缴款期限 2027-01-15（估算）"]``.
    :return: PDF bytes.
    :raises ContextError, MissingCharacters, FontsMissing: see :func:`issue_letter`.
    """
    spec = get_kind(kind)
    who = resolve_issuer(issuer)
    loaded = load_context(kind, context)
    _check_fine(kind, loaded)
    fields = dump_context(kind, loaded)
    mark = current_app.config["EDU_GUARD_LETTER_KIND_MARKS"].get(kind) or spec.mark or ""
    lines = ["预览：本文书尚未编号、未印发，不得送达。"]
    lines += [f"估算：{n}（该年度国务院节假日安排尚未载入，按法定节假日和周末推算）" for n in notes]
    meta = {"kind": kind, "doc_number": f"{who.code}{mark}〔{issued_on.year}〕{PREVIEW_NUMBER}", "issuer_name": who.name,
            "issued_on": issued_on.isoformat(), "title": spec.title(fields), "recipient": spec.recipient(fields),
            "preview_notes": lines}
    return render_pdf([PrintItem(kind, {"letter": meta, **fields}, meta["doc_number"])])


def render_printable(kind: str, context: Mapping, *, issuer, issued_on: date, user=None, audited=None) -> bytes:
    """Render a printable that is not an official letter (``LetterKind.numbered`` is
    false: a placement record, a session log) as PDF bytes, in the letters' GB/T 9704
    page layout and fonts. It takes no document number and is not stored: the data
    it is made from is, and it prints the same again.

    :param kind: an unnumbered kind (``homebound_agreement``, ``homebound_log``).
    :param context: the kind's fields.
    :param issuer: as for :func:`issue_letter` (printed as the issuing body).
    :param issued_on: the date printed on it.
    :param audited: the mapped row the print is recorded against in the audit log
        (e.g. the placement); nothing is recorded when ``None``.
    :raises LetterError: ``kind`` is an official letter (use :func:`issue_letter`).
    :raises ContextError, MissingCharacters, FontsMissing: see :func:`issue_letter`.
    """
    pdf = render_pdf([printable_item(kind, context, issuer=issuer, issued_on=issued_on)])
    if audited is not None:
        audit.record("print", audited, before=None, after={"printed": kind, "sha256": hashlib.sha256(pdf).hexdigest()},
                     user=user)
    return pdf


def printable_item(kind: str, context: Mapping, *, issuer, issued_on: date) -> PrintItem:
    """A printable that is not an official letter, ready to print with other items
    (:func:`render_printable` prints one alone; a case file prints several with letters).

    :raises LetterError: ``kind`` is an official letter.
    :raises ContextError: the context does not fit the kind.
    """
    spec = get_kind(kind)
    if spec.numbered:
        raise LetterError(Message("《%(kind_name)s》是公文，须用 issue_letter 编号印发", kind_name=spec.name))
    who = resolve_issuer(issuer)
    fields = dump_context(kind, load_context(kind, context))
    meta = {"kind": kind, "doc_number": None, "issuer_name": who.name, "issued_on": issued_on.isoformat(),
            "title": spec.title(fields), "recipient": spec.recipient(fields)}
    return PrintItem(kind, {"letter": meta, **fields}, meta["title"])


def letter_item(letter: Letter) -> PrintItem:
    """A stored letter as an item of a print (with its 送达回证 when the kind has one)."""
    return _item(letter)


def _item(letter: Letter) -> PrintItem:
    return PrintItem(letter.kind, letter.context, letter.doc_number)


def print_run(letters: Sequence[Letter], *, progress=None) -> bytes:
    """Render stored letters as one PDF, each starting on a new page (with its 送达回证).

    Every letter's context is re-validated and every character checked before
    WeasyPrint starts, so a run either prints whole or not at all. Long runs are
    laid out in parallel chunks (``EDU_GUARD_PRINT_CHUNK``, ``EDU_GUARD_PRINT_WORKERS``).

    :param letters: the letters, in print order.
    :param progress: called as ``progress(done, total)`` as letters are laid out.
    :return: the PDF bytes.
    :raises ContextError, MissingCharacters, FontsMissing: see :func:`issue_letter`.
    """
    return render_pdf([_item(letter) for letter in letters], progress=progress)


def letter_pdf(letter: Letter) -> bytes:
    """Return a letter's stored PDF, rendering and storing it first if it has none.

    :raises LetterError: the stored file no longer matches its sha256.
    """
    if letter.pdf_path:
        path = Path(current_app.instance_path) / letter.pdf_path
        if path.exists():
            data = path.read_bytes()
            if hashlib.sha256(data).hexdigest() != letter.sha256:
                raise LetterError(Message("%(doc_number)s 的存档 PDF 与登记的 sha256 不符，文件可能被改动",
                                          doc_number=letter.doc_number))
            return data
    pdf = render_pdf([_item(letter)])
    _store_pdf(letter, pdf)
    db.session.flush()
    return pdf


# --- service (送达) ---------------------------------------------------------------------

SERVICE_FIELDS = ["served_on", "service_manner", "served_to", "served_by"]


def local_today() -> date:
    """Return the county's today (:func:`edu_guard.clock.today`)."""
    return clock.today()


def record_service(
    letter: Letter,
    served_on: date,
    manner: str,
    served_to: str,
    served_by: str,
    user=None,
) -> Letter:
    """Record the proof of service (送达回证) of a letter, with an audit row.

    Service starts the letter's legal periods (the return deadline, the statement
    and hearing windows of 行政处罚法 Art. 44–45, 64, the 15 days to pay of Art. 67,
    the 10 days of a 催告书 under 行政强制法 Art. 54), so it is recorded once: the
    update only applies to a letter not yet served, even with two clerks at once.

    :param letter: the letter served.
    :param served_on: the date of service: not before the letter's date, not in the
        future.
    :param manner: one of :data:`~edu_guard.letters.models.SERVICE_MANNERS`.
    :param served_to: who received it (the recipient, or who signed for them).
    :param served_by: who served it (送达人, names as written on the slip).
    :param user: who records it (audit); the signed-in user by default.
    :return: the letter, refreshed.
    :raises ServiceError: a bad manner, date or name, or a second service record.
    """
    if manner not in SERVICE_MANNERS:
        raise ServiceError(Message("送达方式“%(manner)s”不对，应为：%(service_manners)s",
                                   manner=manner,
                                   service_manners=Message.join([Message(m) for m in SERVICE_MANNERS], "、")))
    served_to = (served_to or "").strip()
    served_by = (served_by or "").strip()
    if not served_to or not served_by:
        raise ServiceError(Message("请填写受送达人（签收人）和送达人"))
    if served_on < letter.issued_on:
        raise ServiceError(Message("送达日期 %(served_on)s 早于文书日期 %(issued_on)s（%(doc_number)s）",
                                   served_on=served_on.isoformat(), issued_on=letter.issued_on.isoformat(),
                                   doc_number=letter.doc_number))
    today = local_today()
    if served_on > today:
        raise ServiceError(Message("送达日期 %(served_on)s 晚于今天 %(today)s，不能预先登记送达",
                                   served_on=served_on.isoformat(), today=today.isoformat()))
    if letter.served_on is not None:
        raise ServiceError(Message("%(doc_number)s 已于 %(served_on)s 登记送达，不能重复登记",
                                   doc_number=letter.doc_number, served_on=letter.served_on.isoformat()))
    before = audit.snapshot(letter, SERVICE_FIELDS)
    result = db.session.execute(
        sa.update(Letter)
        .where(Letter.id == letter.id, Letter.served_on.is_(None))
        .values(served_on=served_on, service_manner=manner, served_to=served_to, served_by=served_by)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        raise ServiceError(Message("%(doc_number)s 已由他人登记送达，不能重复登记", doc_number=letter.doc_number))
    db.session.refresh(letter)
    audit.record("serve", letter, before=before, after=audit.snapshot(letter, SERVICE_FIELDS), user=user)
    db.session.flush()
    return letter


# --- contexts from a case ---------------------------------------------------------------


def late_surcharge(fine: Decimal, due_on: date, as_of: date) -> Decimal:
    """Return the 加处罚款 owed on ``as_of`` for a fine due on ``due_on`` (yuan).

    行政处罚法 Art. 72 (1): 3 % of the fine for every day after the last day to pay;
    行政强制法 Art. 45: never more than the fine itself. Rounded half up to the fen.

    :param fine: the fine in yuan.
    :param due_on: the last day to pay (service of the decision + 15 days, Art. 67).
    :param as_of: the day the surcharge is counted to.
    """
    days = (as_of - due_on).days
    if days <= 0:
        return Decimal("0.00")
    fine = Decimal(fine)
    surcharge = min(fine * Decimal("0.03") * days, fine)
    return money.to_yuan(surcharge)


def _cfg_int(key: str) -> int:
    return int(current_app.config[key])


def _child_data(case, *, full_id: bool = False) -> dict:
    child = case.child
    enrollment = child.current_enrollment
    school = case.school or (enrollment.school if enrollment else None)
    guardian = child.guardians[0] if child.guardians else None
    return {
        "name": child.name,
        "sex": child.sex,
        "birth_date": child.birth_date,
        "id_number": child.id_number if full_id else mask_id_number(child.id_number),
        "school": school.name if school else None,
        "grade": enrollment.grade if enrollment else None,
        "guardian": guardian.name if guardian else None,
        "guardian_phone": guardian.phone if guardian else None,
        "address": child.address,
        "out_since": case.opened_on,
        "reason": case.reason,
    }


def _guardian_data(case, kind: str) -> dict:
    """The guardian a letter is addressed to: the first registered guardian with a name,
    else the guardian among the case's responsible people."""
    child = case.child
    named = [g for g in child.guardians if g.name]  # a roster may give a phone without a name
    if named:
        g = named[0]
        return {"name": g.name, "relation": g.relation, "phone": g.phone, "address": g.address or child.address,
                "id_number": g.id_number}
    for a in case.assignments:
        if a.role == "guardian":
            return {"name": a.name, "relation": None, "phone": a.phone, "address": child.address}
    raise LetterError(Message("%(name)s没有登记监护人，无法生成《%(kind_name)s》", name=child.name, kind_name=get_kind(kind).name))


def _require_party(case, party: dict, kind: str, *, id_number: bool = False) -> None:
    """The party's address (行政处罚法 Art. 59 (一); the place of service) and, for a
    court application, ID number (行政强制法 Art. 55) must be on record.

    :raises LetterError: naming what is missing and where to record it.
    """
    missing = [what for what, ok in ((N_("住址"), party.get("address")),
                                     (N_("身份证号"), party.get("id_number") or not id_number))
               if not ok]
    if missing:
        what = Message("住址和身份证号") if len(missing) == 2 else Message(missing[0])
        args = dict(name=party["name"], missing=what, kind_name=get_kind(kind).name, case_id=getattr(case, "id", ""))
        if id_number:
            raise LetterError(Message("监护人%(name)s没有登记%(missing)s，不能制发《%(kind_name)s》（须写明当事人的姓名、住址、身份证号）："
                                      "请在个案页面“登记监护人”，或用 edu-guard cases guardian %(case_id)s --address … "
                                      "--id-number … 登记", **args))
        raise LetterError(Message("监护人%(name)s没有登记%(missing)s，不能制发《%(kind_name)s》（须写明当事人的姓名、住址）："
                                  "请在个案页面“登记监护人”，或用 edu-guard cases guardian %(case_id)s --address … "
                                  "--id-number … 登记", **args))


def _school_name(case, kind: str) -> str:
    data = _child_data(case)
    if not data["school"]:
        raise LetterError(Message("%(name)s没有就读学校，无法生成《%(kind_name)s》",
                                  name=case.child.name, kind_name=get_kind(kind).name))
    return data["school"]


def _township(case):
    return case.township or case.child.township


def _latest_letter(case, kind: str) -> Letter:
    letters = [l for l in getattr(case, "letters", []) if l.kind == kind and l.voided_on is None]
    if not letters:
        raise LetterError(Message("该个案还没有《%(kind_name)s》", kind_name=get_kind(kind).name))
    return max(letters, key=lambda l: (l.issued_on, l.id))


def _ref(ref, kind: str, case) -> dict:
    """A reference to an earlier, served letter: a Letter, a mapping, or looked up."""
    if ref is None:
        ref = _latest_letter(case, kind)
    if isinstance(ref, Mapping):
        return dict(ref)
    if ref.served_on is None:
        raise LetterError(Message("《%(title)s》（%(doc_number)s）尚未登记送达，不能进入下一步",
                                  title=ref.title, doc_number=ref.doc_number))

    deemed = effective_service(ref.served_on, ref.service_manner).day
    return {
        "title": ref.title,
        "doc_number": ref.doc_number,
        "issuer_name": ref.issuer_name,
        "issued_on": ref.issued_on,
        "served_on": ref.served_on,
        "deadline": (ref.context or {}).get("deadline"),
        "service_manner": ref.service_manner,
        "deemed_on": deemed if deemed != ref.served_on else None,
    }


def case_evidence(case, order: Mapping) -> list[str]:
    """The evidence a penalty letter names, one item per record the case holds: the
    served 责令限期改正通知书 and its 送达回证, and the case's home visits (in person) and
    other persuasion (phone, WeChat …) records with their number. Nothing is named that
    the case does not hold (no fixed "学校出具的证明"): 行政处罚法 Art. 40, 59 (二).

    :param case: the dropout case (its ``visits``).
    :param order: the served order as referenced (:func:`_ref`): ``doc_number``.
    :return: Chinese items, e.g. ``["《责令限期改正通知书》（…）及其送达回证", "家访记录2份"]``.
    """
    items = [f"《责令限期改正通知书》（{order['doc_number']}）及其送达回证" if order.get("doc_number")
             else "《责令限期改正通知书》及其送达回证"]
    visits = list(getattr(case, "visits", None) or [])
    in_person = sum(1 for v in visits if v.form == "入户")
    remote = len(visits) - in_person
    if in_person:
        items.append(f"入户家访劝返记录{in_person}份")
    if remote:
        items.append(f"电话、微信等方式劝返记录{remote}份")
    return items


def _fine_of(ref_letter, kind: str, case) -> Decimal:
    letter = ref_letter if isinstance(ref_letter, Letter) else _latest_letter(case, kind)
    return Decimal(str(letter.context["fine"]))


def _contact(extra: dict, bureau: bool = True) -> dict:
    """The contact printed on a letter: what the caller passes, else the bureau's
    (``EDU_GUARD_BUREAU_CONTACT``: person, phone, address; 行政处罚法 Art. 44 — where to
    state a case — and 行政强制法 Art. 35) for the bureau's letters."""
    conf = (current_app.config.get("EDU_GUARD_BUREAU_CONTACT") or {}) if bureau else {}
    return {k: extra.pop(k, None) or conf.get(k.removeprefix("contact_")) for k in
            ("contact_person", "contact_phone", "contact_address")}


def _return_contact(cases, extra: dict) -> dict:
    cases = list(cases) if isinstance(cases, (list, tuple)) else [cases]
    if not cases:
        raise LetterError(Message("劝返联系函至少要列出一名儿童"))
    townships = {getattr(_township(c), "id", None) for c in cases}
    if len(townships) != 1 or None in townships:
        raise LetterError(Message("一份劝返联系函只能发给一个乡镇：所列个案须属于同一乡镇"))
    township = _township(cases[0])
    full_ids = bool(extra.pop("full_ids", False))
    ctx = {
        "recipient": township_office(township),
        "orders_by_bureau": order_issuer_is_bureau(township),
        "township": township.name,
        "children": [_child_data(c, full_id=full_ids) for c in cases],
        "reply_by": extra.pop("reply_by", None),
        **_contact(extra),
    }
    if "source" in extra:
        ctx["source"] = extra.pop("source")
    return ctx


def context_for_case(kind: str, case, **extra) -> dict:
    """Build the context of a ``kind`` letter about ``case`` (plain Python values).

    Facts come from the case (child, guardian, school, township, the earlier letters
    and their service); the county's legal settings from the config; what the case
    service decides is passed in ``extra``. Any key of ``extra`` that is a field of
    the kind's schema overrides the built value. Pass the result to
    :func:`issue_letter`.

    Extra arguments per kind (dates are :class:`~datetime.date`, yuan
    :class:`~decimal.Decimal`):

    * ``return_contact`` — ``case`` may be a list of cases of one township;
      ``reply_by`` (required); ``full_ids`` (print whole ID numbers; masked by
      default); ``source``; ``contact_person``, ``contact_phone``.
    * ``order_to_correct`` — ``deadline`` (required: the return date, 义务教育法
      Art. 58 "限期"); ``visits`` (default: the case's home visits).
    * ``penalty_notice`` — ``fine`` (required, within EDU_GUARD_FINE_MIN/MAX);
      ``order`` (the served order Letter; default the case's latest).
    * ``penalty_decision`` — ``fine`` (default: the notice's); ``notice``, ``order``;
      ``statement`` (what came of the statement or hearing).
    * ``demand`` — ``decision`` (default the case's latest served decision);
      ``surcharge`` (default: 3 % a day after the 15 days to pay, up to ``as_of``,
      default today; 行政处罚法 Art. 72).
    * ``enforcement_application`` — ``representative`` (required: the head who signs,
      行政强制法 Art. 55); ``representative_title`` (default 局长);
      ``applicant_address``; ``decision``, ``demand``; ``surcharge``/``as_of``;
      ``attachments`` (the materials, from the case's records); ``party_statement``
      (what the party said after the 催告书 and the review, 行政强制法 Art. 36).
      A letter stored without them (issued before) reprints as it was.

    :param kind: the letter kind.
    :param case: a :class:`~edu_guard.cases.models.DropoutCase` (or, for
        ``return_contact``, a list of them).
    :raises LetterError: the case lacks what the letter needs (a guardian, a school, a
        served earlier letter).
    """
    spec = get_kind(kind)
    cfg = current_app.config
    extra = dict(extra)
    if kind == "return_contact":
        ctx = _return_contact(case, extra)
    else:
        child = _child_data(case)
        guardian = _guardian_data(case, kind)
        bureau = bureau_issuer().name
        remedies = {
            "review_authority": cfg["EDU_GUARD_REVIEW_AUTHORITY"],
            "review_days": _cfg_int("EDU_GUARD_REVIEW_DAYS"),
            "court": cfg["EDU_GUARD_COURT"],
            "lawsuit_months": _cfg_int("EDU_GUARD_LAWSUIT_MONTHS"),
        }
        if kind == "order_to_correct":
            by_bureau = order_issuer_is_bureau(_township(case)) if _township(case) is not None else False
            ctx = {
                "guardian": guardian,
                "child": child,
                "school": _school_name(case, kind),
                "deadline": extra.pop("deadline", None),
                # "上门劝返" counts only visits made in person (入户); calls and messages
                # are said as such, so the letter states what happened.
                "visits": extra.pop("visits", sum(1 for v in getattr(case, "visits", []) or [] if v.form == "入户")),
                "contacts": extra.pop("contacts", sum(1 for v in getattr(case, "visits", []) or [] if v.form != "入户")),
                "authority": bureau,
                "penalty_basis": cfg.get("EDU_GUARD_PENALTY_BASIS") or None,
                **remedies,
                **_contact(extra, bureau=by_bureau),
            }
        elif kind in ("penalty_notice", "penalty_decision", "hearing_notice"):
            rules = penalty_settings()
            _require_party(case, guardian, kind)
            order = _ref(extra.pop("order", None), "order_to_correct", case)
            ctx = {
                "party": guardian,
                "child": child,
                "school": _school_name(case, kind),
                "order": order,
                "basis": rules.basis,
                "evidence": extra.pop("evidence", None) or case_evidence(case, order),
                **_contact(extra),
            }
            if kind == "penalty_notice":
                ctx.update(
                    fine=extra.pop("fine", None),
                    statement_days=_cfg_int("EDU_GUARD_STATEMENT_DAYS"),
                    hearing_days=_cfg_int("EDU_GUARD_HEARING_REQUEST_DAYS"),
                    hearing=extra.pop("hearing", True),
                )
            elif kind == "hearing_notice":
                ctx.pop("evidence")
                notice_arg = extra.pop("notice", None)
                ctx.update(notice=_ref(notice_arg, "penalty_notice", case),
                           fine=_fine_of(notice_arg, "penalty_notice", case))
            else:
                notice_arg = extra.pop("notice", None)
                notice = _ref(notice_arg, "penalty_notice", case)
                notice_fine = _fine_of(notice_arg, "penalty_notice", case)
                fine = extra.pop("fine", None)
                if fine is None:
                    fine = notice_fine
                ctx.update(
                    notice=notice,
                    fine=fine,
                    notice_fine=notice_fine,
                    fine_reason=extra.pop("fine_reason", None),
                    statement=extra.pop("statement", None),
                    payment_days=_cfg_int("EDU_GUARD_FINE_PAYMENT_DAYS"),
                    payment_method=extra.pop("payment_method", None) or payment_channel(),
                    **remedies,
                )
        elif kind in ("demand", "enforcement_application"):
            penalty_settings()
            _require_party(case, guardian, kind, id_number=kind == "enforcement_application")
            decision_arg = extra.pop("decision", None)
            decision = _ref(decision_arg, "penalty_decision", case)
            fine = extra.pop("fine", None)
            if fine is None:
                fine = _fine_of(decision_arg, "penalty_decision", case)
            fine = Decimal(str(fine))
            paid = Decimal(str(extra.pop("paid", None) or "0"))
            as_of = extra.pop("as_of", None) or local_today()
            surcharge = extra.pop("surcharge", None)
            if surcharge is None:
                due_on = extra.pop("due_on", None) or decision["served_on"] + timedelta(days=_cfg_int("EDU_GUARD_FINE_PAYMENT_DAYS"))
                surcharge = late_surcharge(fine, due_on, as_of)
            extra.pop("due_on", None)
            surcharge = Decimal(str(surcharge))
            money = {"fine": fine, "paid": paid, "surcharge": surcharge, "total": fine - paid + surcharge}
            history = extra.pop("history", None)
            if kind == "demand":
                ctx = {
                    "party": guardian,
                    "child": child,
                    "decision": decision,
                    **money,
                    "history": history,
                    "comply_days": _cfg_int("EDU_GUARD_DEMAND_DAYS"),
                    "statement_days": _cfg_int("EDU_GUARD_STATEMENT_DAYS"),
                    "payment_method": extra.pop("payment_method", None) or payment_channel(),
                    "court": cfg["EDU_GUARD_COURT"],
                    **_contact(extra),
                }
            else:
                contact = _contact(extra)
                ctx = {
                    "court": cfg["EDU_GUARD_COURT"],
                    "applicant": {
                        "name": bureau,
                        "address": extra.pop("applicant_address", None) or contact.get("contact_address"),
                        "representative": extra.pop("representative", None),
                        "representative_title": extra.pop("representative_title", None) or "局长",
                    },
                    "respondent": guardian,
                    "child": child,
                    "decision": decision,
                    "demand": _ref(extra.pop("demand", None), "demand", case),
                    **money,
                    "history": history,
                    "review_days": _cfg_int("EDU_GUARD_REVIEW_DAYS"),
                    "lawsuit_months": _cfg_int("EDU_GUARD_LAWSUIT_MONTHS"),
                    "attachments": extra.pop("attachments", None),
                    "party_statement": extra.pop("party_statement", None),
                    **contact,
                }
        else:  # pragma: no cover - get_kind() knows every kind handled above
            raise LetterError(Message("没有为《%(kind_name)s》编写从个案生成内容的规则", kind_name=spec.name))
    # Whatever is left overrides a built field of the schema (e.g. school, basis).
    declared = set(spec.schema().fields)
    unknown = set(extra) - declared
    if unknown:
        raise LetterError(Message("《%(kind_name)s》没有这些字段：%(fields)s",
                                  kind_name=spec.name, fields=", ".join(sorted(unknown))))
    ctx.update(extra)
    return ctx
