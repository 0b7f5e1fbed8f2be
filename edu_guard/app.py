"""The application factory: the only place the Flask app is built."""

from __future__ import annotations

import hmac
import os
from pathlib import Path
from typing import Any, Mapping

from flask import Flask, has_request_context, request, url_for
from flask_babel import Babel, refresh
from flask_login import LoginManager
from flask_talisman import Talisman
from flask_wtf.csrf import CSRFProtect

from edu_guard import clock
from edu_guard import config as default_config
from edu_guard import models  # noqa: F401  (register every table)
from edu_guard import logs, plugins, web
from edu_guard.aid.views import bp as aid_bp
from edu_guard.auth import throttle
from edu_guard.auth.models import User
from edu_guard.auth.views import bp as auth_bp
from edu_guard.cases import pages  # noqa: F401  (the home and child pages, on the registry blueprint)
from edu_guard.cases.views import bp as cases_bp
from edu_guard.comparisons.views import bp as comparisons_bp
from edu_guard.db import busy_timeout_seconds, db, private_sqlite_file
from edu_guard.homebound.views import bp as homebound_bp
from edu_guard.jobs.views import bp as jobs_bp
from edu_guard.letters.views import bp as letters_bp
from edu_guard.paths import MIGRATIONS_DIR, PACKAGE_DIR, TEMPLATE_DIR  # noqa: F401 (re-exported)
from edu_guard.registry.views import bp as registry_bp
from edu_guard.reports.views import bp as reports_bp
from edu_guard.letters.render import chinese_date

babel = Babel()
login_manager = LoginManager()
csrf = CSRFProtect()


def init_migrations(app: Flask):
    """Attach Flask-Migrate (Alembic) to ``app`` on first use; return its config
    (``app.extensions["migrate"]``, with the ``directory`` of the migrations).

    Importing Alembic costs 0.3–0.6 s, which every command and worker would otherwise
    pay at start-up (bench/README.md, household comparison); only the ``db`` commands
    (:class:`edu_guard.cli._Main` attaches it when ``edu-guard db …`` runs),
    ``edu-guard init`` and the migration tests need it.
    """
    if "migrate" not in app.extensions:
        from flask_migrate import Migrate

        Migrate(app, db, directory=str(MIGRATIONS_DIR))
    return app.extensions["migrate"]


class NotInitialised(RuntimeError):
    """The instance folder has no config yet, or its secret key is missing or too
    short to be unguessable: run ``edu-guard init``."""


#: Shortest secret key accepted outside tests (``edu-guard init`` writes 64 hex
#: digits, 256 bits); a shorter one may be guessed, and with it every session forged.
MIN_SECRET_KEY_LENGTH = 32


def default_instance_path() -> str:
    """Return ``EDU_GUARD_INSTANCE_PATH`` or the ``instance/`` folder of the checkout."""
    return os.environ.get("EDU_GUARD_INSTANCE_PATH") or str(PACKAGE_DIR.parent / "instance")


