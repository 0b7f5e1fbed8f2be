"""Sign-in refusals and user-input refusals (auth.services) read in the page's language
(issue 10 §5).

The tests share one app context with their requests, where Flask-Babel keeps the locale it
chose: :func:`flask_babel.refresh` forgets it when a test changes the language."""

from flask_babel import refresh


def test_sign_in_refusals_read_in_english(app_ctx, client, make_user):
    make_user("clerk", username="amy")
    refresh()
    english = client.post("/login?lang=en", data={"username": "amy", "password": "nope"}, follow_redirects=True).text
    assert "Wrong username or password." in english
    refresh()
    chinese = client.post("/login?lang=zh", data={"username": "amy", "password": "nope"}, follow_redirects=True).text
    assert "用户名或密码错误。" in chinese


def test_password_change_refusal_reads_in_english(app_ctx, make_user, login):
    client = login(make_user("clerk", username="amy"))
    refresh()
    page = client.post("/password?lang=en", data={"current_password": "wrong", "new_password": "Long-and-odd-9%x",
                                                  "confirm": "Long-and-odd-9%x", "new_password2": "Long-and-odd-9%x"},
                       follow_redirects=True).text
    assert "The current password is wrong." in page
    assert "当前密码不正确" not in page
