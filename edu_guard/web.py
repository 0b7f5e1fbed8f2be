"""What every page shares (网页边界): the request boundary, the login guard, the error
pages and the template helpers.

**One place commits.** :class:`App` (the Flask class :func:`edu_guard.app.create_app`
builds) runs every view inside one transaction, as indico's ``RH.process`` does: when
the view returns and the session has changes, they are committed once; when the view
raises, everything is rolled back. A lost race at that commit — a stale version
(``StaleDataError``) or a unique constraint (``IntegrityError``) — becomes the Chinese
409 page, nothing saved. Views never call ``commit`` or ``rollback``: a service's
refusal is caught with :func:`refusals`, which rolls the refused work back and flashes
the reason. Work that must follow the commit (a plugin event) is queued with
:func:`after_commit`.
"""

from __future__ import annotations

import unicodedata
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

from flask import Flask, abort, current_app, flash, jsonify, redirect, render_template, request, url_for
from flask.json.provider import DefaultJSONProvider
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException

from edu_guard import i18n
from edu_guard.db import db, is_busy
from edu_guard.transaction import after_commit, discard, finish  # noqa: F401 (after_commit: the views' name)


@dataclass
class Outcome:
    """What :func:`refusals` saw: ``refused`` is the service's error, or ``None``."""

    refused: Exception | None = None

    @property
    def ok(self) -> bool:
        """Whether the service call went through."""
        return self.refused is None


@contextmanager
def refusals(*errors: type[Exception], flash_it: bool = True) -> Iterator[Outcome]:
    """Catch a service's refusal (one of ``errors``): roll back the request's unsaved
    work (the refused call's included), so nothing is half-written, and flash the
    refusal's (Chinese) message. A view makes one service call per request.

    ``with refusals(CaseError) as outcome: case = services.open_case(…)``, then
    ``if outcome.ok: …``.
    """
    outcome = Outcome()
    try:
        yield outcome
    except errors as exc:
        discard()
        outcome.refused = exc
        if flash_it:
            flash(str(exc), "error")


def run_or_flash(action: Callable, refusals_: tuple[type[Exception], ...], success: str | None = None):
    """Run ``action`` (a service call); a refusal (one of ``refusals_``) is rolled back
    and flashed as an error. The request boundary commits.

    :return: the action's result, or ``None`` when it was refused.
    """
    with refusals(*refusals_) as outcome:
        result = action()
    if not outcome.ok:
        return None
    if success:
        flash(success, "success")
    return result


#: Methods that change nothing: auditors may use only these (docs/domain.md §6).
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def form_errors(form) -> str:
    """Return a Flask-WTF form's errors as one sentence: ``label：message；…`` (English
    pages: ``label: message; …``)."""
    colon, comma = i18n.punct("："), i18n.punct("，")
    return i18n.punct("；").join(f"{form[name].label.text}{colon}{comma.join(map(str, msgs))}"
                                for name, msgs in form.errors.items())


class JSONProvider(DefaultJSONProvider):
    """Flask's JSON, which also writes a :class:`~edu_guard.i18n.Message` (a job's
    failure, an import's reject reason) as its text in the request's language; the
    session's JSON is this too, so a Message may be flashed."""

    @staticmethod
    def default(o):
        if isinstance(o, i18n.Message):
            return str(o)
        return DefaultJSONProvider.default(o)


class App(Flask):
    """The Flask app with the request boundary: each view runs in one unit of work."""

    json_provider_class = JSONProvider

    def dispatch_request(self):
        """Run the view; commit its changes once if it returned, roll back if it raised
        (a lost race at the commit reaches the 409 page)."""
        try:
            rv = super().dispatch_request()
        except BaseException:
            finish(ok=False)
            raise
        finish(ok=True)
        return rv


# --- app-wide guards, error pages and template helpers ----------------------------


def _guard():
    """Send anonymous users to sign in and refuse auditors' writes (docs/domain.md §6)."""
    endpoint = request.endpoint
    if endpoint is None or endpoint == "static" or endpoint.endswith(".static"):
        return None  # unknown URL (404/405 follows) or a stylesheet
    view = current_app.view_functions.get(endpoint)
    if getattr(view, "public", False):
        return None
    if not current_user.is_authenticated:
        return current_app.login_manager.unauthorized()
    if current_user.must_change_password and endpoint not in PASSWORD_CHANGE_ENDPOINTS:
        flash(_("请先修改密码：当前密码由他人设置（初始密码或管理员重置的密码），修改后才能使用系统。"), "warning")
        return redirect(url_for("auth.change_password"))
    if request.method not in SAFE_METHODS and not current_user.can_write and not getattr(view, "auditor_allowed", False):
        abort(403)
    return None


#: What a user whose password must be changed may still reach (docs/security.md).
PASSWORD_CHANGE_ENDPOINTS = frozenset({"auth.change_password", "auth.logout"})