def create_app(test_config: Mapping[str, Any] | None = None, *, require_init: bool = True) -> Flask:
    """Build the app.

    Configuration is loaded in order: :mod:`edu_guard.config` → ``<instance>/config.py``
    → ``EDU_GUARD_*`` environment variables → ``test_config``.

    :param test_config: settings that win over everything else (tests).
    :param require_init: refuse to build without a ``SECRET_KEY`` (that is, before
        ``edu-guard init`` wrote the instance config). ``init`` itself passes False.
    :raises NotInitialised: when ``require_init`` and no secret key is configured.
    """
    instance_path = (test_config or {}).get("INSTANCE_PATH") or default_instance_path()
    app = web.App(
        "edu_guard",
        instance_path=str(Path(instance_path).resolve()),
        instance_relative_config=True,
        template_folder=str(TEMPLATE_DIR),
        static_folder=str(PACKAGE_DIR / "static"),
    )
    app.config.from_object(default_config)
    app.config.from_pyfile("config.py", silent=True)
    app.config.update(default_config.env_overrides())
    if app.config.get("EDU_GUARD_SECRET_KEY"):  # the environment's key wins over the file's
        app.config["SECRET_KEY"] = app.config["EDU_GUARD_SECRET_KEY"]
    if test_config:
        app.config.update(test_config)

    if require_init:
        _require_secret_key(app, given_by_code="SECRET_KEY" in (test_config or {}))
    app.config["BABEL_DEFAULT_TIMEZONE"] = app.config["EDU_GUARD_TIMEZONE"]
    with app.app_context():
        clock.county_zone()  # an unknown zone stops start-up with its name (ClockError)
    app.jinja_env.filters["county_time"] = clock.format_local
    url = app.config.get("EDU_GUARD_DATABASE_URL") or f"sqlite:///{Path(app.instance_path) / 'edu_guard.sqlite3'}"
    app.config["SQLALCHEMY_DATABASE_URI"] = url
    app.config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", {})
    if url.startswith("sqlite"):
        connect_args = app.config["SQLALCHEMY_ENGINE_OPTIONS"].setdefault("connect_args", {})
        connect_args.setdefault("timeout", busy_timeout_seconds(app))
        private_sqlite_file(url)

    _secure_http(app)
    logs.init_app(app)
    db.init_app(app)
    babel.init_app(app, locale_selector=_select_locale)
    # The language is the request's: Flask-Babel caches it on ``g``, which a request
    # shares with an app context already pushed (a test's, a CLI command's).
    app.before_request(refresh)
    app.after_request(_remember_language)
    app.jinja_env.globals["lang_url"] = _lang_url
    app.jinja_env.filters["cn_date"] = _cn_date
    csrf.init_app(app)
    web.init_app(app)
    login_manager.init_app(app)
    throttle.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "请先登录。"

    plugins.init_app(app)
    _register_blueprints(app)
    for command in plugins.contributions(app).cli_commands:  # ``edu-guard <command>``
        app.cli.add_command(command)
    return app


def _secure_http(app: Flask) -> None:
    """The HTTP side of security (docs/security.md): trusted proxies (ProxyFix), the
    session cookie (``SameSite=Lax``, ``HttpOnly``, ``Secure`` over HTTPS) and the
    response headers through Flask-Talisman: no framing (``X-Frame-Options: DENY``
    and CSP ``frame-ancestors 'none'``), ``nosniff``, ``Referrer-Policy:
    same-origin``, HSTS over HTTPS.

    The CSP allows scripts from the app's own static files only (``script-src 'self'``:
    no inline ``<script>``, no ``on…=`` handler, no ``javascript:`` link), so a name that
    slipped past escaping still cannot run; every behaviour a page needs is in
    ``static/app.js``, asked for with a ``data-`` attribute. It also forbids framing,
    foreign ``<base>``, form targets and plugins.
    """
    proxies = int(app.config.get("EDU_GUARD_TRUSTED_PROXIES") or 0)
    if proxies:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies, x_prefix=proxies)
    https = default_config.as_flag(app.config.get("EDU_GUARD_HTTPS"))
    Talisman(
        app,
        force_https=False,  # the proxy (or the admin) decides; tests and `make run` use http
        strict_transport_security=https,
        session_cookie_secure=https,
        session_cookie_http_only=True,
        session_cookie_samesite="Lax",
        frame_options="DENY",
        referrer_policy="same-origin",
        content_security_policy={
            "script-src": "'self'",
            "frame-ancestors": "'none'",
            "base-uri": "'self'",
            "form-action": "'self'",
            "object-src": "'none'",
        },
    )
    app.config["REMEMBER_COOKIE_SECURE"] = https
    app.config["REMEMBER_COOKIE_SAMESITE"] = "Lax"


