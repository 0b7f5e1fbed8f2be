"""Sign-in, failed-login throttling, user management and the access decorators
(docs/domain.md §6).

Like every ``services`` module, the functions here add and flush but never commit:
the view (the request boundary) commits once.

Access rules, in one place:

* every endpoint needs a signed-in user unless its view is marked :func:`public`
  (the app-wide guard in :mod:`edu_guard.auth.views` enforces it);
* auditors never change anything: any unsafe request (POST, PUT, PATCH, DELETE) from an
  auditor is refused with 403 unless the view is marked :func:`auditor_allowed`
  (signing out, changing one's own password);
* :func:`role_required` and :func:`write_required` restrict single views further.
"""

from __future__ import annotations

import functools
import math
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, Mapping

import sqlalchemy as sa
from flask import abort, current_app
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from werkzeug.security import check_password_hash, generate_password_hash

from edu_guard.auth import throttle
from edu_guard.auth.audit import record, snapshot
from edu_guard.auth.models import ROLES, SUPERIOR_ROLES, AuditLog, User
from edu_guard.db import db, utcnow, write_or_defer

#: User columns written to the audit log (never the password hash).
USER_AUDIT_FIELDS = ["username", "display_name", "role", "township_id", "school_id", "division_code", "active"]
#: Shortest password accepted (characters).
MIN_PASSWORD_LENGTH = 10
#: Longest password accepted (characters): bounds the hashing and strength checks.
MAX_PASSWORD_LENGTH = 128
#: Lowest zxcvbn score accepted (0–4; 3: "safely unguessable" against an online
#: attack and slows an offline one; it refuses 1111111111, 1234567890, qwertyuiop,
#: the username with digits, dictionary words with common substitutions).
MIN_PASSWORD_SCORE = 3
#: Request methods that change nothing (RFC 9110 9.2.1).


# --- access decorators ----------------------------------------------------------


def public(view: Callable) -> Callable:
    """Mark ``view`` as reachable without signing in (the sign-in page itself)."""
    view.public = True
    return view


def auditor_allowed(view: Callable) -> Callable:
    """Mark ``view`` as one an auditor may POST to (it changes only their own session
    or password, never the county's data)."""
    view.auditor_allowed = True
    return view


def role_required(*roles: str) -> Callable[[Callable], Callable]:
    """Refuse the view with 403 unless the signed-in user has one of ``roles``.

    Anonymous users are sent to the sign-in page first.

    :param roles: keys of :data:`edu_guard.auth.models.ROLES`.
    """
    unknown = set(roles) - set(ROLES)
    if unknown:
        raise ValueError(f"unknown roles: {sorted(unknown)}")

    def decorator(view: Callable) -> Callable:
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            if not current_user.is_authenticated:
                return current_app.login_manager.unauthorized()
            if current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return wrapper

    return decorator


def write_required(view: Callable) -> Callable:
    """Refuse the view with 403 to users who change nothing (auditors), also on GET.

    Use it on pages that exist only to change data (a "new case" form); unsafe
    methods are refused to auditors app-wide anyway.
    """

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        if not current_user.is_authenticated:
            return current_app.login_manager.unauthorized()
        if not current_user.can_write:
            abort(403)
        return view(*args, **kwargs)

    return wrapper


# --- masking --------------------------------------------------------------------


def mask_id_number(value: str | None) -> str:
    """Mask a resident ID number, or a 全国学籍号 built on one, for lists and auditors.

    The last four characters and the division code stay readable; the characters in
    between (the birth date and sequence) are starred: ``532801********0798``; a 学籍号
    ``G532801…`` keeps its letter too; a 20-digit 残疾人证号 shows the same six and
    four. Short values are starred but for the ends. A page showing a masked number
    shows at most the birth year beside it (docs/security.md).

    :param value: the number as stored; ``None`` or empty gives ``""``.
    """
    if not value:
        return ""
    n = len(value)
    if n >= 15:
        # the division code (and a 学籍号's letter) and the last four stay; the birth
        # date and whatever follows it (a 残疾人证号's 20 digits) are starred
        keep = 7 if value[0].isalpha() else 6
        return value[:keep] + "*" * (n - keep - 4) + value[-4:]
    if n > 4:
        return value[:1] + "*" * (n - 3) + value[-2:]
    return "*" * n


# --- sign-in and throttling -----------------------------------------------------


