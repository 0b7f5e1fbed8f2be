"""Access rules: sign-in everywhere but the sign-in page, auditors change nothing,
role checks, and ID masking."""

import pytest
from flask import Flask
from werkzeug.exceptions import Forbidden

from edu_guard.auth import services


def _sample_url(rule) -> str:
    values = {arg: 1 if rule._converters[arg].__class__.__name__ == "IntegerConverter" else "x" for arg in rule.arguments}
    return rule.build(values, append_unknown=False)[1]


def test_every_page_but_sign_in_needs_a_signed_in_user(app, client):
    """A meta-test over the whole URL map, so a view added without thinking of access
    is still protected (the guard is app-wide, not a decorator to forget)."""
    checked = []
    for rule in app.url_map.iter_rules():
        view = app.view_functions[rule.endpoint]
        if rule.endpoint == "static" or getattr(view, "public", False):
            continue
        url = _sample_url(rule)
        method = "GET" if "GET" in rule.methods else sorted(rule.methods - {"HEAD", "OPTIONS"})[0]
        response = client.open(url, method=method)
        assert response.status_code == 302, f"{rule.endpoint} {method} {url} answered {response.status_code}"
        assert response.headers["Location"].startswith("/login"), rule.endpoint
        checked.append(rule.endpoint)
    assert {"registry.children", "registry.child_detail", "auth.user_list", "auth.logout"} <= set(checked)


def test_public_pages_are_only_sign_in(app):
    public = {e for e, v in app.view_functions.items() if getattr(v, "public", False)}
    # The sign-in page, and the site's icon (a static file browsers fetch unasked).
    assert public == {"auth.login", "favicon"}


def test_auditor_reads_but_every_write_is_refused(app, client, make_user, login):
    auditor = make_user("auditor")
    login(auditor)
    assert client.get("/").status_code == 200
    assert client.get("/children").status_code == 200
    refused = []
    for rule in app.url_map.iter_rules():
        view = app.view_functions[rule.endpoint]
        if "POST" not in rule.methods or getattr(view, "auditor_allowed", False) or getattr(view, "public", False):
            continue
        response = client.post(_sample_url(rule), data={})
        assert response.status_code == 403, f"auditor POST {rule.endpoint} answered {response.status_code}"
        refused.append(rule.endpoint)
    assert "auth.user_new" in refused
    assert "您的角色无权" in client.post("/users/new").text


def test_auditor_may_change_own_password_and_sign_out(client, make_user, login):
    auditor = make_user("auditor", password="old-password")
    login(auditor)
    response = client.post(
        "/password", data={"current_password": "old-password", "new_password": "Kapok-river-47", "confirm": "Kapok-river-47"}
    )
    assert response.status_code == 302
    assert auditor.check_password("Kapok-river-47")
    assert client.post("/logout").status_code == 302


@pytest.mark.parametrize("role", ["clerk", "township", "school", "auditor"])
def test_user_management_is_for_administrators(client, make_user, login, role):
    login(make_user(role))
    assert client.get("/users").status_code == 403
    assert client.get("/users/new").status_code == 403


def test_role_required_and_write_required():
    app = Flask(__name__)
    app.config["SECRET_KEY"] = "k"

    class Auditor:
        is_authenticated = True
        role = "auditor"
        can_write = False

    @services.role_required("admin", "clerk")
    def admin_page():
        return "ok"

    @services.write_required
    def new_case_form():
        return "ok"

    with app.test_request_context(), pytest.MonkeyPatch.context() as mp:
        mp.setattr(services, "current_user", Auditor())
        with pytest.raises(Forbidden):
            admin_page()
        with pytest.raises(Forbidden):
            new_case_form()
        Auditor.role, Auditor.can_write = "clerk", True
        assert admin_page() == "ok" and new_case_form() == "ok"
    with pytest.raises(ValueError, match="unknown roles"):
        services.role_required("boss")


@pytest.mark.parametrize(
    "value, masked",
    [
        ("532801200709250798", "532801********0798"),
        ("53280120070925079X", "532801********079X"),
        ("G532801200709250798", "G532801********0798"),
        ("53280120070925079823", "532801**********9823"),  # 残疾人证号: no birth-year digits
        ("13996030824", "1********24"),
        ("", ""),
        (None, ""),
    ],
)
def test_mask_id_number(value, masked):
    assert services.mask_id_number(value) == masked


def test_a_lost_race_is_a_clear_409_and_nothing_is_saved(app, client, make_user, login):
    """A form sent twice at once ends in a unique-constraint or version conflict: the
    user gets a Chinese page saying nothing was saved, and the session is usable again."""
    import sqlalchemy as sa
    from sqlalchemy.exc import IntegrityError
    from sqlalchemy.orm.exc import StaleDataError

    from edu_guard.auth.models import User
    from edu_guard.db import db

    def duplicate():
        db.session.add(User(username="dup", display_name="x", role="clerk", password_hash="x"))
        db.session.flush()
        db.session.add(User(username="dup", display_name="y", role="clerk", password_hash="y"))
        db.session.flush()  # IntegrityError: the username is unique

    def stale():
        raise StaleDataError("UPDATE statement on table 'aid_list' expected to update 1 row(s); 0 were matched.")

    app.add_url_rule("/_test/duplicate", "test_duplicate", duplicate, methods=["POST"])
    app.add_url_rule("/_test/stale", "test_stale", stale, methods=["POST"])
    app.config["PROPAGATE_EXCEPTIONS"] = False
    login(make_user("clerk"))
    for url in ("/_test/duplicate", "/_test/stale"):
        response = client.post(url)
        assert response.status_code == 409
        assert "本次操作未保存" in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User).where(User.username == "dup")) == 0
    assert client.get("/").status_code == 200
