"""Sign-in, sign-out, own password, and user management (blueprint ``auth``).

The login guard, the error pages and the template helpers every page uses are
:mod:`edu_guard.web`'s.
"""

from __future__ import annotations

import io
import json
import re
from datetime import date, timezone
from pathlib import Path

from flask import (
    abort,
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_user, logout_user
from flask_wtf import FlaskForm
from wtforms import HiddenField, PasswordField, SelectChoice, SelectField, StringField
from wtforms.validators import DataRequired, EqualTo, Length, Optional

from edu_guard import clock, excel
from edu_guard.auth import queries, services, throttle
from edu_guard.auth.models import ROLES, User
from edu_guard.auth.services import (
    LoginFailed,
    UserInputError,
    auditor_allowed,
    public,
    role_required,
)
from edu_guard.db import db, utcnow
from edu_guard.paths import INITIAL_ADMIN_FILE
from edu_guard.web import after_commit, refusals, safe_next

bp = Blueprint("auth", __name__)


def choice_list(pairs, empty=None) -> list[SelectChoice]:
    """Return select choices from ``(value, label)`` pairs, after an optional empty
    choice labelled ``empty`` ("全部", "—")."""
    head = [SelectChoice("", empty)] if empty is not None else []
    return head + [SelectChoice(value, label) for value, label in pairs]


def optional_int(value) -> int | None:
    """Coerce a select's value to an int, or ``None`` for the empty "all/none" choice."""
    if value in (None, "", "None"):
        return None
    return int(value)


@bp.app_template_filter("mask_id")
def _mask_id_filter(value: str | None) -> str:
    """``{{ child.id_number | mask_id }}`` → ``532801********0798``."""
    return services.mask_id_number(value)


# --- forms ----------------------------------------------------------------------


class LoginForm(FlaskForm):
    """The sign-in form."""

    username = StringField(_l("用户名"), validators=[DataRequired(message=_l("请填写用户名。"))])
    password = PasswordField(_l("密码"), validators=[DataRequired(message=_l("请填写密码。"))])
    next = HiddenField()


class ChangePasswordForm(FlaskForm):
    """A user changes their own password."""

    current_password = PasswordField(_l("当前密码"), validators=[DataRequired()])
    new_password = PasswordField(
        _l("新密码"),
        validators=[
            DataRequired(),
            Length(min=services.MIN_PASSWORD_LENGTH, message=_l("密码至少需要 %(min)d 个字符。")),
        ],
    )
    confirm = PasswordField(
        _l("再次输入新密码"), validators=[DataRequired(), EqualTo("new_password", message=_l("两次输入的新密码不一致。"))]
    )


class ActiveForm(FlaskForm):
    """Deactivate (``0``) or reactivate (``1``) a user."""

    active = HiddenField(validators=[DataRequired()])


class UserForm(FlaskForm):
    """An administrator creates or edits a user (role and area)."""

    username = StringField(_l("用户名"), validators=[DataRequired(), Length(max=64)])
    display_name = StringField(_l("姓名"), validators=[DataRequired(), Length(max=64)])
    role = SelectField(_l("角色"), choices=choice_list((value, _l(label)) for value, label in ROLES.items()), default="school")
    township_id = SelectField(_l("所属乡镇（乡镇人员必填）"), coerce=optional_int, validate_choice=True)
    school_id = SelectField(_l("所属学校（学校人员必填）"), coerce=optional_int, validate_choice=True)
    division_code = SelectField(_l("所属行政区划（州市、省级用户必填；多县共用数据库时县级用户必填）"),
                                coerce=lambda v: v or None, validate_choice=False)  # checked by the service
    password = PasswordField(_l("密码"), validators=[Optional(), Length(min=services.MIN_PASSWORD_LENGTH)])

    def fill_choices(self) -> None:
        """Load the townships and schools to choose from."""
        county = getattr(current_user, "division_code", None)  # an admin of one county among several
        townships, schools = queries.area_choices(county)
        self.township_id.choices = choice_list(townships, "—")
        self.school_id.choices = choice_list(((s[0], f"{s[2]} · {s[1]}") for s in schools), "—")
        self.division_code.choices = choice_list(((code, f"{code} {name}") for code, name in queries.divisions(county)), "—")


def _home() -> str:
    return url_for("registry.index")


# --- sign-in --------------------------------------------------------------------


@bp.route("/login", methods=["GET", "POST"])
@public
@throttle.limiter.limit(throttle.address_limit, methods=["POST"])
def login():
    """Show the sign-in form; sign the user in and go to the page they asked for.

    Attempts are throttled per address and account (:mod:`edu_guard.auth.throttle`);
    a user whose password was set by someone else goes to change it first."""
    if current_user.is_authenticated:
        return redirect(_home())
    form = LoginForm(next=request.args.get("next", ""))
    if form.validate_on_submit():
        try:
            user = services.authenticate(form.username.data, form.password.data, throttle.client_address())
        except LoginFailed as exc:
            flash(str(exc), "error")  # the failure is kept (the boundary commits it): it counts towards the lock
        else:
            login_user(user)
            if user.must_change_password:
                return redirect(url_for("auth.change_password"))
            return redirect(safe_next(form.next.data) or _home())
    return render_template("auth/login.html", form=form)


@bp.route("/logout", methods=["POST"])
@auditor_allowed
def logout():
    """Sign out — ending every session of the user, copied cookies included — and
    return to the sign-in page."""
    services.sign_out(current_user)
    logout_user()
    flash(_("您已退出登录。"), "info")
    return redirect(url_for("auth.login"))


@bp.route("/password", methods=["GET", "POST"])
@auditor_allowed
def change_password():
    """Let the signed-in user change their own password."""
    form = ChangePasswordForm()
    if form.validate_on_submit():
        with refusals(UserInputError, flash_it=False) as outcome:
            services.change_password(current_user, form.current_password.data, form.new_password.data)
        if not outcome.ok:
            getattr(form, outcome.refused.field).errors.append(str(outcome.refused))
        else:
            user = current_user._get_current_object()
            login_user(user)  # the change ended every session of the user; this one goes on
            after_commit(lambda: _forget_initial_admin_password(user))
            flash(_("密码已修改，其他设备上的登录已失效。"), "success")
            return redirect(_home())
    return render_template("auth/password.html", form=form, min_length=services.MIN_PASSWORD_LENGTH)


def _forget_initial_admin_password(user: User) -> None:
    """Remove the login ``edu-guard init`` wrote once its user chose a new password."""
    creds = Path(current_app.instance_path) / INITIAL_ADMIN_FILE
    try:
        name = creds.read_text(encoding="utf-8").split()[0]
    except (OSError, IndexError):
        return
    if name == user.username:
        creds.unlink(missing_ok=True)


# --- user management (administrators) ------------------------------------------


@bp.route("/users")
@role_required("admin")
def user_list():
    """List every user with role, area, state and sign-in lock."""
    users = queries.users(services.managed_users(current_user))
    now = utcnow()
    locked = {u.id: u.locked_until for u in users if u.locked_until and services.aware(u.locked_until) > now}
    return render_template("auth/users.html", users=users, locked=locked)


def _user_data(form: UserForm) -> dict:
    return {
        "username": form.username.data,
        "display_name": form.display_name.data,
        "role": form.role.data,
        "township_id": form.township_id.data,
        "school_id": form.school_id.data,
        "division_code": form.division_code.data or None,
        "password": form.password.data or "",
    }


def _attach_error(form: FlaskForm, exc: UserInputError) -> None:
    field = getattr(form, exc.field, None) if exc.field else None
    if field is not None:
        field.errors = list(field.errors) + [str(exc)]
    else:
        flash(str(exc), "error")


@bp.route("/users/new", methods=["GET", "POST"])
@role_required("admin")
def user_new():
    """Create a user: role and, for township and school users, their area."""
    form = UserForm()
    form.fill_choices()
    form.password.validators = [DataRequired(), Length(min=services.MIN_PASSWORD_LENGTH)]
    form.password.flags.required = True
    if form.validate_on_submit():
        with refusals(UserInputError, flash_it=False) as outcome:
            user = services.create_user(_user_data(form))
        if not outcome.ok:
            _attach_error(form, outcome.refused)
        else:
            flash(_("已创建用户 %(name)s。", name=user.username), "success")
            return redirect(url_for("auth.user_list"))
    return render_template("auth/user_form.html", form=form, user=None)


def _get_user(user_id: int) -> User:
    """The user ``user_id``, when the signed-in administrator manages them (404 otherwise:
    another county's user is not shown to a county's administrator)."""
    user = db.get_or_404(User, user_id)
    if not services.can_manage(current_user, user):
        abort(404)
    return user


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
@role_required("admin")
def user_edit(user_id: int):
    """Change a user's name, role and area, or reset their password."""
    user = _get_user(user_id)
    form = UserForm(obj=user)
    form.fill_choices()
    form.username.data = user.username  # not editable: it is how people sign in
    if form.validate_on_submit():
        with refusals(UserInputError, flash_it=False) as outcome:
            services.update_user(user, _user_data(form))
        if not outcome.ok:
            _attach_error(form, outcome.refused)
        else:
            flash(_("已保存用户 %(name)s。", name=user.username), "success")
            return redirect(url_for("auth.user_list"))
    return render_template("auth/user_form.html", form=form, user=user)


@bp.post("/users/<int:user_id>/unlock")
@role_required("admin")
def user_unlock(user_id: int):
    """Lift a user's sign-in lock from every address."""
    user = _get_user(user_id)
    services.unlock(user)
    flash(_("已解除用户 %(name)s 的登录锁定。", name=user.username), "success")
    return redirect(url_for("auth.user_list"))


@bp.route("/users/<int:user_id>/active", methods=["POST"])
@role_required("admin")
def user_set_active(user_id: int):
    """Deactivate (``active=0``) or reactivate (``active=1``) a user."""
    user = _get_user(user_id)
    form = ActiveForm()
    active = form.validate_on_submit() and form.active.data == "1"
    with refusals(UserInputError) as outcome:
        services.set_active(user, active)
    if outcome.ok:
        flash(_("已启用用户 %(name)s。", name=user.username) if active else _("已停用用户 %(name)s。", name=user.username), "success")
    return redirect(url_for("auth.user_list"))


# --- the audit log (auditors and administrators) ---------------------------------

#: Who may read the audit log: it spans the county, like the auditor's other pages.
AUDIT_ROLES = ("admin", "auditor")
#: Rows in one audit workbook (the newest, after the filters).
AUDIT_EXPORT_MAX = 50_000


def _audit_filters() -> queries.AuditFilters:
    """The audit log's filters from the query string: user id, entity (object type),
    object id, action, first and last day (inclusive, the county's days as shown)."""

    def day(name):
        try:
            return date.fromisoformat(request.args.get(name) or "")
        except ValueError:
            return None

    return {
        "user_id": request.args.get("user_id", type=int),
        "entity": (request.args.get("entity") or "").strip() or None,
        "entity_id": request.args.get("entity_id", type=int),
        "action": (request.args.get("action") or "").strip() or None,
        "start": day("from"),
        "end": day("to"),
    }


#: An ID number, 学籍号 or 残疾人证号 inside audit text (snapshots of children …).
_NUMBER_IN_TEXT = re.compile(r"(?<![0-9A-Za-z])([A-Za-z]?[0-9]{6})([0-9]{5,10})([0-9]{3}[0-9Xx])(?![0-9A-Za-z])")


def audit_text(value) -> str:
    """An audit row's ``before``/``after`` as JSON text; for roles that do not see
    whole numbers (auditors), ID-like numbers in it are masked as everywhere else."""
    if value is None:
        return ""
    text = json.dumps(value, ensure_ascii=False, default=str)
    if current_user.sees_full_ids:
        return text
    return _NUMBER_IN_TEXT.sub(lambda m: m.group(1) + "*" * len(m.group(2)) + m.group(3), text)


def _county_time(at):
    """An audit time as the county reads it (its zone), without a zone: Excel has none."""
    if at is None:
        return None
    at = at if at.tzinfo else at.replace(tzinfo=timezone.utc)
    return at.astimezone(clock.county_zone()).replace(tzinfo=None)


@bp.get("/audit")
@role_required(*AUDIT_ROLES)
def audit_log():
    """The audit log, newest first, filtered by user, object, action and date;
    ``?format=xlsx`` downloads the filtered rows (edu_guard.excel)."""
    args = _audit_filters()
    county_users = services.managed_users(current_user)  # a reader of one county among several
    stmt = queries.audit_rows(args, county_users)
    users, entities, actions = queries.audit_choices(county_users)
    if request.args.get("format") == "xlsx":
        rows = db.session.execute(stmt.limit(AUDIT_EXPORT_MAX)).scalars().all()
        data = excel.table(
            _("审计日志"),
            [_("时间"), _("用户"), _("操作"), _("对象"), _("对象编号"), _("修改前"), _("修改后")],
            ([_county_time(r.at), users.get(r.user_id, ""), r.action, r.entity, r.entity_id,
              audit_text(r.before), audit_text(r.after)] for r in rows),
        )
        return send_file(io.BytesIO(data), as_attachment=True, download_name="audit-log.xlsx",
                         mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    page = db.paginate(stmt, page=request.args.get("page", 1, type=int),
                       per_page=current_app.config["EDU_GUARD_PAGE_SIZE"], error_out=False)
    return render_template("auth/audit.html", page=page, users=users, entities=entities, actions=actions, args=args,
                           audit_json=audit_text)