class LoginFailed(Exception):
    """The username and password do not match, or the account cannot sign in.

    ``str(exc)`` is the Chinese message for the sign-in page; it never says whether
    the username exists.
    """


class AccountLocked(LoginFailed):
    """Too many failed sign-ins for this username within the window.

    :ivar until: when the lock ends (UTC).
    """

    def __init__(self, until: datetime, now: datetime):
        self.until = until
        minutes = max(1, math.ceil((until - now).total_seconds() / 60))
        super().__init__(str(_l("登录失败次数过多，该账户已被暂时锁定，请 %(minutes)d 分钟后再试。", minutes=minutes)))


def aware(value: datetime) -> datetime:
    """Return ``value`` with UTC attached if it is naive (SQLite hands back naive
    datetimes; every stored time is UTC, see :func:`edu_guard.db.utcnow`)."""
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


@functools.cache
def _dummy_hash() -> str:
    # Checked against when the username is unknown, so that both paths take as long.
    return generate_password_hash("edu-guard-dummy-password")


def _record_attempt(action: str, username: str, user: User | None, now: datetime,
                    user_values: dict | None = None, address: str = "-") -> None:
    """Write a sign-in attempt to the audit log (and ``user_values`` onto the user's
    row) outside the request's transaction, without waiting for the write lock
    (:func:`edu_guard.db.write_or_defer`): a sign-in never waits for an import."""
    row = {
        "at": now,
        "user_id": user.id if user and action == "login" else None,
        "action": action,
        "entity": "user",
        "entity_id": user.id if user else None,
        "before": None,
        "after": {"username": username, "address": address},
    }
    user_id = user.id if user else None

    def work(conn: sa.Connection) -> None:
        conn.execute(sa.insert(AuditLog), [row])
        if user_id is not None and user_values:
            conn.execute(sa.update(User).where(User.id == user_id).values(**user_values))

    write_or_defer(work)


def authenticate(username: str, password: str, address: str = "-", now: datetime | None = None) -> User:
    """Check a sign-in attempt and record it in the audit log.

    The attempt is first counted against ``(address, username)``
    (:func:`edu_guard.auth.throttle.take_attempt`, atomic): past
    ``EDU_GUARD_LOGIN_MAX_FAILURES`` attempts within ``EDU_GUARD_LOGIN_WINDOW``
    seconds, it is refused *without checking the password*; from another address
    the account stays open. A success clears the count. Unknown usernames are counted
    the same way, so a lock says nothing about whether an account exists.

    Every attempt is recorded (``login`` / ``login_failed``, with the address) by this
    function in a short transaction of its own, never in the caller's session, and
    without waiting for the write lock: while an import holds SQLite's lock the row is
    written by a background thread once it is free (:func:`edu_guard.db.write_or_defer`).

    :param username: as typed (surrounding spaces are ignored).
    :param password: as typed.
    :param address: the client's address (:func:`edu_guard.auth.throttle.client_address`).
    :param now: the current time (UTC), for the audit rows and messages.
    :return: the user, who may now be signed in with :func:`flask_login.login_user`.
    :raises AccountLocked: too many recent attempts for this username from this address.
    :raises LoginFailed: wrong username or password, or the account is deactivated.
    """
    now = now or utcnow()
    username = (username or "").strip()[:64]
    # Counted first, on connections of its own, before this session uses the database
    # (see throttle.take_attempt).
    attempt = throttle.take_attempt(address, username)
    user = db.session.execute(sa.select(User).where(User.username == username)).scalar_one_or_none()
    if not attempt.allowed:
        raise AccountLocked(attempt.resets_at, now)
    if user is None:
        check_password_hash(_dummy_hash(), password or "")
        ok = False
    else:
        ok = user.check_password(password or "")
    if not ok:
        until = attempt.resets_at if attempt.remaining == 0 else None
        # Shown in the user list with the unlock button; the audit log has each attempt.
        values = {"failed_logins": User.failed_logins + 1}
        if until is not None:
            values["locked_until"] = until
        _record_attempt("login_failed", username, user, now, values, address)
        if until is not None:
            raise AccountLocked(until, now)
        raise LoginFailed(str(_l("用户名或密码错误。")))
    throttle.clear(address, username)
    if not user.active:
        raise LoginFailed(str(_l("该账户已停用，请联系系统管理员。")))
    reset = {"failed_logins": 0, "locked_until": None} if user.failed_logins or user.locked_until else None
    _record_attempt("login", username, user, now, reset, address)
    return user


