"""Reports over HTTP: JSON for the console's charts, CSV or Excel to download."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response

from orderhub.api.listings import XLSX
from orderhub.api.people import principal
from orderhub.services.hub import Hub
from orderhub.services.report_files import report_csv, report_xlsx
from orderhub.services.reports import report

__all__ = ["report_routes"]


def report_routes(hub: Hub) -> APIRouter:
    """The routes; their permissions are declared in `api.access.ROUTES`."""
    router = APIRouter(tags=["reports"])

    @router.get("/api/v1/reports/{name}", response_model=None)
    def one_report(
        request: Request,
        name: Annotated[str, Path(min_length=1, max_length=32)],
        start: Annotated[date | None, Query(alias="from")] = None,
        end: Annotated[date | None, Query(alias="to")] = None,
        by: Annotated[list[str] | None, Query(max_length=4)] = None,
        days: Annotated[int, Query(ge=1, le=366)] = 30,
        fmt: Annotated[Literal["json", "csv", "xlsx"], Query(alias="format")] = "json",
    ) -> dict[str, Any] | Response:
        """sales (by day, shop, sku, node), fulfilment (by day, shop, node), exceptions,
        stock (over the last `days`) or suppliers; `from` and `to` are the seller's days,
        both included (the last 30 by default)."""
        found = report(
            hub,
            name,
            who=principal(request),
            start=start,
            end=end,
            by=by or ["day"],
            days=days,
        )
        if fmt == "json":
            return found.as_dict()
        filename = f"{found.name}-{found.start or ''}-{found.end or ''}.{fmt}"
        headers = {"Content-Disposition": f'attachment; filename="{filename}"'}
        if fmt == "csv":
            return Response(
                report_csv(found), media_type="text/csv; charset=utf-8", headers=headers
            )
        return Response(report_xlsx(found), media_type=XLSX, headers=headers)

    return router
