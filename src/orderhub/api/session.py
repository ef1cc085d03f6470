"""The console's sign-in: a session in an HTTP-only cookie, guarded against cross-site use.

Signing in with a name and password (locked after repeated failures, as everywhere)
makes a short-lived personal token named "browser session" and puts it in the
`orderhub_session` cookie, which scripts cannot read and other sites cannot send
(SameSite=Strict; Secure when the hub is served over HTTPS). Every change made with the
cookie must also carry the `X-CSRF-Token` header: a value derived from the session that
the console reads once from the `orderhub_csrf` cookie. Signing out revokes the token.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from datetime import timedelta

from fastapi import APIRouter, HTTPException, Request, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field, field_validator

from orderhub.domain.access import Principal
from orderhub.services import accounts
from orderhub.services.hub import Hub

__all__ = ["COOKIE", "CSRF_COOKIE", "CSRF_HEADER", "session_principal", "session_routes"]

COOKIE = "orderhub_session"
CSRF_COOKIE = "orderhub_csrf"
CSRF_HEADER = "x-csrf-token"
SESSION_NAME = "browser session"
_SAFE = frozenset({"GET", "HEAD", "OPTIONS"})


class SignIn(BaseModel):
    """A person's name and password."""

    name: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=1000)

    @field_validator("name", "password")
    @classmethod
    def _no_nul(cls, value: str) -> str:
        # No stored name holds NUL, and PostgreSQL cannot even be asked about one.
        if "\x00" in value:
            raise ValueError("may not hold a NUL character")
        return value


def csrf_token(session_secret: str) -> str:
    """The value a change must send beside the cookie; only the session's owner knows it."""
    return hmac.new(session_secret.encode(), b"orderhub csrf", hashlib.sha256).hexdigest()


def session_principal(hub: Hub) -> Callable[[Request], Principal | None]:
    """The guard's second way in: the session cookie, with the CSRF header on changes."""

    def find(request: Request) -> Principal | None:
        secret = request.cookies.get(COOKIE)
        if not secret:
            return None
        try:
            who = accounts.principal_for_token(hub, secret)
        except accounts.AccessDenied as exc:
            raise HTTPException(401, f"sign in again: {exc}") from exc
        if request.method not in _SAFE:
            given = request.headers.get(CSRF_HEADER, "")
            if not hmac.compare_digest(given.encode(), csrf_token(secret).encode()):
                raise HTTPException(403, "the CSRF token is missing or wrong: reload the page")
        return who

    return find


def session_routes(hub: Hub) -> APIRouter:
    """Sign in and out; both are open routes (see `api.access.ROUTES`)."""
    router = APIRouter()
    secure = hub.settings.public_url.startswith("https://")
    hours = hub.settings.session_hours

    @router.post("/api/v1/session", tags=["people"])
    async def sign_in(given: SignIn, response: Response) -> dict[str, object]:
        """Start a browser session; the cookie carries it, the answer says who and the
        CSRF token to send with changes."""
        who = await run_in_threadpool(accounts.authenticate, hub, given.name, given.password)
        made = await run_in_threadpool(
            lambda: accounts.create_token(
                hub, who.name, actor=who, name=SESSION_NAME, expires_in=timedelta(hours=hours)
            )
        )
        age = int(hours * 3600)
        csrf = csrf_token(made.secret)
        response.set_cookie(
            COOKIE, made.secret, max_age=age, httponly=True, secure=secure, samesite="strict"
        )
        response.set_cookie(CSRF_COOKIE, csrf, max_age=age, secure=secure, samesite="strict")
        return {
            "name": who.name,
            "role": who.role.value,
            "shops": sorted(who.shops) if who.shops else [],
            "csrf": csrf,
            "expires_at": made.expires_at.isoformat() if made.expires_at else None,
        }

    @router.delete("/api/v1/session", tags=["people"])
    async def sign_out(request: Request, response: Response) -> dict[str, str]:
        """End the browser session: its token is revoked and the cookies cleared."""
        secret = request.cookies.get(COOKIE, "")
        if secret:
            await run_in_threadpool(_end, hub, secret, request.headers.get(CSRF_HEADER, ""))
        response.delete_cookie(COOKIE)
        response.delete_cookie(CSRF_COOKIE)
        return {"signed_out": "yes"}

    return router


def _end(hub: Hub, secret: str, csrf: str) -> None:
    if not hmac.compare_digest(csrf.encode(), csrf_token(secret).encode()):
        raise HTTPException(403, "the CSRF token is missing or wrong: reload the page")
    try:
        who = accounts.principal_for_token(hub, secret)
    except accounts.AccessDenied:
        return
    token_id = who.via.removeprefix("token:")
    accounts.revoke_token(hub, token_id, actor=who)
