"""FastAPI application: thin handlers over the services, errors mapped in one place."""

from __future__ import annotations

import hmac
from dataclasses import asdict
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Header, HTTPException, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from prometheus_client import generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from pydantic import BaseModel, Field

from orderhub import __version__
from orderhub.config import NodeConfig, ShopConfig
from orderhub.domain.errors import (
    ConfigurationError,
    IllegalTransition,
    InvalidOrder,
    NotFound,
    OrderhubError,
)
from orderhub.domain.order import Order
from orderhub.observability import metrics
from orderhub.services import queries
from orderhub.services.exceptions import replay_exception
from orderhub.services.hub import Hub
from orderhub.services.ingest import BadSignature, MalformedPayload, receive_webhook
from orderhub.services.inventory import adjust_stock, replenishment
from orderhub.services.setup import put_node, put_shop
from orderhub.services.shipping import receive_node_callback
from orderhub.services.stock_sync import listing_ats_view
from orderhub.services.sync import pull_orders

__all__ = ["create_app"]


class Adjustment(BaseModel):
    """A change of on-hand stock made by a person, with the reason for the ledger."""

    node: str
    sku: str
    delta: int
    reason: str = Field(min_length=1)


_STATUS: list[tuple[type[OrderhubError], int]] = [
    (BadSignature, 401),
    (MalformedPayload, 400),
    (NotFound, 404),
    (InvalidOrder, 422),
    (IllegalTransition, 409),
    (ConfigurationError, 400),
]


