"""The console's session: an HTTP-only cookie that other sites cannot use to change things.

A sign-in sets the session cookie (HttpOnly, SameSite=Strict) and a CSRF token; a change
made with the cookie but without the token is refused, a wrong password never starts a
session, and signing out ends the session for good.
"""

from __future__ import annotations

import httpx

from orderhub.api.app import create_app
from orderhub.domain.access import Principal, Role
from orderhub.sandbox.server import serve_in_thread
from orderhub.services.accounts import create_user
from support import make_hub

SETUP = Principal("test-setup", Role.OWNER, via="test")


def test_a_session_cookie_reads_but_changes_only_with_its_csrf_token(database_url: str) -> None:
    hub = make_hub(database_url)
    create_user(hub, "wu", "operator", actor=SETUP, password="a long password")
    server = serve_in_thread(create_app(hub))
    try:
        with httpx.Client(base_url=server.url) as browser:
            wrong = browser.post("/api/v1/session", json={"name": "wu", "password": "nope"})
            assert wrong.status_code == 401 and "orderhub_session" not in browser.cookies

            signed = browser.post(
                "/api/v1/session", json={"name": "wu", "password": "a long password"}
            )
            assert signed.status_code == 200
            cookie = next(
                h for h in signed.headers.get_list("set-cookie") if "orderhub_session=" in h
            )
            assert "HttpOnly" in cookie and "SameSite=strict" in cookie
            csrf = signed.json()["csrf"]
            assert browser.get("/api/v1/me").json()["name"] == "wu"
            assert browser.get("/api/v1/dashboard").status_code == 200

            forged = browser.post("/api/v1/jobs/1/retry")
            assert forged.status_code == 403 and "CSRF" in forged.text
            with_token = browser.post("/api/v1/jobs/1/retry", headers={"X-CSRF-Token": csrf})
            assert with_token.status_code != 403

            assert (
                browser.delete("/api/v1/session", headers={"X-CSRF-Token": csrf}).status_code == 200
            )
            browser.cookies.set("orderhub_session", signed.cookies["orderhub_session"])
            assert browser.get("/api/v1/me").status_code == 401
    finally:
        server.stop()
        hub.close()


def test_the_console_page_is_served_with_a_strict_content_policy(database_url: str) -> None:
    hub = make_hub(database_url)
    server = serve_in_thread(create_app(hub))
    try:
        page = httpx.get(server.url + "/")
        assert page.status_code == 200 and "text/html" in page.headers["content-type"]
        assert "default-src 'self'" in page.headers["content-security-policy"]
        assert page.headers["x-frame-options"] == "DENY"
        assert '<div id="app">' in page.text
    finally:
        server.stop()
        hub.close()
