"""Configuration defaults.

Load order (later wins): these defaults → ``<instance>/config.py`` → ``EDU_GUARD_*``
environment variables → the ``test_config`` mapping given to :func:`create_app`.

Every number the law or a province sets is a *default* here; a county overrides it in
its instance config. Sources are given beside each key.
"""

from __future__ import annotations

import os

#: Database URL; ``None`` means ``sqlite:///<instance>/edu_guard.sqlite3``.
EDU_GUARD_DATABASE_URL = None

#: The county this deployment serves (6-digit division code, GB/T 2260) and its name.
EDU_GUARD_COUNTY_CODE = "532801"
EDU_GUARD_COUNTY_NAME = "景洪市"
#: The province (printed when a norm cites its provincial document).
EDU_GUARD_PROVINCE = "云南省"

#: Issuers of official letters, by key: full name (printed above the red rule and the
#: date) and the short code of document numbers (``景教体函〔2021〕11号``).
EDU_GUARD_ISSUERS = {
    "bureau": {"name": "景洪市教育体育局", "code": "景教体"},
    # Township governments: the code prefix; the township's own name is filled in.
    "township": {"name": "{township}人民政府", "code": "{short}政"},
}

#: The phone printed on reports sent to superiors (联系电话 line) and the supervision
#: phone (监督（举报）电话) printed on every 公示; empty prints a blank line to fill in.
EDU_GUARD_REPORT_PHONE = ""
EDU_GUARD_SUPERVISION_PHONE = ""

#: Document-number kind marks by letter kind (GB/T 9704 7.2.4: 发文机关代字).
EDU_GUARD_LETTER_KIND_MARKS = {
    "return_contact": "函",
    "order_to_correct": "责改",
    "penalty_notice": "罚告",
    "hearing_notice": "听通",
    "penalty_decision": "罚决",
    "demand": "催告",
    "enforcement_application": "强执申",
}

#: A print run longer than this many letters is laid out in chunks of that size, by
#: up to EDU_GUARD_PRINT_WORKERS processes at once (``None``: the number of CPUs, at
#: most 4), and the chunks joined into one PDF. Bounds memory (about 1 MB a letter).
EDU_GUARD_PRINT_CHUNK = 50
EDU_GUARD_PRINT_WORKERS = None

#: Age of compulsory schooling (义务教育法 Art. 11): entry at 6, nine years.
EDU_GUARD_COMPULSORY_MIN_AGE = 6
EDU_GUARD_COMPULSORY_MAX_AGE = 15
#: (month, day) by which a child must have turned EDU_GUARD_COMPULSORY_MIN_AGE in the
#: year the school year starts to be of compulsory-school age (the county's entry
#: rule; "MM-DD" from the environment). See edu_guard.comparisons.rules.
EDU_GUARD_SCHOOL_ENTRY_CUTOFF = (8, 31)
#: Status comparison: a 转出 with no receiving school is flagged once this many
#: calendar days have passed without the child arriving anywhere (docs/domain.md §4).
EDU_GUARD_TRANSFER_ARRIVAL_DAYS = 30
#: Status comparison: a 休学 lasts this many calendar days (normally one school year,
#: docs/domain.md §4); past it with no 复学 the child is flagged.
EDU_GUARD_SUSPENSION_DAYS = 365

#: Step 1 (宣传教育) lasts at least this many calendar days before the case may go to
#: the township for an order to correct (docs/domain.md §1: the school reports within 7 days).
EDU_GUARD_PERSUASION_DAYS = 7
#: Step 2: the guardian must return the child within this many days of service
#: (docs/domain.md §1, seen 6–12; 义务教育法 Art. 58 "责令限期改正"). Working days.
EDU_GUARD_ORDER_TO_CORRECT_DAYS = 10
#: Step 3: the window to state a case after the notice of intended penalty
#: (行政处罚法 Art. 44–45), and to ask for a hearing (Art. 64: 5 days). Working days.
EDU_GUARD_STATEMENT_DAYS = 3
EDU_GUARD_HEARING_REQUEST_DAYS = 5
#: The fine is paid within 15 days of service of the decision (行政处罚法 Art. 67).
EDU_GUARD_FINE_PAYMENT_DAYS = 15
#: Review (行政复议法 Art. 20: 60 days) and lawsuit (行政诉讼法 Art. 46: 6 months).
EDU_GUARD_REVIEW_DAYS = 60
EDU_GUARD_LAWSUIT_MONTHS = 6
#: 行政强制法 Art. 54: apply to the court no sooner than 10 days after the 催告书.
EDU_GUARD_DEMAND_DAYS = 10
#: 行政强制法 Art. 53: apply within 3 months after the review and lawsuit periods end.
EDU_GUARD_ENFORCEMENT_APPLY_MONTHS = 3
#: A returned child is followed for this many days before the case closes (docs/domain.md §1).
EDU_GUARD_FOLLOW_UP_DAYS = 30