def create_app(hub: Hub) -> FastAPI:
    """The hub's HTTP API; OpenAPI at /docs."""
    app = FastAPI(
        title="orderhub",
        version=__version__,
        description="Order and inventory integration hub: webhooks in, orders and stock out.",
    )

    @app.exception_handler(OrderhubError)
    async def _errors(_request: Request, exc: OrderhubError) -> JSONResponse:
        # Any other OrderhubError is a refusal the caller can act on, not a crash.
        status = next((code for kind, code in _STATUS if isinstance(exc, kind)), 422)
        body: dict[str, Any] = {"error": type(exc).__name__, "message": str(exc)}
        if isinstance(exc, InvalidOrder):
            body["problems"] = [
                {"code": p.code, "field": p.field, "message": p.message} for p in exc.problems
            ]
        if isinstance(exc, MalformedPayload):
            body["inbox_id"] = exc.inbox_id
        return JSONResponse(body, status_code=status)

    def api_user(authorization: Annotated[str | None, Header()] = None) -> None:
        # An admin is an API user too: a request carries one bearer token, so the admin
        # token must open the API, or `?reveal=true` could never pass both checks.
        tokens = [t for t in (hub.settings.api_token, hub.settings.admin_token) if t]
        if hub.settings.api_token and not any(_bearer_matches(authorization, t) for t in tokens):
            raise HTTPException(401, "a valid API token is required")

    def may_reveal(authorization: str | None, reveal: bool) -> bool:
        if not reveal:
            return False
        admin = hub.settings.admin_token
        if not admin or not _bearer_matches(authorization, admin):
            raise HTTPException(403, "clear personal data needs the admin token")
        return True

    guarded = [Depends(api_user)]

    @app.post("/webhooks/{shop}", tags=["inbound"], summary="A shop's webhook")
    async def webhook(shop: str, request: Request) -> dict[str, Any]:
        body = await request.body()
        received = await run_in_threadpool(receive_webhook, hub, shop, request.headers, body)
        return {"inbox_id": received.inbox_id, "duplicate": not received.new}

    @app.post("/callbacks/{node}", tags=["inbound"], summary="A node's callback")
    async def callback(node: str, request: Request) -> Response:
        body = await request.body()
        content, media_type = await run_in_threadpool(
            receive_node_callback, hub, node, dict(request.query_params), body
        )
        return Response(content, media_type=media_type)

    @app.get("/api/v1/orders", tags=["orders"], dependencies=guarded)
    def list_orders(
        status: str | None = None,
        shop: str | None = None,
        limit: Annotated[int, Query(ge=1, le=500)] = 50,
        after: str | None = None,
    ) -> list[dict[str, Any]]:
        rows = queries.order_list(hub, status=status, shop=shop, limit=limit, after=after)
        return [
            {
                **r.__dict__,
                "placed_at": r.placed_at.isoformat(),
                "updated_at": r.updated_at.isoformat(),
            }
            for r in rows
        ]

    @app.get("/api/v1/orders/{order_id}", tags=["orders"], dependencies=guarded)
    def get_order(
        order_id: str,
        reveal: bool = False,
        authorization: Annotated[str | None, Header()] = None,
    ) -> Order:
        return queries.order_view(hub, order_id, reveal=may_reveal(authorization, reveal))

    @app.get("/api/v1/exceptions", tags=["exceptions"], dependencies=guarded)
    def list_exceptions(
        status: str | None = "open",
        code: str | None = None,
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    ) -> list[dict[str, Any]]:
        rows = queries.exception_list(hub, status=status, code=code, limit=limit)
        return [{**r.__dict__, "created_at": r.created_at.isoformat()} for r in rows]

    @app.get("/api/v1/exceptions/{exception_id}", tags=["exceptions"], dependencies=guarded)
    def get_exception(exception_id: str) -> dict[str, Any]:
        return queries.exception_view(hub, exception_id)

    @app.post("/api/v1/exceptions/{exception_id}/replay", tags=["exceptions"], dependencies=guarded)
    def replay(exception_id: str) -> dict[str, Any]:
        """After the cause is fixed: replay the order, payload or job it stopped."""
        return asdict(replay_exception(hub, exception_id))

    @app.get("/api/v1/jobs", tags=["jobs"], dependencies=guarded)
    def list_jobs(
        status: str | None = None,
        kind: str | None = None,
        limit: Annotated[int, Query(ge=1, le=1000)] = 50,
    ) -> list[dict[str, Any]]:
        return [r.__dict__ for r in queries.job_list(hub, status=status, kind=kind, limit=limit)]

    @app.post("/api/v1/jobs/{job_id}/retry", tags=["jobs"], dependencies=guarded)
    def retry(job_id: int) -> dict[str, Any]:
        if not queries.retry_job(hub, job_id):
            raise HTTPException(409, f"job {job_id} is not dead-lettered")
        return {"job_id": job_id, "status": "pending"}

    @app.put("/api/v1/shops/{code}", tags=["configuration"], dependencies=guarded)
    def configure_shop(code: str, shop: ShopConfig) -> dict[str, str]:
        if shop.code != code:
            raise HTTPException(400, "the code in the path and the body differ")
        put_shop(hub, shop)
        return {"code": code, "status": "saved"}

    @app.put("/api/v1/nodes/{code}", tags=["configuration"], dependencies=guarded)
    def configure_node(code: str, node: NodeConfig) -> dict[str, str]:
        if node.code != code:
            raise HTTPException(400, "the code in the path and the body differ")
        put_node(hub, node)
        return {"code": code, "status": "saved"}

    @app.post("/api/v1/shops/{code}/pull", tags=["orders"], dependencies=guarded)
    def pull(code: str) -> dict[str, Any]:
        result = pull_orders(hub, code)
        return {"fetched": result.fetched, "new": result.new, "cursor": result.cursor}

    @app.get("/api/v1/stock", tags=["stock"], dependencies=guarded)
    def stock(sku: str | None = None, node: str | None = None) -> dict[str, Any]:
        """Levels per node and SKU, and what every listing shows (with its explanation)."""
        return queries.stock_view(hub, sku=sku, node=node)

    @app.get("/api/v1/listings/{listing_id}/ats", tags=["stock"], dependencies=guarded)
    def listing_ats(listing_id: int) -> dict[str, Any]:
        """How a listing's figure is computed: on hand − reserved − safety, × ratio, ..."""
        return listing_ats_view(hub, listing_id)

    @app.post("/api/v1/stock/adjustments", tags=["stock"], dependencies=guarded)
    def adjust(body: Adjustment) -> dict[str, Any]:
        adjust_stock(hub, body.node, body.sku, body.delta, reason=body.reason)
        return {"node": body.node, "sku": body.sku, "delta": body.delta}

    @app.get("/api/v1/stock/replenishment", tags=["stock"], dependencies=guarded)
    def reorder() -> list[dict[str, Any]]:
        return [asdict(r) for r in replenishment(hub)]

    @app.get("/healthz", tags=["operations"])
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz", tags=["operations"])
    def readyz() -> JSONResponse:
        try:
            hub.db.check()
        except ConfigurationError as exc:
            return JSONResponse({"status": "unavailable", "reason": str(exc)}, status_code=503)
        return JSONResponse({"status": "ready"})

    @app.get("/metrics", tags=["operations"], response_class=PlainTextResponse)
    def prometheus() -> Response:
        depth, open_exceptions = queries.queue_stats(hub)
        metrics.queue_depth.clear()
        for (kind, status), count in depth.items():
            metrics.queue_depth.labels(kind, status).set(count)
        metrics.open_exceptions.set(open_exceptions)
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    return app


def _bearer_matches(authorization: str | None, token: str) -> bool:
    if not authorization or not authorization.startswith("Bearer "):
        return False
    return hmac.compare_digest(authorization[7:].encode(), token.encode())
