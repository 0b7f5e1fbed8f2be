"""User management by administrators, and changing one's own password."""

import os
from datetime import timedelta

import pytest
import sqlalchemy as sa

from edu_guard.auth.models import AuditLog, User
from edu_guard.db import db, utcnow
from edu_guard.registry.models import School, Township


@pytest.fixture
def area(app_ctx):
    town = Township(county_code="532801", name="勐罕镇")
    school = School(code="2153280177", name="勐罕中心小学", stage="小学", township=town, county_code="532801")
    db.session.add(school)
    db.session.commit()
    return town, school


@pytest.fixture
def admin(make_user, login):
    user = make_user("admin", username="boss")
    login(user)
    return user


def new_user(client, **fields):
    data = {"username": "yan", "display_name": "岩温", "role": "clerk", "township_id": "", "school_id": "", "password": "Tea-forest-Menghai-9"}
    data.update(fields)
    return client.post("/users/new", data=data)


def audit_rows(action=None):
    stmt = sa.select(AuditLog).where(AuditLog.entity == "user").order_by(AuditLog.id)
    if action:
        stmt = stmt.where(AuditLog.action == action)
    return db.session.execute(stmt).scalars().all()


def test_user_list_and_form_render(client, admin, area):
    page = client.get("/users")
    assert page.status_code == 200 and "boss" in page.text and "局管理员" in page.text
    form = client.get("/users/new")
    assert "勐罕中心小学" in form.text and "乡镇人员" in form.text


def test_create_clerk(client, admin, area):
    response = new_user(client)
    assert response.status_code == 302
    user = db.session.execute(sa.select(User).where(User.username == "yan")).scalar_one()
    assert user.role == "clerk" and user.check_password("Tea-forest-Menghai-9")
    (row,) = audit_rows("create")
    assert row.user_id == admin.id and row.entity_id == user.id
    assert row.after["role"] == "clerk" and "password_hash" not in row.after


def test_township_and_school_users_need_their_area(client, admin, area):
    town, school = area
    missing = new_user(client, role="township")
    assert missing.status_code == 200 and "必须选择所属乡镇" in missing.text
    assert "必须选择所属学校" in new_user(client, role="school").text
    assert new_user(client, role="school", school_id=str(school.id), township_id=str(town.id)).status_code == 302
    user = db.session.execute(sa.select(User).where(User.username == "yan")).scalar_one()
    assert (user.school_id, user.township_id) == (school.id, None)  # the area that fits the role only


def test_create_refuses_duplicates_and_short_passwords(client, admin, area):
    assert "已被使用" in new_user(client, username="boss").text
    assert "至少" in new_user(client, password="short").text
    assert audit_rows("create") == []


def test_edit_role_and_reset_password(client, admin, area, make_user):
    town, _ = area
    user = make_user("clerk", username="li")
    user.locked_until = utcnow() + timedelta(minutes=5)
    db.session.commit()
    response = client.post(
        f"/users/{user.id}",
        data={"username": "ignored", "display_name": "李", "role": "township", "township_id": str(town.id), "school_id": "", "password": "fresh-password"},
    )
    assert response.status_code == 302
    db.session.refresh(user)
    assert (user.username, user.role, user.township_id, user.locked_until) == ("li", "township", town.id, None)
    assert user.check_password("fresh-password")
    (row,) = audit_rows("update")
    assert row.before["role"] == "clerk" and row.after["role"] == "township" and row.after["password"] == "reset"


def test_deactivate_and_reactivate(client, admin, make_user):
    user = make_user("school", username="wang")
    assert client.post(f"/users/{user.id}/active", data={"active": "0"}).status_code == 302
    db.session.refresh(user)
    assert user.active is False
    assert "已停用" in client.get("/users").text
    assert [(r.before["active"], r.after["active"]) for r in audit_rows("update")] == [(True, False)]
    client.post(f"/users/{user.id}/active", data={"active": "1"})
    db.session.refresh(user)
    assert user.active is True


def test_admin_cannot_deactivate_self(client, admin):
    response = client.post(f"/users/{admin.id}/active", data={"active": "0"}, follow_redirects=True)
    assert "不能停用自己的账户" in response.text
    db.session.refresh(admin)
    assert admin.active is True


def test_change_own_password(app, client, make_user, login):
    user = make_user("clerk", username="admin", password="first-password")
    creds = app.instance_path + "/initial_admin.txt"
    with open(creds, "w", encoding="utf-8") as f:
        f.write("admin\nfirst-password\n")
    login(user)
    assert "当前密码不正确" in client.post(
        "/password", data={"current_password": "wrong", "new_password": "second-password", "confirm": "second-password"}
    ).text
    assert "不一致" in client.post(
        "/password", data={"current_password": "first-password", "new_password": "second-password", "confirm": "other-password"}
    ).text
    response = client.post(
        "/password", data={"current_password": "first-password", "new_password": "second-password", "confirm": "second-password"}
    )
    assert response.status_code == 302
    db.session.refresh(user)
    assert user.check_password("second-password")
    assert [r.after for r in audit_rows("password")] == [{"password": "changed"}]
    assert not os.path.exists(creds)  # `edu-guard init`'s first password is no longer shown