def safe_next(target: str | None) -> str | None:
    """Return ``target`` if it is a path of this app (no open redirect), else None.

    The one check every ``next`` parameter goes through. Accepted: an absolute path
    (``/cases/3?page=2``) under the app's root; refused: anything with a scheme or
    host, protocol-relative ``//host``, backslashes (browsers read ``/\\host`` as
    ``//host``), control characters and whitespace.
    """
    from urllib.parse import urlsplit

    if not target or len(target) > 2000:
        return None
    if "\\" in target or any(ord(ch) < 33 or ord(ch) == 127 for ch in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    root = request.script_root or ""
    if root and not (target == root or target.startswith(root + "/")):
        return None
    return target


_ERROR_MESSAGES = {
    400: _l("请求无效。"),
    403: _l("您的角色无权进行此操作。"),
    404: _l("页面不存在，或不在您的数据权限范围内。"),
    405: _l("不支持此操作。"),
    413: _l("上传的文件太大。"),
    429: _l("尝试过于频繁，请稍后再试。"),
    500: _l("服务器内部错误，本次操作未保存。请稍后再试；如反复出现，请联系系统管理员查看日志。"),
}


def _csrf_error(exc: CSRFError):
    return _error_page(400, _("页面已过期或来源无效，请返回上一页刷新后重试。"))


def _conflict(exc: Exception):
    """A lost race — a form sent twice at once, or a record another user changed in
    the meantime (the version check, docs/domain.md §6): nothing of this request was saved."""
    db.session.rollback()
    current_app.logger.info("conflict on %s: %s", request.path, exc)
    return _error_page(409, _("该记录刚被他人修改，或表单被重复提交：本次操作未保存。请刷新页面，确认后再试。"))


#: The answer to a write that met another writer's lock (SQLite's busy timeout ran out,
#: or PostgreSQL's lock_timeout): nothing was saved, and trying again later works.
BUSY_MESSAGE = _l("系统繁忙，请稍后重试。（其他任务正在写入数据库，本次操作未保存）")
#: Seconds a client is told to wait before trying again (the ``Retry-After`` header).
BUSY_RETRY_AFTER = 10


def _busy(exc: OperationalError):
    """A database kept locked by another writer (an import job) is answered 503
    "系统繁忙，请稍后重试" — a page, or JSON for API and JSON requests — never a 500.
    Any other database error stays a 500."""
    db.session.rollback()
    if not is_busy(exc):
        raise exc
    current_app.logger.warning("database busy on %s: %s", request.path, exc)
    message = str(BUSY_MESSAGE)
    if request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json":
        response = jsonify({"error": "busy", "message": message})
        response.status_code = 503
    else:
        response = current_app.make_response(_error_page(503, message))
    response.headers["Retry-After"] = str(BUSY_RETRY_AFTER)
    return response


def _http_error(exc: HTTPException):
    if exc.code is None or exc.code < 400 or request.path.startswith("/api/"):
        return exc
    if exc.code >= 500:  # the failed request's transaction must not break the error page
        db.session.rollback()
    return _error_page(exc.code, _ERROR_MESSAGES.get(exc.code, exc.description))


def _error_page(code: int, message):
    return render_template("auth/error.html", code=code, message=message), code


def download_name(name: str, fallback: str = "download") -> str:
    """Return ``name`` fit for a ``Content-Disposition`` filename: control characters
    (a CR/LF would break the header: Werkzeug refuses it with a 500) and path
    separators dropped, at most 120 characters before the extension.

    Every download named after what a user typed (a child's name, an uploaded file's
    name, a document number) goes through it.
    """
    cleaned = "".join(" " if ch in "\t\r\n" else ch for ch in name or "")
    cleaned = "".join(ch for ch in cleaned if unicodedata.category(ch)[0] != "C")
    cleaned = cleaned.replace("/", "_").replace("\\", "_").strip(" .")
    stem, dot, ext = cleaned.rpartition(".")
    if dot and 0 < len(ext) <= 5:
        cleaned = f"{stem[:120].rstrip(' .')}.{ext}"
    else:
        cleaned = cleaned[:120]
    return cleaned or fallback


def has_endpoint(name: str) -> bool:
    """Return whether the app has a view called ``name`` (e.g. ``cases.case_detail``):
    a nav link to a feature that is not installed is left out."""
    return name in current_app.view_functions


def _favicon():
    """``/favicon.ico``: the site's icon (an SVG in ``static/``) for browsers that ask
    for it before reading the page's ``<link rel=icon>``; public, so no 404 or sign-in."""
    path = Path(current_app.static_folder or "") / "favicon.svg"
    return current_app.response_class(path.read_bytes(), mimetype="image/svg+xml",
                                      headers={"Cache-Control": "public, max-age=86400"})


_favicon.public = True


def init_app(app: Flask) -> None:
    """Install, app-wide, the login guard, the error pages, the favicon and the template
    helpers (the ``get_locale``, ``has_endpoint`` and ``punct`` globals, the
    :class:`edu_guard.i18n.Punctuation` extension; auth adds the ``mask_id`` filter)."""
    app.before_request(_guard)
    app.add_url_rule("/favicon.ico", "favicon", _favicon)
    app.register_error_handler(CSRFError, _csrf_error)
    app.register_error_handler(StaleDataError, _conflict)
    app.register_error_handler(IntegrityError, _conflict)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(OperationalError, _busy)
    app.add_template_global(get_locale, "get_locale")
    app.add_template_global(has_endpoint, "has_endpoint")
    app.jinja_env.add_extension(i18n.Punctuation)  # English punctuation on English pages
    app.add_template_global(i18n.punct, "punct")
