"""The back office over HTTP: drop-ship suppliers and their sheets, returns, alerts.

Returns belong to orders, so a person limited to some shops sees only those shops'
returns; suppliers and alerts concern the whole business and follow the permission.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Path, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from orderhub.api.listings import XLSX, _file
from orderhub.api.people import principal
from orderhub.domain.errors import NotFound
from orderhub.services.alerts import alert_list
from orderhub.services.hub import Hub
from orderhub.services.returns import get_return, list_returns, return_data
from orderhub.services.suppliers import export_sheet, import_sheet, supplier_views

__all__ = ["back_office_routes"]

Code = Annotated[str, Path(min_length=1, max_length=64)]
CSV = "text/csv; charset=utf-8"


def back_office_routes(hub: Hub, bounded_body: Callable[[Request], Awaitable[bytes]]) -> APIRouter:
    """The routes; their permissions are declared in `api.access.ROUTES`."""
    router = APIRouter()

    @router.get("/api/v1/suppliers", tags=["suppliers"])
    def suppliers() -> list[dict[str, Any]]:
        """Each drop-ship supplier's last 30 days: purchase orders, how many it
        acknowledged and shipped, its hours to do so, and the score routing gives it."""
        return [row.__dict__ for row in supplier_views(hub)]

    @router.post("/api/v1/suppliers/{node}/sheet", tags=["suppliers"])
    def purchase_order_sheet(
        node: Code, sheet_format: Annotated[Literal["xlsx", "csv"], Query(alias="format")] = "xlsx"
    ) -> Response:
        """Every purchase order of a file supplier not yet sent, as one sheet to send it;
        they count as sent from now on. `X-Purchase-Orders` says how many are on it."""
        sheet = export_sheet(hub, node, fmt=sheet_format)
        name = f"{node}-purchase-orders.{sheet_format}"
        return Response(
            sheet.data,
            media_type=XLSX if sheet_format == "xlsx" else CSV,
            headers={
                "Content-Disposition": f'attachment; filename="{name}"',
                "X-Purchase-Orders": str(len(sheet.purchase_orders)),
                "X-Waiting-To-Merge": str(len(sheet.not_ready)),
            },
        )

    @router.post("/api/v1/suppliers/{node}/shipments", tags=["suppliers"])
    async def supplier_shipments(
        node: Code,
        request: Request,
        name: Annotated[str, Query(max_length=200)] = "shipments.xlsx",
    ) -> dict[str, Any]:
        """The sheet a supplier filled in with carriers and tracking numbers: its parcels
        are applied, the rows that cannot be used are answered and kept as exceptions.
        The same file twice is applied once."""
        data = await _file(request, await bounded_body(request))
        if not data:
            raise HTTPException(400, "send the supplier's sheet (.xlsx or .csv) as the body")
        result = await run_in_threadpool(import_sheet, hub, node, data, name)
        return result.__dict__

    @router.get("/api/v1/returns", tags=["returns"])
    def returns(
        request: Request,
        status: Annotated[str | None, Query(max_length=32)] = None,
        order_id: Annotated[str | None, Query(max_length=64)] = None,
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    ) -> list[dict[str, Any]]:
        """Returns, newest first, of the caller's shops."""
        shops = principal(request).scope(None)
        found = list_returns(hub, status=status, order_id=order_id, shops=shops, limit=limit)
        return [return_data(r) for r in found]

    @router.get("/api/v1/returns/{return_id}", tags=["returns"])
    def one_return(
        return_id: Annotated[str, Path(max_length=64)], request: Request
    ) -> dict[str, Any]:
        """One return: what was announced, what arrived, and how the stock was booked."""
        record = get_return(hub, return_id)
        if not principal(request).sees_shop(record.shop):
            raise NotFound("return", return_id)
        return return_data(record)

    @router.get("/api/v1/alerts", tags=["alerts"])
    def alerts(
        kind: Annotated[str | None, Query(max_length=64)] = None,
        unsent: bool = False,
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    ) -> list[dict[str, Any]]:
        """Alerts newest first: what happened, how often, and whether it went out."""
        return [
            {
                **r.__dict__,
                "first_at": r.first_at.isoformat(),
                "last_at": r.last_at.isoformat(),
                "sent_at": r.sent_at.isoformat() if r.sent_at else None,
            }
            for r in alert_list(hub, kind=kind, unsent=unsent, limit=limit)
        ]

    return router
