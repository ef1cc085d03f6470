"""Stock over HTTP: a SKU's ledger at a node, and a stocktake file previewed then applied.

Stock belongs to nodes, not shops, so the stock routes show every node to whoever may
read stock, as `GET /api/v1/stock` does.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from orderhub.api.listings import _file
from orderhub.api.people import principal
from orderhub.services.hub import Hub
from orderhub.services.stocktake import (
    StocktakeChanged,
    StocktakeLine,
    StocktakeRefused,
    apply_stocktake_file,
    preview_stocktake_file,
    sku_ledger,
)

__all__ = ["stock_routes"]

Code = Annotated[str, Path(min_length=1, max_length=100)]


def _line(line: StocktakeLine) -> dict[str, Any]:
    return {**asdict(line), "difference": line.difference}


def _refused(refused: StocktakeRefused) -> JSONResponse:
    body = {
        "error": "StocktakeRefused",
        "message": str(refused),
        "problems": [asdict(p) for p in refused.problems],
    }
    return JSONResponse(body, status_code=422)


def stock_routes(hub: Hub, bounded_body: Callable[[Request], Awaitable[bytes]]) -> APIRouter:
    """The routes; their permissions are declared in `api.access.ROUTES`."""
    router = APIRouter()

    async def upload(request: Request) -> bytes:
        data = await _file(request, await bounded_body(request))
        if not data:
            raise HTTPException(400, "send the stocktake (.xlsx or .csv) as the body")
        return data

    @router.get("/api/v1/stock/{node}/{sku}/ledger", tags=["stock"])
    def ledger(
        node: Code,
        sku: Code,
        before: Annotated[int | None, Query(ge=1, le=2**62)] = None,
        limit: Annotated[int, Query(ge=1, le=500)] = 50,
    ) -> dict[str, Any]:
        """Every movement of the SKU at the node, newest first, with the balance after
        it; `next` is the `before` that pages on (null on the last page)."""
        rows = sku_ledger(hub, node, sku, before_id=before, limit=limit)
        items = [{**asdict(r), "at": r.at.isoformat()} for r in rows]
        more = len(rows) == limit
        return {"node": node, "sku": sku, "items": items, "next": rows[-1].id if more else None}

    @router.post("/api/v1/stock/stocktake/preview", tags=["stock"])
    async def preview(request: Request) -> dict[str, Any]:
        """The file checked against the hub's stock; nothing changes. Columns node, sku
        and quantity; `digest` is what apply needs."""
        data = await upload(request)
        try:
            result = await run_in_threadpool(preview_stocktake_file, hub, data)
        except StocktakeRefused as refused:
            return {"digest": None, "lines": [], "problems": [asdict(p) for p in refused.problems]}
        return {
            "digest": result.digest,
            "lines": [_line(x) for x in result.lines],
            "problems": [asdict(p) for p in result.problems],
        }

    @router.post("/api/v1/stock/stocktake/apply", tags=["stock"], response_model=None)
    async def apply(
        request: Request,
        digest: Annotated[str, Query(min_length=64, max_length=64, pattern="^[0-9a-fA-F]+$")],
        name: Annotated[str, Query(max_length=200)] = "",
    ) -> dict[str, Any] | JSONResponse:
        """The previewed file again, with its digest: 409 if it differs, 422 with its
        problems; otherwise every level is set to its count as one stocktake."""
        who = principal(request)
        data = await upload(request)
        try:
            changed = await run_in_threadpool(
                lambda: apply_stocktake_file(hub, data, digest=digest, actor=who, name=name)
            )
        except StocktakeChanged as exc:
            raise HTTPException(409, str(exc)) from exc
        except StocktakeRefused as refused:
            return _refused(refused)
        return {"applied": [_line(x) for x in changed]}

    return router