#: The county's penalty basis: a fine needs a provincial or local regulation
#: (义务教育法 Art. 58 sets none), so there is NO default: until a county sets the
#: regulation and article (e.g. "《××省义务教育条例》第××条") and the fine range in
#: yuan (strings for Decimal), every penalty letter is refused naming these settings
#: and the case pages warn. ``edu-guard demo`` writes a sample, labelled as such.
EDU_GUARD_PENALTY_BASIS = None
EDU_GUARD_FINE_MIN = None
EDU_GUARD_FINE_MAX = None
#: 行政处罚法 Art. 60: the decision within 90 days of the penalty case's 立案 (the day
#: step 3 began). Calendar days.
EDU_GUARD_DECISION_DAYS = 90
#: The case page and ``cases show`` warn of a time limit this many days ahead.
EDU_GUARD_DEADLINE_WARN_DAYS = 10
#: 行政处罚法 Art. 63 (一): a hearing must be offered for a 较大数额 fine; the amount
#: (yuan) is set by the province. ``None``: a hearing is offered for every fine
#: (offering it is never unlawful).
EDU_GUARD_HEARING_FINE_THRESHOLD = None
#: The bureau's contact printed on the penalty and enforcement letters (行政处罚法
#: Art. 44: where to state a case; 行政强制法 Art. 35): {"person", "phone", "address"}.
EDU_GUARD_BUREAU_CONTACT = {}
#: Where a fine is paid (行政处罚法 Art. 59 (四), 67: 罚缴分离, a designated bank):
#: {"bank", "account_name", "account_number"}; no default — the decision and the
#: demand are refused until it is set.
EDU_GUARD_FINE_PAYMENT_ACCOUNT = {}
#: Per-township issuers (乡镇/街道): name → {"issuer": "township" | "bureau",
#: "name": printed issuer, "code": document-number code, "office": the body working
#: letters go to}. Defaults: a 乡/镇 → "<name>人民政府", code "<short>政"; a 街道 →
#: orders and penalties by the bureau (义务教育法 Art. 58 names only 乡镇人民政府 and
#: the county education department), working letters to "<name>办事处". An ethnic
#: township's code (民族乡: 景哈哈尼族乡 …) must be configured, never derived.
EDU_GUARD_TOWNSHIPS = {}
#: Official holiday arrangements a county loads for years chinese-calendar does not
#: cover: {"2027": {"holidays": ["2027-01-01", …], "workdays": ["2027-02-14", …]}}
#: (the State Council's notice). Until then dates in that year are estimates (估算).
#: A year loaded on the admin's 节假日安排 page or with ``cases holidays`` (stored in the
#: database, shared by every process, audited) takes precedence over this setting.
EDU_GUARD_HOLIDAY_ARRANGEMENTS = {}
#: The court an enforcement application goes to, and the review authority named in a
#: penalty decision.
EDU_GUARD_COURT = "景洪市人民法院"
#: The head of the bureau who signs an enforcement application (行政强制法 Art. 55:
#: 法定代表人); may also be typed when applying. Empty: asked for each time.
EDU_GUARD_BUREAU_HEAD = ""
EDU_GUARD_REVIEW_AUTHORITY = "景洪市人民政府"