def unlock(user: User, by: User | None = None) -> None:
    """Lift the sign-in lock of ``user`` from every address (the users page): the
    counters of the addresses that failed within the window are cleared.

    :param by: the administrator acting (the signed-in user by default).
    """
    window = timedelta(seconds=int(current_app.config["EDU_GUARD_LOGIN_WINDOW"]))
    addresses = db.session.execute(
        sa.select(AuditLog.after["address"].as_string()).where(
            AuditLog.action == "login_failed",
            AuditLog.entity == "user",
            AuditLog.after["username"].as_string() == user.username,
            AuditLog.at > utcnow() - 2 * window,
        ).distinct()
    ).scalars().all()
    for address in {a for a in addresses if a} | {"-"}:
        throttle.clear(address, user.username)
    user.failed_logins = 0
    user.locked_until = None
    record("unlock", user, after={"username": user.username, "addresses": sorted(a for a in addresses if a)}, user=by)


# --- passwords and users --------------------------------------------------------


class UserInputError(ValueError):
    """A user-management request is invalid.

    :ivar field: the form field it concerns (``None`` for the whole form).
    """

    def __init__(self, message: Any, field: str | None = None):
        super().__init__(str(message))
        self.field = field


def check_password_strength(password: str, user_inputs: tuple[str, ...] = (), field: str = "password") -> None:
    """Refuse a password that is short or easy to guess.

    The rule: :data:`MIN_PASSWORD_LENGTH` to :data:`MAX_PASSWORD_LENGTH` characters,
    and a zxcvbn score of at least :data:`MIN_PASSWORD_SCORE` (zxcvbn estimates the
    guesses an attacker needs, knowing common passwords, keyboard runs, repeats,
    sequences, dates, and here ``user_inputs``: the username and name).

    :raises UserInputError: naming ``field``, with the reason in Chinese.
    """
    from zxcvbn import zxcvbn

    password = password or ""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise UserInputError(_l("密码至少需要 %(min)d 个字符。", min=MIN_PASSWORD_LENGTH), field)
    if len(password) > MAX_PASSWORD_LENGTH:
        raise UserInputError(_l("密码最多 %(max)d 个字符。", max=MAX_PASSWORD_LENGTH), field)
    inputs = [i for i in user_inputs if i]
    if any(i.lower() in password.lower() for i in inputs if len(i) >= 3):
        raise UserInputError(_l("密码不能包含用户名或姓名。"), field)
    if zxcvbn(password, user_inputs=inputs)["score"] < MIN_PASSWORD_SCORE:
        raise UserInputError(
            _l("密码太容易被猜到（如重复字符、连续数字或字母、键盘顺序、常见密码或单词）。请使用更长、无规律的密码，例如几个不相关的词加数字和符号。"),
            field,
        )


def _check_new_password(password: str, field: str = "password", user_inputs: tuple[str, ...] = ()) -> None:
    check_password_strength(password, user_inputs, field)


def change_password(user: User, current_password: str, new_password: str) -> None:
    """Change ``user``'s own password after checking the current one; every session
    of the user ends (the caller signs the current one in again).

    :raises UserInputError: the current password is wrong, or the new one is weak
        (:func:`check_password_strength`) or the same.
    """
    if not user.check_password(current_password or ""):
        raise UserInputError(_l("当前密码不正确。"), "current_password")
    _check_new_password(new_password, "new_password", (user.username, user.display_name))
    if user.check_password(new_password):
        raise UserInputError(_l("新密码不能与当前密码相同。"), "new_password")
    user.set_password(new_password)
    user.must_change_password = False
    user.end_sessions()
    record("password", user, after={"password": "changed"}, user=user)


def sign_out(user: User) -> None:
    """End every session of ``user`` (the sign-out button): a copied cookie of any of
    them no longer signs anyone in."""
    user.end_sessions()
    record("logout", user, after={"username": user.username}, user=user)


def area_exists(table: str, area_id: int) -> bool:
    """Return whether the township or school ``area_id`` exists (``table`` is
    ``"township"`` or ``"school"``, the tables :class:`User`'s area keys point at; the
    registry that defines them sits above this core module)."""
    area = db.metadata.tables[table]
    return db.session.execute(sa.select(area.c.id).where(area.c.id == area_id)).first() is not None


