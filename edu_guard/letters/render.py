"""Letters to PDF: Jinja2 templates → one HTML document → WeasyPrint (docs/architecture.md).

This is the only module that imports WeasyPrint (lazily, so that importing the
letters services does not slow down the app's start). It is locked down:

* templates are rendered with the app's Jinja loader, autoescaping on, and
  :class:`jinja2.StrictUndefined`; every context is checked against its kind's schema
  and every string against the installed fonts **before** any PDF is made;
* the URL fetcher serves only the project's own stylesheets (``templates/letters/``),
  and refuses everything else (fonts come from the system, through fontconfig): user text is escaped, and
  no URL anywhere is fetched from the network;
* one function, :func:`render_pdf`, returns the PDF bytes of one letter or of a whole
  print run (each letter starting on a new page, followed by its 送达回证).

Layout follows GB/T 9704-2012 (see ``templates/letters/gbt9704.css``).
"""

from __future__ import annotations

import functools
import io
import logging
import mimetypes
import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from urllib.request import url2pathname

import jinja2
from flask import Flask, current_app
from markupsafe import Markup

from edu_guard import money
from edu_guard.i18n import Message
from edu_guard.letters import pagination
from edu_guard.letters.fonts import LetterFonts, MissingCharacters, load_fonts
from edu_guard.letters.models import SERVICE_MANNERS
from edu_guard.letters.schemas import ContextError, LetterError, get_kind, validate_stored
from edu_guard.paths import TEMPLATE_DIR

#: The letters' templates and stylesheet; the URL fetcher serves files from here.
LETTER_TEMPLATE_DIR = TEMPLATE_DIR / "letters"
#: File types the URL fetcher serves from its folders.
SERVED_SUFFIXES = {".css": "text/css", ".svg": "image/svg+xml"}

EXT_FONTS = "edu_guard.letters.fonts"
EXT_JINJA = "edu_guard.letters.jinja"


class GlyphMissing(LetterError):
    """WeasyPrint drew a .notdef box (a safety net behind :class:`MissingCharacters`)."""


# --- formatting helpers (also the templates' filters) ------------------------------


def _as_date(value: date | str) -> date:
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value))


def chinese_date(value: date | str) -> str:
    """Return a date the way official documents print it: ``2021年3月5日``.

    GB/T 9704 7.3.5.1: Arabic numerals, the year in full, no leading zeros.

    :param value: a date or an ISO date string (``2021-03-05``).
    """
    d = _as_date(value)
    return f"{d.year}年{d.month}月{d.day}日"


_CN_DIGITS = "零一二三四五六七八九"


def chinese_number(value: int | str) -> str:
    """Return a small whole number in Chinese numerals: 3 → 三, 15 → 十五, 60 → 六十.

    Used for legal periods (``十五日内``), as statutes write them. 0–999.

    :raises ValueError: outside 0–999.
    """
    n = int(value)
    if not 0 <= n <= 999:
        raise ValueError(f"{n} is outside 0–999")
    if n < 10:
        return _CN_DIGITS[n]
    hundreds, rest = divmod(n, 100)
    tens, ones = divmod(rest, 10)
    out = ""
    if hundreds:
        out += _CN_DIGITS[hundreds] + "百"
        if tens:
            out += _CN_DIGITS[tens] + "十"
        elif ones:
            out += "零"
    elif tens:
        out += ("" if tens == 1 else _CN_DIGITS[tens]) + "十"
    if ones:
        out += _CN_DIGITS[ones]
    return out


def you_of(township: str) -> str:
    """Return how a letter addresses a township: 嘎洒镇 → 你镇, 勐养乡 → 你乡, 允景洪街道 → 你街道."""
    for suffix in ("街道办事处", "街道", "镇", "乡"):
        if township.endswith(suffix):
            return "你" + ("街道" if suffix.startswith("街道") else suffix)
    return "你单位"