#: 送教上门 (docs/domain.md §3; 残疾人教育条例 2017 Art. 18): the age range of children who may be
#: placed (6–15; some provinces 6–16), in whole years on the placement's first day.
EDU_GUARD_HOMEBOUND_MIN_AGE = 6
EDU_GUARD_HOMEBOUND_MAX_AGE = 15
#: The frequency norm sessions are checked against: a key of EDU_GUARD_HOMEBOUND_NORMS.
#: See :mod:`edu_guard.homebound.compliance` for the presets and the rule. The sample
#: county (云南省) uses the county-set monthly norm: no Yunnan provincial figure is cited.
EDU_GUARD_HOMEBOUND_NORM = "local_monthly"
#: Extra or overriding norm presets, key → {"label", "visits", "per" ("week"/"month"),
#: "periods_per_visit", "periods_per_year" (or None)}; merged over the built-in ones.
EDU_GUARD_HOMEBOUND_NORMS = {}
#: Minutes of one class period (课时); a session's periods are its whole periods.
EDU_GUARD_HOMEBOUND_PERIOD_MINUTES = 40
#: Longest session accepted, in minutes: a visit is a few class periods, so a longer
#: one (e.g. 00:00–23:59, counted as 35 periods) is a typing error, refused when logged.
EDU_GUARD_HOMEBOUND_MAX_SESSION_MINUTES = 240
#: School holidays not counted when the expected sessions are worked out, as
#: ``[["2021-01-30", "2021-02-28"], …]`` (inclusive ISO dates). Empty: every day counts.
EDU_GUARD_HOMEBOUND_BREAKS = []
#: Session attachments (photos, signed pages): largest file in bytes; allowed types
#: are JPEG, PNG and PDF, recognised by their content.
EDU_GUARD_ATTACHMENT_MAX_BYTES = 10 * 1024 * 1024

#: Sign-in attempts allowed per client address and account together in the
#: throttling window (seconds); a success clears the count (edu_guard.auth.throttle).
EDU_GUARD_LOGIN_MAX_FAILURES = 5
EDU_GUARD_LOGIN_WINDOW = 300
#: Sign-in form submissions allowed per client address, whatever the account (a
#: Flask-Limiter limit string): bounds the password hashing one machine can cause.
EDU_GUARD_LOGIN_ADDRESS_LIMIT = "60 per minute"
#: Where the sign-in counters live (a ``limits`` storage URL such as
#: ``redis://127.0.0.1:6379/3``). ``None``: the Redis of EDU_GUARD_QUEUE_URL when that
#: names one, else the application's database, which every web process shares.
EDU_GUARD_RATELIMIT_STORAGE_URL = None
#: Reverse proxies in front of the app whose X-Forwarded-For/-Proto/-Host are
#: trusted (werkzeug ProxyFix): 0 when the app is reached directly, 1 behind one nginx.
#: The client address of the sign-in throttle and the HTTPS detection depend on it.
EDU_GUARD_TRUSTED_PROXIES = 0

#: SQLite only: how long (seconds) a write waits for the write lock another writer
#: holds (an import job writes its file in one transaction) before the request is
#: answered "系统繁忙，请稍后重试" (503). Reads never wait (WAL). Keep it below the web
#: server's worker timeout (docs/deploy.md).
EDU_GUARD_SQLITE_BUSY_TIMEOUT = 30

#: The job queue (edu_guard.jobs, Huey): empty for the embedded SQLite storage in the
#: instance folder (queue.sqlite3; one machine), or ``redis://host:6379/0`` (several
#: web and worker machines). ``EDU_GUARD_QUEUE_IMMEDIATE`` runs each job at once in the
#: process that submits it (tests; no worker needed).
EDU_GUARD_QUEUE_URL = ""
EDU_GUARD_QUEUE_NAME = "edu_guard"
EDU_GUARD_QUEUE_IMMEDIATE = False
#: A queue worker's address-space limit (RLIMIT_AS, MB; 0 = none): a file that passes
#: the upload checks but needs more memory fails its job, not the machine. The
#: 100,000-row roster import peaks near 300 MB, the household comparison near 750 MB
#: (bench/README.md); the address space is larger than the memory used (thread stacks,
#: allocator arenas), hence the margin.
EDU_GUARD_WORKER_MEMORY_LIMIT_MB = 4096
#: A running job's worker beats every HEARTBEAT seconds; without a beat for STALE
#: seconds the job is shown failed (its worker died) and may be run again.
EDU_GUARD_JOB_HEARTBEAT_SECONDS = 5
EDU_GUARD_JOB_STALE_SECONDS = 60
#: An Excel export of more rows than this (the roster, the payments) is made by a job
#: whose file its owner downloads from the job page, not in the request: a county's
#: 100,000-row roster takes about a minute and several hundred MB to write. Smaller
#: ones are answered at once.
EDU_GUARD_EXPORT_JOB_ROWS = 5000
#: Approving an aid list of more included children than this runs as a job (one
#: payment per child, in one transaction); smaller lists are approved in the request.
EDU_GUARD_APPROVE_JOB_ROWS = 500

