"""No developer vocabulary on clerk pages: schemes by their Chinese names; codes and
plugin names only on the administrators' page."""


def test_scheme_codes_and_plugins_only_for_admins(app_ctx, make_user, login, client):
    login(make_user("clerk"))
    page = client.get("/aid/").text
    assert "义务教育家庭经济困难学生生活补助" in page
    for code in ("compulsory_living", "nutrition", "high_school_grant", "edu_guard.schemes", "default"):
        assert code not in page, code
    assert client.get("/aid/plugins").status_code == 403
    login(make_user("admin"))
    admin = client.get("/aid/plugins").text
    assert "compulsory_living" in admin and "义务教育家庭经济困难学生生活补助" in admin
