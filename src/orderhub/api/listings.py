"""Listings over HTTP: the shops' unmapped items, and the spreadsheet out and back in.

A person limited to some shops sees, exports and imports only those shops; an import
naming another shop is refused with the row that names it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response
from starlette.datastructures import UploadFile
from starlette.types import Message

from orderhub.api.people import principal
from orderhub.domain.access import Principal
from orderhub.services.hub import Hub
from orderhub.services.listing_files import export_listings, import_listings
from orderhub.services.listing_sheets import SheetRefused
from orderhub.services.listings import pull_listings, unmatched_items

__all__ = ["XLSX", "listing_routes"]

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ShopQuery = Annotated[str | None, Query(max_length=64)]


def _shops(who: Principal, shop: str | None) -> frozenset[str] | None:
    """The shops a request may cover: the one named (if the person sees it), else theirs."""
    if shop is not None and not who.sees_shop(shop):
        raise HTTPException(403, f"{who.name} may not see shop {shop}")
    return who.scope(None if shop is None else [shop])


async def _file(request: Request, body: bytes) -> bytes:
    """The uploaded file: the one file of a multipart form, or the raw body."""
    if not request.headers.get("content-type", "").lower().startswith("multipart/form-data"):
        return body

    async def replay() -> Message:
        return {"type": "http.request", "body": body, "more_body": False}

    form = await Request(request.scope, replay).form(max_files=1, max_fields=10)
    try:
        uploads = [v for _, v in form.multi_items() if isinstance(v, UploadFile)]
        if len(uploads) != 1:
            raise HTTPException(400, "send the spreadsheet as the one file of the form")
        return await uploads[0].read()
    finally:
        await form.close()


def listing_routes(hub: Hub, bounded_body: Callable[[Request], Awaitable[bytes]]) -> APIRouter:
    """The routes; their permissions are declared in `api.access.ROUTES`."""
    router = APIRouter()

    @router.post("/api/v1/shops/{code}/listings/pull", tags=["listings"])
    def pull(code: str, request: Request) -> dict[str, Any]:
        """Read the shop's items from its platform: those whose merchant code is one of
        our SKUs become listings (their stock is pushed); the rest are listed unmatched."""
        if not principal(request).sees_shop(code):
            raise HTTPException(404, f"no shop {code}")
        result = pull_listings(hub, code)
        return {
            "shop": code,
            "listed": result.listed,
            "created": result.created,
            "unmatched": [i.channel_sku for i in result.unmatched],
        }

    @router.get("/api/v1/listings/unmatched", tags=["listings"])
    def unmatched(request: Request, shop: ShopQuery = None) -> list[dict[str, Any]]:
        """Items the last pull of each shop found that no listing maps."""
        items = unmatched_items(hub, _shops(principal(request), shop))
        return [
            {
                **asdict(i),
                "first_seen": i.first_seen.isoformat(),
                "last_seen": i.last_seen.isoformat(),
            }
            for i in items
        ]

    @router.get(
        "/api/v1/listings/export.xlsx",
        tags=["listings"],
        response_class=Response,
        responses={200: {"content": {XLSX: {}}}},
    )
    def export(request: Request, shop: ShopQuery = None) -> Response:
        """Every listing and unmatched item (our SKU blank) as a spreadsheet to fill in,
        with the bundles for reference."""
        data = export_listings(hub, _shops(principal(request), shop))
        headers = {"Content-Disposition": 'attachment; filename="listings.xlsx"'}
        return Response(data, media_type=XLSX, headers=headers)

    @router.post("/api/v1/listings/import", tags=["listings"])
    async def import_(request: Request, dry_run: bool = False) -> JSONResponse:
        """The spreadsheet (raw body, or the one file of a multipart form), checked whole:
        422 lists every problem by sheet, row and column, and nothing changes;
        otherwise every row with our SKU becomes the shop's listing of that code."""
        who = principal(request)
        data = await _file(request, await bounded_body(request))
        if not data:
            raise HTTPException(400, "send the spreadsheet (.xlsx) as the body")
        try:
            result = await run_in_threadpool(
                lambda: import_listings(hub, data, actor=who, dry_run=dry_run)
            )
        except SheetRefused as refused:
            body = {
                "error": "SheetRefused",
                "message": str(refused),
                "problems": [asdict(p) for p in refused.problems],
            }
            return JSONResponse(body, status_code=422)
        return JSONResponse(asdict(result))

    return router