def _require_secret_key(app: Flask, given_by_code: bool) -> None:
    """Refuse to build an app whose sessions could be forged.

    The key must be set (by ``edu-guard init`` in ``<instance>/config.py``, or in
    ``EDU_GUARD_SECRET_KEY``) and, unless it is given by code (tests, benchmarks) or
    the app is TESTING, at least :data:`MIN_SECRET_KEY_LENGTH` characters long.

    :raises NotInitialised: with the Chinese message saying how to fix it.
    """
    key = app.config.get("SECRET_KEY")
    how = (
        f"请运行 `edu-guard init`（在 {app.instance_path}/config.py 中生成随机密钥），"
        f"或在环境变量 EDU_GUARD_SECRET_KEY 中设置至少 {MIN_SECRET_KEY_LENGTH} 个字符的随机密钥"
        f"（例如 python -c 'import secrets; print(secrets.token_hex(32))' 的输出）。"
    )
    if not key:
        raise NotInitialised(f"实例未初始化：没有会话密钥（SECRET_KEY）。{how} (instance not initialised: run `edu-guard init`)")
    if given_by_code or app.config.get("TESTING"):
        return
    if len(str(key)) < MIN_SECRET_KEY_LENGTH or str(key) == "uninitialised":
        raise NotInitialised(
            f"会话密钥（SECRET_KEY）太短，可被猜出，系统拒绝启动。{how} (secret key too short: run `edu-guard init`)"
        )


#: The interface languages; Chinese is the default (the catalogue is English).
LANGUAGES = ("zh", "en")
#: The cookie keeping the language chosen with the header's switch (a year).
LANG_COOKIE = "edu_guard_lang"


def _select_locale() -> str:
    """The interface language: ``?lang=`` (the header's switch, kept in a cookie), else
    the cookie, else the browser's Accept-Language, else Chinese."""
    if not has_request_context():  # CLI, services called in tests: the default locale
        return "zh"
    for lang in (request.args.get("lang"), request.cookies.get(LANG_COOKIE)):
        if lang in LANGUAGES:
            return lang
    return request.accept_languages.best_match(LANGUAGES, default="zh") or "zh"


def _remember_language(response):
    """Keep a language chosen with ``?lang=`` in a cookie, so every later page has it."""
    lang = request.args.get("lang")
    if lang in LANGUAGES and request.cookies.get(LANG_COOKIE) != lang:
        response.set_cookie(LANG_COOKIE, lang, max_age=365 * 24 * 3600, samesite="Lax", httponly=True)
    return response


def _cn_date(value) -> str:
    """``2021年3月10日`` on pages (the letters' rule, GB/T 9704 7.3.5.1); '' for none."""
    if not value:
        return ""

    return chinese_date(value)


def _lang_url(lang: str) -> str:
    """The current page's URL with ``lang`` set (the header's language switch)."""
    args = request.args.to_dict()
    args["lang"] = lang
    if request.endpoint and request.url_rule is not None and "GET" in (request.url_rule.methods or ()):
        return url_for(request.endpoint, **(request.view_args or {}), **args)
    return url_for("registry.index", lang=lang)


def _register_blueprints(app: Flask) -> None:
    for bp in (auth_bp, registry_bp, cases_bp, letters_bp, aid_bp, homebound_bp, comparisons_bp, reports_bp, jobs_bp):
        app.register_blueprint(bp)
    contrib = plugins.contributions(app)
    for bp in contrib.blueprints:  # plugins' pages, behind the same login guard
        app.register_blueprint(bp)
    dirs = [kind.template_dir for kind in contrib.letter_kinds.values() if kind.template_dir]
    if dirs:  # plugin letter kinds keep ``letters/<key>.html`` in their own folders
        import jinja2

        app.jinja_loader = jinja2.ChoiceLoader([app.jinja_loader, *(jinja2.FileSystemLoader(d) for d in dirs)])


@login_manager.user_loader
def _load_user(session_id: str):
    """Return the user of a session id ``"<id>:<token>"`` (:meth:`User.get_id`), or
    ``None`` when the token is no longer the user's (signed out, password changed or
    reset) or the id is of the old, token-less form."""
    user_id, _, token = (session_id or "").partition(":")
    if not user_id.isdigit() or not token:
        return None
    user = db.session.get(User, int(user_id))
    if user is None or not user.session_token or not hmac.compare_digest(user.session_token, token):
        return None
    return user
