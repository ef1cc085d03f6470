"""A shop's field mapping over HTTP: read it, preview a change on the stored payloads
(nothing changes), save it as the next version, replay what it failed to map."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from orderhub.api.people import principal
from orderhub.services.hub import Hub
from orderhub.services.mapping_editor import (
    mapping_view,
    preview_mapping,
    replay_unmapped,
    save_mapping,
)

__all__ = ["mapping_routes"]

Code = Annotated[str, Path(min_length=1, max_length=64)]


class Overrides(BaseModel):
    """Per-field overrides in the shape of the platform's mapping file:
    `{"fields": {"placed_at": {"type": "china_time"}}}`; `lines.fields` for line fields."""

    model_config = ConfigDict(extra="forbid")
    overrides: Annotated[dict[str, Any], Field(max_length=2)]


def mapping_routes(hub: Hub) -> APIRouter:
    """The routes; their permissions are declared in `api.access.ROUTES`."""
    router = APIRouter(tags=["connections"])

    @router.get("/api/v1/shops/{code}/mapping")
    def mapping(code: Code) -> dict[str, Any]:
        """Every field of the platform's mapping (path and type), the shop's overrides,
        the version in force and who saved each version."""
        return mapping_view(hub, code)

    @router.post("/api/v1/shops/{code}/mapping/preview")
    def preview(
        code: Code, body: Overrides, limit: Annotated[int, Query(ge=1, le=50)] = 20
    ) -> dict[str, Any]:
        """The shop's latest stored payloads mapped as now and with the overrides, side
        by side (the receiver masked); nothing changes. 422 names a field that cannot be
        compiled."""
        return asdict(preview_mapping(hub, code, body.overrides, limit=limit))

    @router.put("/api/v1/shops/{code}/mapping")
    def save(code: Code, body: Overrides, request: Request) -> dict[str, Any]:
        """Put the overrides in force as the shop's next mapping version."""
        version = save_mapping(hub, code, body.overrides, who=principal(request))
        return {"shop": code, "version": version}

    @router.post("/api/v1/shops/{code}/mapping/replay")
    def replay(code: Code) -> dict[str, int]:
        """Map again every payload of the shop that failed to map."""
        return replay_unmapped(hub, code)

    return router
