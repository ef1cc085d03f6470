"""People, tokens, sign-in and the audit log over HTTP.

The first owner is made with the one-time set-up code `orderhub serve` prints while no
user exists (or with `orderhub users create --role owner` on the server).
"""

from __future__ import annotations

import hmac
import secrets
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field

from orderhub.domain.access import Principal, Role
from orderhub.services import accounts
from orderhub.services.audit import list_entries
from orderhub.services.hub import Hub

__all__ = ["SetupCode", "people_routes", "principal"]


class NewUser(BaseModel):
    """A person to add: a password is made up and returned once when none is given."""

    name: str = Field(min_length=1, max_length=64)
    role: str
    shops: list[str] = Field(default_factory=list, max_length=1000)
    password: str | None = Field(default=None, max_length=1000)


class NewToken(BaseModel):
    """A personal token for a person; `expires` like `30d`, or none."""

    name: str = Field(default="", max_length=100)
    expires: str | None = Field(default=None, max_length=10)


class FirstOwner(BaseModel):
    """The first owner, made with the set-up code `orderhub serve` printed."""

    code: str = Field(min_length=1, max_length=100)
    name: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=1000)


class SetupCode:
    """The one-time code that lets the first owner be made over HTTP, while no user exists."""

    def __init__(self, hub: Hub) -> None:
        with hub.reader() as uow:
            self.value: str | None = None if uow.people.count_users() else secrets.token_hex(8)

    def use(self, given: str) -> bool:
        if self.value is None or not hmac.compare_digest(given.encode(), self.value.encode()):
            return False
        self.value = None
        return True


def principal(request: Request) -> Principal:
    """Who the guard found for this request."""
    who = getattr(request.state, "principal", None)
    if not isinstance(who, Principal):
        raise HTTPException(401, "sign in or send a personal API token")
    return who


def _user_data(user: Any) -> dict[str, Any]:
    return {
        "name": user.name,
        "role": user.role.value,
        "shops": list(user.shops),
        "disabled": user.disabled,
        "created_at": user.created_at.isoformat(),
    }


def people_routes(hub: Hub, setup: SetupCode) -> APIRouter:
    """The routes; their permissions are declared in `api.access.ROUTES`."""
    router = APIRouter()

    @router.post("/api/v1/setup", tags=["people"], status_code=201)
    def first_owner(body: FirstOwner) -> dict[str, Any]:
        """Make the first owner with the code `orderhub serve` printed; works once."""
        if not setup.use(body.code):
            raise HTTPException(403, "the set-up code is wrong or was used already")
        system = Principal("setup-code", Role.OWNER, via="setup")
        user, _ = accounts.create_user(
            hub, body.name, Role.OWNER, actor=system, password=body.password
        )
        return _user_data(user)

    @router.get("/api/v1/me", tags=["people"])
    def me(request: Request) -> dict[str, Any]:
        """Who this request acts as: name, role, shops and what they may do."""
        who = principal(request)
        return {
            "name": who.name,
            "role": who.role.value,
            "shops": sorted(who.shops),
            "via": who.via,
            "permissions": sorted(p.value for p in who.permissions),
        }

    @router.get("/api/v1/users", tags=["people"])
    def users() -> list[dict[str, Any]]:
        return [_user_data(u) for u in accounts.list_users(hub)]

    @router.post("/api/v1/users", tags=["people"], status_code=201)
    def add_user(body: NewUser, request: Request) -> dict[str, Any]:
        user, made_up = accounts.create_user(
            hub,
            body.name,
            body.role,
            actor=principal(request),
            shops=tuple(body.shops),
            password=body.password,
        )
        return {**_user_data(user), "password": made_up}

    @router.post("/api/v1/users/{name}/tokens", tags=["people"], status_code=201)
    def add_token(name: str, body: NewToken, request: Request) -> dict[str, Any]:
        """A token for `name`; the secret is in this answer only."""
        lifetime = accounts.parse_duration(body.expires) if body.expires else None
        token = accounts.create_token(
            hub, name, actor=principal(request), name=body.name, expires_in=lifetime
        )
        return {
            "id": token.id,
            "user": token.user,
            "token": token.secret,
            "expires_at": token.expires_at.isoformat() if token.expires_at else None,
        }

    @router.delete("/api/v1/tokens/{token_id}", tags=["people"])
    def revoke(token_id: str, request: Request) -> dict[str, Any]:
        token = accounts.revoke_token(hub, token_id, actor=principal(request))
        return {"id": token.id, "user": token.user, "revoked": True}

    @router.get("/api/v1/audit", tags=["people"])
    async def audit(
        actor: Annotated[str | None, Query(max_length=100)] = None,
        action: Annotated[str | None, Query(max_length=64)] = None,
        target: Annotated[str | None, Query(max_length=200)] = None,
        before: Annotated[int | None, Query(ge=1, le=2**62)] = None,
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    ) -> list[dict[str, Any]]:
        """Entries newest first; page with `before` = the last id seen."""
        rows = await run_in_threadpool(
            list_entries,
            hub,
            actor=actor,
            action=action,
            target=target,
            before_id=before,
            limit=limit,
        )
        return [{**r.__dict__, "at": r.at.isoformat()} for r in rows]

    return router