#: Rows per page in lists.
EDU_GUARD_PAGE_SIZE = 50

#: The county's time zone (IANA name): its "today" for deadlines, form defaults,
#: guards and reports, and the zone timestamps are shown in (:mod:`edu_guard.clock`).
#: China keeps one civil time, 北京时间 (UTC+8), whatever the server's zone is.
EDU_GUARD_TIMEZONE = "Asia/Shanghai"

BABEL_DEFAULT_LOCALE = "zh"
#: Flask-Babel's zone follows EDU_GUARD_TIMEZONE (set in create_app).
BABEL_DEFAULT_TIMEZONE = "Asia/Shanghai"
SQLALCHEMY_TRACK_MODIFICATIONS = False
MAX_CONTENT_LENGTH = 50 * 1024 * 1024

ENV_PREFIX = "EDU_GUARD_"


#: Words an on/off setting may be given as (environment variables, instance config).
TRUE_WORDS = ("1", "true", "yes", "on")
FALSE_WORDS = ("0", "false", "no", "off")


def as_flag(value) -> bool:
    """Read an on/off setting: a bool as it is, a string by :data:`TRUE_WORDS` (any
    other word is off), anything else by its truth."""
    if isinstance(value, str):
        return value.strip().lower() in TRUE_WORDS
    return bool(value)


class ConfigError(ValueError):
    """A setting that cannot be read (an environment variable of the wrong type)."""


def env_overrides(environ: os._Environ | dict | None = None) -> dict:
    """Return the ``EDU_GUARD_*`` settings found in the environment.

    ``SECRET_KEY`` lives in the instance config written by ``edu-guard init``; an
    ``EDU_GUARD_SECRET_KEY`` variable, returned here like the others, replaces it
    (:func:`edu_guard.app.create_app`).

    A value is read as the type of the key's default here: JSON for a dict
    (``EDU_GUARD_PLUGIN_SETTINGS='{"yulu": {"per_term": "1500"}}'``), a JSON list or
    comma-separated words for a list (``EDU_GUARD_PLUGINS=yulu,nutrition``), a whole
    number for an int, ``1/true/yes/on`` or ``0/false/no/off`` for a bool; other keys
    stay strings.

    :param environ: the mapping to read; ``os.environ`` by default.
    :return: key → value.
    :raises ConfigError: a value that cannot be read as its key's type, naming the key.
    """
    environ = os.environ if environ is None else environ
    return {
        k: _typed(k, v)
        for k, v in environ.items()
        if k.startswith(ENV_PREFIX) and k != "EDU_GUARD_INSTANCE_PATH"
    }


def _typed(key: str, value: str):
    import json

    default = globals().get(key)
    try:
        if isinstance(default, bool):
            if value.strip().lower() not in TRUE_WORDS + FALSE_WORDS:
                raise ValueError("应为 true 或 false")
            return as_flag(value)
        if isinstance(default, int):
            return int(value)
        if isinstance(default, dict):
            parsed = json.loads(value)
            if not isinstance(parsed, dict):
                raise ValueError("应为 JSON 对象")
            return parsed
        if isinstance(default, list):
            if value.strip().startswith("["):
                parsed = json.loads(value)
                if not isinstance(parsed, list):
                    raise ValueError("应为 JSON 列表")
                return parsed
            return [w.strip() for w in value.split(",") if w.strip()]
    except ValueError as exc:  # json.JSONDecodeError is a ValueError
        raise ConfigError(f"环境变量 {key} 的值无法读取（{exc}）：{value!r}") from None
    return value