def _area(data: Mapping[str, Any]) -> tuple[int | None, int | None]:
    """Return (township_id, school_id) that fit the role; the other is cleared."""
    role = data.get("role")
    if role not in ROLES:
        raise UserInputError(_l("请选择有效的角色。"), "role")
    if role == "township":
        township_id = data.get("township_id")
        if not township_id or not area_exists("township", township_id):
            raise UserInputError(_l("乡镇人员必须选择所属乡镇。"), "township_id")
        return township_id, None
    if role == "school":
        school_id = data.get("school_id")
        if not school_id or not area_exists("school", school_id):
            raise UserInputError(_l("学校人员必须选择所属学校。"), "school_id")
        return None, school_id
    return None, None


#: The division level each role may answer for (docs/domain.md §6 "Above the county").
DIVISION_LEVEL = {"admin": "county", "clerk": "county", "auditor": "county", "prefecture": "prefecture",
                  "province": "province"}


def _division(data: Mapping[str, Any]) -> str | None:
    """Return the division code that fits the role: required for a prefecture or
    province user (a division of that level), optional for a county user (a county: its
    county when several share the database), none for a township or school user (its
    area says its county).

    :raises UserInputError: missing, unknown, or of another level.
    """
    role, code = data.get("role"), (data.get("division_code") or None)
    level = DIVISION_LEVEL.get(role)
    if level is None:
        return None
    if code is None:
        if role in SUPERIOR_ROLES:
            raise UserInputError(_l("州（市）、省级用户必须选择所属行政区划。"), "division_code")
        return None
    division = db.metadata.tables["division"]  # the registry's table, by name (it sits above auth)
    found = db.session.execute(sa.select(division.c.level).where(division.c.code == code)).scalar_one_or_none()
    if found != level:
        raise UserInputError(_l("所选行政区划与角色的层级不符。"), "division_code")
    return code


# --- user management limited to the administrator's county --------------------------
#
# When several counties share the database (docs/domain.md §6 "Above the county"), an
# administrator whose own user has a county (``division_code``) manages that county's users
# only, and reads that county's audit log; an administrator with no county (the single-county
# default) manages everyone.


def users_of_county(code: str) -> sa.ColumnElement[bool]:
    """Return the SQL condition the users of the county ``code`` (GB/T 2260, 6 digits) meet:
    a county user whose division is the county, or a township or school user whose township
    or school lies in it. The area tables by name: the registry sits above auth."""
    township, school = db.metadata.tables["township"], db.metadata.tables["school"]
    return sa.or_(User.division_code == code,
                  User.township_id.in_(sa.select(township.c.id).where(township.c.county_code == code)),
                  User.school_id.in_(sa.select(school.c.id).where(school.c.county_code == code)))


def managed_users(admin: User | None) -> sa.ColumnElement[bool] | None:
    """Return the SQL condition on ``User`` limiting what ``admin`` manages (and whose
    audit rows they read), or ``None`` when ``admin`` has no county (all users)."""
    code = getattr(admin, "division_code", None)
    return None if not code else users_of_county(code)


def can_manage(admin: User | None, user: User) -> bool:
    """Return whether ``admin`` may see and change ``user`` (same rule as :func:`managed_users`)."""
    where = managed_users(admin)
    if where is None:
        return True
    return db.session.execute(sa.select(User.id).where(User.id == user.id, where)).first() is not None


def _actor(by: User | None) -> User | None:
    if by is not None:
        return by
    try:
        user = current_user._get_current_object()
    except (AttributeError, RuntimeError):  # no request (CLI, jobs)
        return None
    return user if isinstance(user, User) else None


def _within_county(by: User | None, role: str, township_id: int | None, school_id: int | None,
                   division_code: str | None) -> str | None:
    """Check that an administrator with a county gives the user a place in that county and
    no role above it; return the division code to store (a county role gets the
    administrator's county when none was chosen, so it never sees every county).

    :raises UserInputError: a role above the county, or a township, school or division
        of another county.
    """
    code = getattr(by, "division_code", None)
    if not code:
        return division_code
    if role in SUPERIOR_ROLES or role not in ROLES:
        raise UserInputError(_l("不能设置高于本县层级的用户。"), "role")
    if DIVISION_LEVEL.get(role) == "county":
        if division_code not in (None, code):
            raise UserInputError(_l("只能管理本县的用户。"), "division_code")
        return code
    township, school = db.metadata.tables["township"], db.metadata.tables["school"]
    if township_id is not None:
        county = db.session.execute(sa.select(township.c.county_code).where(township.c.id == township_id)).scalar()
        if county != code:
            raise UserInputError(_l("只能管理本县的用户。"), "township_id")
    if school_id is not None:
        county = db.session.execute(sa.select(school.c.county_code).where(school.c.id == school_id)).scalar()
        if county != code:
            raise UserInputError(_l("只能管理本县的用户。"), "school_id")
    return division_code if division_code in (None, code) else code


