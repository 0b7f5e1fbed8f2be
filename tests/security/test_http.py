"""The rest (issue 14, item 9): cookie and response headers, the one check of every
``next``, the aid lookup that does not tell "unknown" from "not yours", a roster
refused as a household register, and logs with request ids."""

from __future__ import annotations

import io
from datetime import date

import pytest
import sqlalchemy as sa

from edu_guard.db import db

STRONG = "Menghai-tea-forest-27"


def test_security_headers_on_every_page(client):
    resp = client.get("/login")
    assert resp.headers["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in resp.headers["Content-Security-Policy"]
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert resp.headers["Referrer-Policy"] == "same-origin"
    assert len(resp.headers["X-Request-ID"]) == 12


def test_session_cookie_is_lax_httponly_and_secure_over_https(tmp_path, database_url, make_user):
    from edu_guard.testing import _drop, _fresh_app

    for https, secure in ((False, False), (True, True)):
        app = _fresh_app(tmp_path / str(https), database_url, EDU_GUARD_HTTPS=https)
        with app.app_context():
            from edu_guard.auth.models import User

            user = User(username="li", display_name="李", role="clerk")
            user.set_password(STRONG)
            db.session.add(user)
            db.session.commit()
        client = app.test_client()
        resp = client.post("/login", data={"username": "li", "password": STRONG}, base_url="https://edu.example")
        cookie = next(v for k, v in resp.headers.items() if k == "Set-Cookie" and v.startswith("session="))
        assert "SameSite=Lax" in cookie and "HttpOnly" in cookie
        assert ("Secure" in cookie) is secure
        assert ("Strict-Transport-Security" in client.get("/login", base_url="https://edu.example").headers) is https
        _drop(app)


@pytest.mark.parametrize("target, allowed", [
    ("/comparisons/1?category=x", True),
    ("https://evil.example/", False),
    ("//evil.example/x", False),
    ("/\\evil.example", False),
    ("\\\\evil.example", False),
    ("/ok\r\nLocation: https://evil.example", False),
    ("javascript:alert(1)", False),
    ("comparisons/1", False),
])
def test_safe_next(app, target, allowed):
    from edu_guard.auth.views import safe_next

    with app.test_request_context("/"):
        assert (safe_next(target) == target) is allowed


def test_close_row_does_not_redirect_off_site(app_ctx, make_user, login, client):
    from edu_guard.comparisons.models import ComparisonRow, ComparisonRun

    run = ComparisonRun(kind="status", as_of=date(2021, 3, 1))
    db.session.add(run)
    db.session.flush()
    row = ComparisonRow(run_id=run.id, line=2, id_number="532801200901142694", name="岩温", category="x", reason="r")
    db.session.add(row)
    db.session.commit()
    login(make_user("clerk"))
    resp = client.post(f"/comparisons/rows/{row.id}/close", data={"reason": "", "next": "https://evil.example/phish"})
    assert resp.status_code == 302
    assert "evil.example" not in resp.headers["Location"]
    assert resp.headers["Location"].endswith(f"/comparisons/{run.id}")
    resp = client.post(f"/comparisons/rows/{row.id}/close", data={"reason": "", "next": f"/comparisons/{run.id}?page=2"})
    assert resp.headers["Location"].endswith(f"/comparisons/{run.id}?page=2")


def test_aid_lookup_answers_the_same_for_unknown_and_other_schools_child(county, make_user, login, client):
    """A school user adding an ID number to its list learns nothing about children of
    other schools: the answer for one is the answer for a number nobody has."""
    from edu_guard.aid import services as aid
    from edu_guard.aid.models import AidList
    from edu_guard.registry.models import Child, Enrollment

    term = db.session.execute(sa.select(aid.Term)).scalars().first() if hasattr(aid, "Term") else None
    if term is None:
        aid.load_demo_term()
        db.session.commit()
    aid_list = db.session.execute(sa.select(AidList).order_by(AidList.id)).scalars().first()
    other = db.session.execute(
        sa.select(Child).join(Enrollment).where(Enrollment.school_id != aid_list.school_id)).scalars().first()
    login(make_user("school", school=aid_list.school))

    def answer(id_number):
        resp = client.post(f"/aid/lists/{aid_list.id}/entries", data={"id_number": id_number, "reason": "家庭困难"},
                           follow_redirects=True)
        return resp.get_data(as_text=True)

    unknown, elsewhere = answer("532801201001010019"), answer(other.id_number)
    assert aid.NOT_AT_SCHOOL in unknown and aid.NOT_AT_SCHOOL in elsewhere
    assert other.name not in elsewhere


def test_roster_uploaded_as_household_register_is_refused(county, make_user, login, client, demo_dir):
    login(make_user("clerk"))
    data = (demo_dir / "roster_2021_spring_menghan.csv").read_bytes()
    resp = client.post("/comparisons", data={"kind": "household", "as_of": "2021-03-01",
                                             "file": (io.BytesIO(data), "户籍名单.csv")},
                       content_type="multipart/form-data", follow_redirects=True)
    text = resp.get_data(as_text=True)  # the comparison's job failed, with the reason
    assert resp.request.path.startswith("/jobs/") and "失败" in text
    assert "文件像学籍花名册而不是公安户籍名单" in text and "学籍号" in text
    from edu_guard.comparisons.models import ComparisonRun

    assert db.session.execute(sa.select(sa.func.count()).select_from(ComparisonRun)).scalar() == 0


def test_log_file_has_request_ids_and_the_500_page_names_one(tmp_path, database_url):
    from edu_guard.auth.services import public
    from edu_guard.testing import _drop, _fresh_app

    log = tmp_path / "logs" / "edu_guard.log"
    app = _fresh_app(tmp_path, database_url, EDU_GUARD_LOG_FILE=str(log), PROPAGATE_EXCEPTIONS=False)

    @public
    def boom():
        raise RuntimeError("the failure the admin looks for")

    app.add_url_rule("/boom", "boom", boom)
    resp = app.test_client().get("/boom")
    assert resp.status_code == 500
    rid = resp.headers["X-Request-ID"]
    page = resp.get_data(as_text=True)
    assert "请联系系统管理员查看日志" in page and rid in page
    lines = [line for line in log.read_text(encoding="utf-8").splitlines() if f"[{rid}]" in line]
    assert lines and "ERROR" in lines[0]
    assert "the failure the admin looks for" in log.read_text(encoding="utf-8")
    _drop(app)


@pytest.mark.parametrize("name, expected", [
    ("一案一档-岩温-3.pdf", "一案一档-岩温-3.pdf"),
    ("photo\r\nSet-Cookie: x=1.png", "photo  Set-Cookie: x=1.png"),
    ("../../etc/passwd", "_.._etc_passwd"),
    ("a\\b\x00c.xlsx", "a_bc.xlsx"),
    ("\r\n", "download"),
    ("名" * 300 + ".pdf", "名" * 120 + ".pdf"),
])
def test_download_names_cannot_break_the_header(name, expected):
    from edu_guard.web import download_name

    assert download_name(name) == expected


def test_an_attachment_named_with_a_line_break_downloads(app_ctx, make_child, make_user, login, client):
    """An uploaded file's name is the user's text: a CR/LF in it used to make the
    download a 500 (Werkzeug refuses a header with a line break)."""
    from datetime import time

    from edu_guard.homebound import services
    from edu_guard.homebound.models import HomeboundPlacement, HomeboundSession

    child = make_child()
    placement = HomeboundPlacement(child_id=child.id, school_id=child.current_enrollment.school_id,
                                   assessed_on=date(2021, 3, 1), assessment="重度肢体残疾", teachers="王老师",
                                   starts_on=date(2021, 3, 1))
    session = HomeboundSession(placement=placement, held_on=date(2021, 3, 4), starts_at=time(9), ends_at=time(10),
                               teachers="王老师", progress="能认读十个字")
    db.session.add_all([placement, session])
    db.session.flush()
    png = b"\x89PNG\r\n\x1a\n" + b"\0" * 64
    att = services.add_attachment(session, "photo\r\nSet-Cookie: stolen=1.png", png)
    db.session.commit()
    login(make_user("clerk"))
    resp = client.get(f"/homebound/attachments/{att.id}")
    assert resp.status_code == 200 and resp.data == png
    disposition = resp.headers["Content-Disposition"]
    assert "\r" not in disposition and "\n" not in disposition
    assert all("stolen" not in v for k, v in resp.headers.items() if k == "Set-Cookie")


def test_every_post_route_refuses_a_forged_request(app, client, make_user, login):
    """With CSRF on (the default outside tests), every POST of the app — its own routes
    and plugins' — without the form's token is refused before its view runs."""
    from edu_guard.auth.models import AuditLog

    login(make_user("admin"))
    app.config["WTF_CSRF_ENABLED"] = True
    audit_rows = db.session.execute(sa.select(sa.func.count(AuditLog.id))).scalar_one()
    posts = [r for r in app.url_map.iter_rules() if "POST" in r.methods]
    assert len(posts) >= 35
    for rule in posts:
        values = {arg: 1 if rule._converters[arg].regex == r"\d+" else "x" for arg in rule.arguments}
        url = rule.build(values, append_unknown=False)[1]
        resp = client.post(url, data={"reason": "forged", "on": "2021-03-01"})
        assert resp.status_code == 400, f"{rule.endpoint}: {resp.status_code}"
    assert db.session.execute(sa.select(sa.func.count(AuditLog.id))).scalar_one() == audit_rows
