"""The multi-process set-up, as a bureau or a province runs it: two web servers
(``edu-guard serve``, gunicorn) and one queue worker (``edu-guard worker``) on the test
database with the Redis queue. An import is submitted through web server A, run by the
worker, and its result is read from web server B. Bounded in time; everything started
is stopped."""

from __future__ import annotations

import http.cookiejar
import os
import re
import socket
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from pathlib import Path

import pytest

from edu_guard.db import db
from edu_guard.testing import DEMO_DIR, _drop, _fresh_app, start, stop, write_instance_config

#: The Redis the queue tests use; a developer running several checkouts at once gives each its own db.
REDIS_URL = os.environ.get("EDU_GUARD_TEST_REDIS_URL", "redis://127.0.0.1:6379/5")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class Browser:
    """A cookie-keeping HTTP client that does not follow redirects."""

    def __init__(self):
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar), _NoRedirect)

    def open(self, url: str, data: bytes | None = None, headers: dict | None = None):
        request = urllib.request.Request(url, data=data, headers=headers or {})
        try:
            with self.opener.open(request, timeout=30) as response:
                return response.status, dict(response.headers), response.read().decode("utf-8")
        except urllib.error.HTTPError as exc:
            return exc.code, dict(exc.headers), exc.read().decode("utf-8", "replace")

    def csrf(self, url: str) -> str:
        status, _, page = self.open(url)
        assert status == 200, (url, status)
        return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)

    def post_form(self, url: str, fields: dict):
        data = urllib.parse.urlencode(fields).encode()
        return self.open(url, data, {"Content-Type": "application/x-www-form-urlencoded"})

    def post_file(self, url: str, fields: dict, name: str, content: bytes):
        boundary = uuid.uuid4().hex
        parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode() for k, v in fields.items()]
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
                     "Content-Type: application/octet-stream\r\n\r\n".encode() + content + b"\r\n")
        body = b"".join(parts) + f"--{boundary}--\r\n".encode()
        return self.open(url, body, {"Content-Type": f"multipart/form-data; boundary={boundary}"})


@pytest.fixture
def deployment(tmp_path, database_url):
    app = _fresh_app(tmp_path, database_url, EDU_GUARD_QUEUE_IMMEDIATE=False, EDU_GUARD_QUEUE_URL=REDIS_URL,
                     EDU_GUARD_QUEUE_NAME=f"edu_guard_mp_{uuid.uuid4().hex[:8]}")
    with app.app_context():
        from edu_guard.auth.models import User

        clerk = User(username="clerk", display_name="办事员", role="clerk")
        clerk.set_password("clerk-password")
        db.session.add(clerk)
        db.session.commit()
    instance = Path(app.instance_path)
    write_instance_config(app, "SECRET_KEY = 'multi-process-test-key-of-more-than-32-characters'")
    ports = [free_port(), free_port()]
    procs = []
    try:
        for port in ports:
            procs.append(start(instance, tmp_path / f"web-{port}.log", "serve", "--port", str(port), "--workers", "1",
                               "--threads", "2"))
        procs.append(start(instance, tmp_path / "worker.log", "worker"))
        deadline = time.monotonic() + 90
        for port in ports:
            while True:
                try:
                    with urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=5) as response:
                        if response.status == 200:
                            break
                except OSError:
                    pass
                assert time.monotonic() < deadline, (tmp_path / f"web-{port}.log").read_text()
                time.sleep(0.3)
        yield [f"http://127.0.0.1:{port}" for port in ports]
    finally:
        for proc in procs:
            stop(proc)
        with app.app_context():
            from edu_guard.jobs.queue import queue_of

            queue_of().flush()
        _drop(app)


def test_an_import_submitted_to_one_web_server_is_run_by_the_worker_and_seen_from_the_other(deployment):
    a, b = deployment
    browser = Browser()
    token = browser.csrf(f"{a}/login")
    status, headers, _ = browser.post_form(f"{a}/login", {"csrf_token": token, "username": "clerk",
                                                          "password": "clerk-password"})
    assert status == 302 and headers["Location"] == "/"
    token = browser.csrf(f"{a}/imports")
    status, headers, page = browser.post_file(f"{a}/imports", {"csrf_token": token, "kind": "schools"}, "schools.csv",
                                              (DEMO_DIR / "schools.csv").read_bytes())
    assert status == 302, page
    job_path = headers["Location"]
    assert re.fullmatch(r"/imports/jobs/\d+", job_path)

    # Server B (another process, same session cookie) follows the job the worker runs.
    import json

    deadline = time.monotonic() + 120
    while True:
        status, _, body = browser.open(f"{b}{job_path}.json")
        assert status == 200, body
        state = json.loads(body)
        if state["state"] in ("done", "failed"):
            break
        assert time.monotonic() < deadline, state
        time.sleep(0.3)
    assert state["state"] == "done", state
    rows = len((DEMO_DIR / "schools.csv").read_text(encoding="utf-8-sig").strip().splitlines()) - 1
    assert state["done"] == state["total"] == rows
    status, headers, _ = browser.open(f"{b}{job_path}")
    assert status == 302 and headers["Location"] == state["url"]
    status, _, page = browser.open(f"{b}{state['url']}")
    assert status == 200 and "schools.csv" in page