def create_user(data: Mapping[str, Any], by: User | None = None) -> User:
    """Create a user with a role and, for township and school users, an area.

    :param data: ``username``, ``display_name``, ``password``, ``role`` (a key of
        ROLES), ``township_id`` (required for ``township``), ``school_id`` (required
        for ``school``), ``division_code`` (required for ``prefecture`` and ``province``,
        optional for county roles; see :func:`_division`).
    :param by: the administrator acting (the signed-in user by default); one with a county
        creates users of that county only, none above it (:func:`_within_county`).
    :return: the new user, flushed.
    :raises UserInputError: a field is invalid, the username is taken, or the user would
        lie outside the acting administrator's county.
    """
    username = (data.get("username") or "").strip()
    if not username:
        raise UserInputError(_l("请填写用户名。"), "username")
    if db.session.execute(sa.select(User.id).where(User.username == username)).first():
        raise UserInputError(_l("用户名“%(name)s”已被使用。", name=username), "username")
    _check_new_password(data.get("password") or "", user_inputs=(username, (data.get("display_name") or "").strip()))
    township_id, school_id = _area(data)
    division_code = _within_county(_actor(by), data["role"], township_id, school_id, _division(data))
    user = User(
        username=username,
        display_name=(data.get("display_name") or "").strip() or username,
        role=data["role"],
        township_id=township_id,
        school_id=school_id,
        division_code=division_code,
        active=True,
        # the administrator chose it: the user picks their own at the first sign-in
        must_change_password=True,
    )
    user.set_password(data["password"])
    db.session.add(user)
    record("create", user, after=snapshot_user(user), user=by)
    return user


def update_user(user: User, data: Mapping[str, Any], by: User | None = None) -> User:
    """Change a user's display name, role and area, and optionally set a new password.

    :param data: ``display_name``, ``role``, ``township_id``, ``school_id`` as for
        :func:`create_user`; ``password`` when the administrator resets it (empty keeps
        the current one).
    :param by: the administrator acting (the signed-in user by default); one with a county
        changes that county's users only, and keeps them in it and at or below its level.
    :raises UserInputError: a field is invalid, or ``user`` or its new place lies outside
        the acting administrator's county.
    """
    actor = _actor(by)
    if not can_manage(actor, user):
        raise UserInputError(_l("只能管理本县的用户。"))
    before = snapshot_user(user)
    township_id, school_id = _area(data)
    division_code = _within_county(actor, data["role"], township_id, school_id, _division(data))
    new_password = data.get("password") or ""
    if new_password:
        _check_new_password(new_password, user_inputs=(user.username, user.display_name))
    user.display_name = (data.get("display_name") or "").strip() or user.username
    user.role = data["role"]
    user.township_id = township_id
    user.school_id = school_id
    user.division_code = division_code
    after = snapshot_user(user)
    if new_password:
        user.set_password(new_password)
        user.must_change_password = True  # the user picks their own at the next sign-in
        user.end_sessions()  # whoever knew the old password is signed out
        # A reset also lifts a sign-in lock: the administrator has spoken to the user.
        user.failed_logins = 0
        user.locked_until = None
        after["password"] = "reset"
    if after != before:
        record("update", user, before=before, after=after, user=by)
    return user


def set_active(user: User, active: bool, by: User | None = None) -> User:
    """Activate or deactivate ``user`` (a deactivated user cannot sign in).

    :raises UserInputError: an administrator tries to deactivate themselves.
    """
    acting = by if by is not None else (current_user if current_user.is_authenticated else None)
    if not active and acting is not None and acting.id == user.id:
        raise UserInputError(_l("不能停用自己的账户。"))
    if user.active == active:
        return user
    before = snapshot_user(user)
    user.active = active
    if not active:
        user.end_sessions()
    record("update", user, before=before, after=snapshot_user(user), user=by)
    return user


def snapshot_user(user: User) -> dict:
    """Return the audited columns of ``user`` (no password hash)."""
    return snapshot(user, USER_AUDIT_FIELDS)