# --- plugins (hookspecs in edu_guard/hookspecs.py; guide in docs/plugins.md) -----------

#: Plugins to enable, by entry-point name (group ``edu_guard``); a missing one stops
#: start-up. The first-party plugins of ``plugins/`` are enabled by default.
EDU_GUARD_PLUGINS = ["yulu", "nutrition", "minority_allowance"]

#: A folder of single-file plugins (``*.py`` modules with hookimpls), relative to the
#: instance folder; every module in it is loaded under its file name.
EDU_GUARD_PLUGINS_FOLDER = "plugins"

#: Plugin objects registered directly, as ``(name, module or object)`` pairs, after the
#: enabled ones: for tests (``edu_guard.testing.plugin_app``) and embedding.
EDU_GUARD_PLUGIN_OBJECTS: list = []

#: Each plugin's settings, by plugin name, validated by its ``plugin_settings_schema``.
EDU_GUARD_PLUGIN_SETTINGS: dict = {}

# --- student aid (学生资助) ---------------------------------------------------------------

#: Working days a list is posted publicly (公示) before the bureau may approve it
#: (at least five working days: 财政部 教育部《学生资助资金管理办法》财教〔2021〕310号).
EDU_GUARD_AID_POSTING_DAYS = 5

# --- HTTP and logs (edu_guard.app, edu_guard.logs; docs/security.md) -------------------

#: The app is served over HTTPS (directly or behind a proxy that terminates it): the
#: session cookie is then sent only over HTTPS (``Secure``) and browsers are told to
#: keep to HTTPS (HSTS). Off for ``make run`` on http://127.0.0.1.
EDU_GUARD_HTTPS = False
#: The log file; ``None``: ``<instance>/logs/edu_guard.log``; ``""``: none (stderr only).
EDU_GUARD_LOG_FILE = None
#: Size at which the log file is rotated, and how many old files are kept.
EDU_GUARD_LOG_MAX_BYTES = 10 * 1024 * 1024
EDU_GUARD_LOG_BACKUPS = 10

# --- uploads (edu_guard.uploads; the reasoning in docs/security.md) ----------------------

#: Most rows a sheet or CSV may have (declared or used): a county's household register
#: (户籍名单) has up to a million people; Excel itself stops at 1,048,576.
EDU_GUARD_UPLOAD_MAX_ROWS = 1_048_576
#: Most columns a sheet may use or declare: rosters have 20–60 columns; a sheet
#: reaching column XFD (16,384) is a stray cell, not data.
EDU_GUARD_UPLOAD_MAX_COLUMNS = 256
#: Most cells of a workbook, counting empty styled ones, and the largest used range
#: (rows × columns) of one sheet: a 100,000-pupil roster of 25 columns is 2.5 million,
#: a million-person register of 7 columns 7 million; the reader lays the used range
#: out densely (about 60 bytes a cell measured), so this bounds its memory.
EDU_GUARD_UPLOAD_MAX_CELLS = 8_000_000
#: Most bytes a workbook may inflate to (all its parts), and the largest CSV: the
#: 100,000-row roster inflates to about 160 MB, the 7-million-cell register to 400 MB.
EDU_GUARD_UPLOAD_MAX_UNCOMPRESSED = 512 * 1024 * 1024
#: Highest compression ratio of a workbook part over 1 MB: real sheets compress 5–20
#: times; a zip bomb or a sheet of millions of empty styled cells, hundreds of times.
EDU_GUARD_UPLOAD_MAX_RATIO = 100
#: Days a raw import file is kept after its last import (the queue workers delete older
#: ones daily, ``edu-guard purge-uploads`` at once; the import's counts and rejects stay
#: in the database).
EDU_GUARD_UPLOAD_KEEP_DAYS = 90
#: Most parts (files) in a workbook's zip: an .xlsx has 10–30, a few hundred with images.
EDU_GUARD_UPLOAD_MAX_PARTS = 1000
