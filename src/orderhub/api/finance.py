"""Payment reconciliation over HTTP: run a shop's day, list and settle differences."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from orderhub.api.people import principal
from orderhub.services.hub import Hub
from orderhub.services.reconciliation import (
    differences,
    reconcile,
    reconciled_days,
    resolve_difference,
)

__all__ = ["finance_routes"]


class Run(BaseModel):
    model_config = ConfigDict(extra="forbid")
    shop: Annotated[str, Field(min_length=1, max_length=64)]
    date: date


class Settle(BaseModel):
    model_config = ConfigDict(extra="forbid")
    note: Annotated[str, Field(min_length=1, max_length=1000)]
    resolve: bool = True


def finance_routes(hub: Hub) -> APIRouter:
    """The routes; their permissions are declared in `api.access.ROUTES`."""
    router = APIRouter(tags=["finance"])

    @router.post("/api/v1/finance/reconciliations")
    def run(body: Run, request: Request) -> dict[str, Any]:
        """Pull the shop's statement and reconcile the day (run again after a late one)."""
        return reconcile(hub, body.shop, body.date, who=principal(request))

    @router.get("/api/v1/finance/reconciliations")
    def days(
        request: Request,
        shop: Annotated[str | None, Query(max_length=64)] = None,
        limit: Annotated[int, Query(ge=1, le=366)] = 60,
    ) -> list[dict[str, Any]]:
        """The days reconciled so far, newest first, with their figures."""
        return reconciled_days(hub, who=principal(request), shop=shop, limit=limit)

    @router.get("/api/v1/finance/differences")
    def listed(
        request: Request,
        shop: Annotated[str | None, Query(max_length=64)] = None,
        day: Annotated[date | None, Query(alias="date")] = None,
    ) -> list[dict[str, Any]]:
        return differences(hub, who=principal(request), shop=shop, day=day)

    @router.post("/api/v1/finance/differences/{difference_id}")
    def settle(
        difference_id: Annotated[str, Path(min_length=1, max_length=40)],
        body: Settle,
        request: Request,
    ) -> dict[str, Any]:
        """Note what was found; `resolve` settles the difference."""
        return resolve_difference(
            hub, difference_id, note=body.note, resolve=body.resolve, who=principal(request)
        )

    return router