def em_width(text: str) -> float:
    """Return the approximate printed width of ``text`` in em (CJK 1, digits 0.55).

    Used to make the signature block exactly as wide as the date without a
    shrink-to-fit layout pass (Noto Serif CJK SC digits are 0.47–0.56 em).
    """
    width = 0.0
    for ch in text:
        width += (0.55 if ch.isdigit() else 0.5) if ch.isascii() else 1.0
    return round(width, 2)


def served_when(ref) -> str:
    """How a letter cites the service of an earlier document (a DocRef mapping): its
    date, or for 公告送达 the publication date and the day it was deemed served
    (民事诉讼法 Art. 92 of 2017 / Art. 95 of 2021)."""
    served = chinese_date(ref.get("served_on"))
    if ref.get("service_manner") == "公告送达" and ref.get("deemed_on"):
        return f"{served}以公告方式（于{chinese_date(ref['deemed_on'])}视为送达）"
    return served


FILTERS = {
    "served_when": served_when,
    "cn_date": chinese_date,
    "em_width": em_width,
    "cn_num": chinese_number,
    "yuan": money.yuan_text,
    "rmb_upper": money.capital,
    "you_of": you_of,
}


# --- per-app state: fonts and the Jinja environment --------------------------------


def letter_fonts(app: Flask | None = None) -> LetterFonts:
    """Return what the installed fonts can print, read once per app (about 30 ms).

    :raises FontsMissing: no Chinese font is installed (says to install fonts-noto-cjk).
    """
    app = app or current_app
    fonts = app.extensions.get(EXT_FONTS)
    if fonts is None:
        fonts = load_fonts()
        app.extensions[EXT_FONTS] = fonts
    return fonts


def letters_env(app: Flask | None = None) -> jinja2.Environment:
    """Return the letters' Jinja environment: the app's, with StrictUndefined.

    An overlay of ``app.jinja_env`` (same loader, autoescaping of ``.html``) with its
    own template cache and filters, so a letter template that names a variable its
    context lacks fails before anything is printed.
    """
    app = app or current_app
    env = app.extensions.get(EXT_JINJA)
    if env is None:
        env = app.jinja_env.overlay(undefined=jinja2.StrictUndefined, cache_size=100)
        env.filters = {**app.jinja_env.filters, **FILTERS}
        env.globals = {**app.jinja_env.globals, "service_manners": SERVICE_MANNERS}
        app.extensions[EXT_JINJA] = env
    return env


# --- the URL fetcher ----------------------------------------------------------------


@functools.cache
def _fetcher_class():
    from weasyprint import URLFetcher
    from weasyprint.urls import URLFetcherResponse

    class LetterURLFetcher(URLFetcher):
        """Serve files from the allowed folders only; refuse (and record) every other URL.

        :ivar fetched: URLs served.
        :ivar refused: URLs refused (never opened).
        """

        def __init__(self, roots: Sequence[Path]):
            super().__init__(timeout=1, allowed_protocols=("file",), allow_redirects=False)
            self.roots = [Path(r).resolve() for r in roots]
            self.fetched: list[str] = []
            self.refused: list[str] = []

        def local_path(self, url: str) -> Path | None:
            """Return the served file of ``url``, or ``None`` if it is not allowed."""
            if not url.lower().startswith("file:") or "?" in url or "#" in url:
                return None
            path = Path(url2pathname(url[len("file:"):].removeprefix("//"))).resolve()
            if path.suffix.lower() not in SERVED_SUFFIXES or not path.is_file():
                return None
            if not any(path.is_relative_to(root) for root in self.roots):
                return None
            return path

        def fetch(self, url, headers=None):
            path = self.local_path(url)
            if path is None:
                self.refused.append(url)
                logging.getLogger(__name__).warning("letter rendering refused to fetch %r", url)
                raise ValueError(f"refused: letters fetch only their own stylesheets and fonts ({url!r})")
            self.fetched.append(url)
            content_type = SERVED_SUFFIXES.get(path.suffix.lower()) or mimetypes.guess_type(path.name)[0]
            return URLFetcherResponse(url, body=path.read_bytes(), headers={"Content-Type": content_type})

    return LetterURLFetcher


