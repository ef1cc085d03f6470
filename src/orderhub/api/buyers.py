"""Buyers across shops over HTTP: find one, tag them, export or erase their data.

A buyer is found by phone, e-mail or one of their orders, sent in the body (not the URL,
which proxies log). Export and erasure need a reason, which goes to the audit log.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from pydantic import BaseModel, ConfigDict, Field

from orderhub.api.people import principal
from orderhub.domain.errors import NotFound
from orderhub.services.buyers import (
    buyer_of,
    buyer_shown,
    erase_buyer,
    export_buyer,
    find_buyer,
    tag_buyer,
)
from orderhub.services.hub import Hub

__all__ = ["buyer_routes"]

BuyerId = Annotated[str, Path(min_length=1, max_length=40)]
Tag = Annotated[str, Field(min_length=1, max_length=40)]


class Find(BaseModel):
    model_config = ConfigDict(extra="forbid")
    phone: Annotated[str, Field(max_length=40)] = ""
    email: Annotated[str, Field(max_length=200)] = ""
    order: Annotated[str, Field(max_length=100)] = ""


class Tags(BaseModel):
    model_config = ConfigDict(extra="forbid")
    add: Annotated[list[Tag], Field(max_length=20)] = []
    remove: Annotated[list[Tag], Field(max_length=20)] = []


class Why(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: Annotated[str, Field(min_length=1, max_length=500)]


def buyer_routes(hub: Hub) -> APIRouter:
    """The routes; their permissions are declared in `api.access.ROUTES`."""
    router = APIRouter(tags=["buyers"])

    @router.post("/api/v1/buyers/find")
    def find(body: Find, request: Request) -> dict[str, Any]:
        """The buyer with this phone or e-mail (looked up by keyed hash), or of this order."""
        who = principal(request)
        if who.shops:
            raise NotFound("buyer", "outside every shop of yours")
        return buyer_shown(find_buyer(hub, phone=body.phone, email=body.email, order=body.order))

    @router.get("/api/v1/buyers/{buyer_id}")
    def one(buyer_id: BuyerId, request: Request) -> dict[str, Any]:
        if principal(request).shops:
            raise NotFound("buyer", buyer_id)
        return buyer_shown(buyer_of(hub, buyer_id))

    @router.put("/api/v1/buyers/{buyer_id}/tags")
    def tags(buyer_id: BuyerId, body: Tags, request: Request) -> dict[str, Any]:
        """Add and remove tags (vip, blacklist…), which rules read as `buyer.tags`."""
        found = tag_buyer(hub, buyer_id, add=body.add, remove=body.remove, who=principal(request))
        return buyer_shown(found)

    @router.post("/api/v1/buyers/{buyer_id}/export")
    def export(buyer_id: BuyerId, body: Why, request: Request) -> dict[str, Any]:
        """Everything held about the buyer, personal data in clear (the right of access)."""
        return export_buyer(hub, buyer_id, who=principal(request), reason=body.reason)

    @router.post("/api/v1/buyers/{buyer_id}/erase")
    def erase(buyer_id: BuyerId, body: Why, request: Request) -> dict[str, Any]:
        """Destroy the buyer's personal data in every order and payload (the right to
        erasure); the figures the books need stay."""
        return asdict(erase_buyer(hub, buyer_id, who=principal(request), reason=body.reason))

    return router