def make_url_fetcher(app: Flask | None = None):
    """Return a fresh URL fetcher serving ``templates/letters/`` (stylesheet, images) only."""
    return _fetcher_class()([LETTER_TEMPLATE_DIR])


# --- rendering ------------------------------------------------------------------------


@dataclass
class PrintItem:
    """One letter of a print: its kind, stored context and a label for messages.

    :ivar context: ``{"letter": {...meta}, **fields}`` as stored in ``Letter.context``.
    :ivar label: the document number (or title) naming the letter in an error.
    """

    kind: str
    context: Mapping
    label: str = ""


def prepare(items: Sequence[PrintItem], *, app: Flask | None = None) -> list[dict]:
    """Validate every item and check every string against the fonts, before printing.

    Errors of all items are collected, so one message lists every problem of a run.

    :return: the validated contexts (plain data), in order.
    :raises ContextError: a context misses a field its template needs.
    :raises MissingCharacters: some text has a character no installed font has.
    :raises FontsMissing: no Chinese font is installed.
    """
    fonts = letter_fonts(app)
    contexts, errors, problems = [], [], []
    for item in items:
        label = item.label or get_kind(item.kind).name
        try:
            ctx = validate_stored(item.kind, item.context, label)
        except ContextError as exc:
            errors.append(exc)
            continue
        contexts.append(ctx)
        problems.extend(fonts.check(ctx, label))
    if errors:
        if len(errors) == 1:
            raise errors[0]
        raise ContextError("*", {str(e.args[0]).splitlines()[0]: e.messages for e in errors},
                           Message("本批%(count)s份文书", count=len(errors)))
    if problems:
        raise MissingCharacters(problems)
    return contexts


def build_html(items: Sequence[PrintItem], contexts: Sequence[Mapping], *, app: Flask | None = None) -> str:
    """Render already :func:`prepare`-d letters as one HTML document.

    :raises jinja2.UndefinedError: a template names a variable its context lacks.
    """
    app = app or current_app
    env = letters_env(app)
    fragments = []
    for item, ctx in zip(items, contexts):
        spec = get_kind(item.kind)
        slip = {"recipient": spec.recipient(ctx), "address": spec.address(ctx)}
        fragments.append(Markup(env.get_template(spec.template).render(**ctx, spec=spec, slip=slip)))
    title = contexts[0]["letter"]["title"] if len(contexts) == 1 else f"文书印制（{len(contexts)}份）"
    return env.get_template("letters/_base.html").render(
        fragments=fragments,
        doc_title=title,
    )


def render_html(items: Sequence[PrintItem], *, app: Flask | None = None) -> str:
    """Check and render letters as one HTML document (each starting on a new page).

    :raises ContextError, MissingCharacters, FontsMissing: see :func:`prepare`.
    :raises jinja2.UndefinedError: a template names a variable its context lacks.
    """
    app = app or current_app
    return build_html(items, prepare(items, app=app), app=app)


def _write_pdf(html: str, fetcher) -> tuple[bytes, list[str]]:
    """Lay out and write one HTML document; return the PDF and any boxed characters."""
    from weasyprint import HTML

    base_url = LETTER_TEMPLATE_DIR.as_uri() + "/"
    document = pagination.lay_out(html, lambda h: HTML(string=h, base_url=base_url, url_fetcher=fetcher).render())
    pdf = document.write_pdf()
    missing = sorted({chr(cp) for font in document.fonts.values() for cp in font.missing})
    return pdf, missing


def _raise_if_missing(missing: Sequence[str]) -> None:
    if missing:
        raise GlyphMissing(Message("排版时以下字符没有可用字形，已停止打印：%(missing)s", missing="、".join(missing)))


def html_to_pdf(html: str, *, app: Flask | None = None, url_fetcher=None) -> bytes:
    """Return the PDF of a letters HTML document (fonts embedded, text extractable).

    :param html: from :func:`render_html`.
    :param url_fetcher: a fetcher from :func:`make_url_fetcher` (to inspect what it
        served or refused); a fresh one by default.
    :raises GlyphMissing: a character was drawn as a box (never stored or printed).
    """
    pdf, missing = _write_pdf(html, url_fetcher or make_url_fetcher(app))
    _raise_if_missing(missing)
    return pdf


def _chunk_worker(html: str, roots: list[str]) -> tuple[bytes, list[str]]:
    """Render one chunk of a print run in a worker process (no Flask app there)."""
    return _write_pdf(html, _fetcher_class()([Path(r) for r in roots]))


def merge_pdfs(pdfs: Sequence[bytes]) -> bytes:
    """Concatenate PDFs page by page into one (pypdf)."""
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter()
    for pdf in pdfs:
        for page in PdfReader(io.BytesIO(pdf)).pages:
            writer.add_page(page)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def print_workers(app: Flask | None = None) -> int:
    """Return how many processes lay out a long print run in parallel.

    ``EDU_GUARD_PRINT_WORKERS``, or the number of CPUs (at most 4).
    """
    app = app or current_app
    configured = app.config.get("EDU_GUARD_PRINT_WORKERS")
    if configured:
        return max(1, int(configured))
    return max(1, min(os.cpu_count() or 1, 4))


def render_pdf(items: Sequence[PrintItem], *, app: Flask | None = None, progress=None) -> bytes:
    """Return the PDF bytes of one or many letters, each starting on a new page.

    Everything that can fail on the data (schemas, template variables, fonts) fails
    before WeasyPrint starts. A run longer than ``EDU_GUARD_PRINT_CHUNK`` letters is
    laid out in chunks of that many letters, by :func:`print_workers` processes at
    once, and the chunks' PDFs are joined in order: WeasyPrint lays a document out
    in one thread and keeps every page in memory, so chunks bound the memory and use
    every CPU. Page numbers restart with every letter, so chunking changes nothing
    on paper.

    :param items: the letters, in print order.
    :param progress: called as ``progress(done, total)`` (letters) as chunks finish.
    :raises ContextError, MissingCharacters, FontsMissing, GlyphMissing: see above.
    """
    app = app or current_app
    if not items:
        raise LetterError(Message("没有要打印的文书"))
    contexts = prepare(items, app=app)
    total = len(items)
    chunk = max(1, int(app.config.get("EDU_GUARD_PRINT_CHUNK") or 50))
    if total <= chunk:
        pdf = html_to_pdf(build_html(items, contexts, app=app), app=app)
        if progress:
            progress(total, total)
        return pdf
    n_chunks = -(-total // chunk)
    size = -(-total // n_chunks)  # balanced: 60 letters → 2 × 30, not 50 + 10
    bounds = [(start, min(start + size, total)) for start in range(0, total, size)]
    htmls = [build_html(items[a:b], contexts[a:b], app=app) for a, b in bounds]
    roots = [str(r) for r in make_url_fetcher(app).roots]
    # Starting a worker costs about two seconds (a fresh interpreter importing
    # WeasyPrint), so workers only pay off for runs of several chunks each.
    workers = min(print_workers(app), len(htmls) // 2)
    results: list[tuple[bytes, list[str]]] = []
    if workers > 1:
        # spawn, not fork: the app has threads (server, DB pool) a fork would copy.
        pool = ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"))
        with pool:
            futures = [pool.submit(_chunk_worker, html, roots) for html in htmls]
            for (a, b), future in zip(bounds, futures):
                results.append(future.result())
                if progress:
                    progress(b, total)
    else:
        fetcher = make_url_fetcher(app)
        for (a, b), html in zip(bounds, htmls):
            results.append(_write_pdf(html, fetcher))
            if progress:
                progress(b, total)
    _raise_if_missing(sorted({ch for _, missing in results for ch in missing}))
    return merge_pdfs([pdf for pdf, _ in results])
