"""FastAPI application: thin handlers over the services, errors mapped in one place."""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, date, datetime
from typing import Annotated, Any

from fastapi import Depends, FastAPI, HTTPException, Path, Query, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from prometheus_client import generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from pydantic import BaseModel, Field
from sqlalchemy.exc import InterfaceError, OperationalError

from orderhub import __version__
from orderhub.api.access import AuditChanges, make_guard, scoped_shop
from orderhub.api.back_office import back_office_routes
from orderhub.api.buyers import buyer_routes
from orderhub.api.connections import connection_routes
from orderhub.api.console import add_console
from orderhub.api.docs import add_docs
from orderhub.api.finance import finance_routes
from orderhub.api.inbound import add_inbound, body_reader
from orderhub.api.listings import listing_routes
from orderhub.api.mappings import mapping_routes
from orderhub.api.order_actions import order_action_routes
from orderhub.api.people import SetupCode, people_routes, principal
from orderhub.api.reports import report_routes
from orderhub.api.session import session_principal, session_routes
from orderhub.api.stock import stock_routes
from orderhub.api.tracking import tracking_routes
from orderhub.crypto import DecryptionError
from orderhub.domain.access import Forbidden, Permission, may
from orderhub.domain.errors import (
    ConfigurationError,
    IllegalTransition,
    InvalidOrder,
    InvalidRuleSet,
    NotFound,
    NotNow,
    OrderhubError,
)
from orderhub.domain.exceptions_catalog import ActionNotAllowed
from orderhub.domain.order import Order
from orderhub.observability import get_logger, metrics
from orderhub.services import queries
from orderhub.services.accounts import AccessDenied
from orderhub.services.dashboard import dashboard
from orderhub.services.exceptions import (
    replay_exception,
    resolve_by_code,
    resolve_exception,
    retry_job,
)
from orderhub.services.hub import Hub
from orderhub.services.ingest import BadSignature, MalformedPayload
from orderhub.services.inventory import adjust_stock, replenishment
from orderhub.services.reveal import DecryptLimitReached, PlatformWouldNotOpen, reveal_order
from orderhub.services.rules import (
    activate_rule_set,
    dry_run,
    list_rule_sets,
    put_rule_set,
    rule_versions,
    show_rule_set,
    window_start,
)
from orderhub.services.sla import late_orders
from orderhub.services.stock_sync import listing_ats_view
from orderhub.services.sync import pull_orders

__all__ = ["create_app"]


VersionQuery = Annotated[int | None, Query(ge=1, le=1_000_000)]
"""A rule set's version number."""


class Resolution(BaseModel):
    """How a person resolves an exception: the action and what it needs."""

    action: str
    receiver: dict[str, str] = Field(default_factory=dict)
    skus: dict[str, str] = Field(default_factory=dict)
    note: str = ""


class BulkResolution(Resolution):
    """The same resolution for every open exception of one code."""

    code: str = Field(min_length=1, max_length=64)


class Adjustment(BaseModel):
    """A change of on-hand stock made by a person, with the reason for the ledger."""

    node: str
    sku: str
    delta: int
    reason: str = Field(min_length=1)


_STATUS: list[tuple[type[OrderhubError], int]] = [
    (BadSignature, 401),
    (AccessDenied, 401),
    (Forbidden, 403),
    (MalformedPayload, 400),
    (NotFound, 404),
    (InvalidOrder, 422),
    (IllegalTransition, 409),
    (NotNow, 409),
    (ActionNotAllowed, 409),
    (DecryptionError, 503),
    (DecryptLimitReached, 429),
    (PlatformWouldNotOpen, 502),
    (ConfigurationError, 400),
]


log = get_logger(__name__)


def create_app(hub: Hub) -> FastAPI:
    """The hub's HTTP API; OpenAPI at /docs."""
    app = FastAPI(
        title="orderhub",
        version=__version__,
        description="Order and inventory integration hub: webhooks in, orders and stock out.",
        dependencies=[Depends(make_guard(hub, session=session_principal(hub)))],
        docs_url=None,
        redoc_url=None,
    )
    add_docs(app)
    app.state.setup_code = SetupCode(hub)
    app.include_router(people_routes(hub, app.state.setup_code))
    app.include_router(session_routes(hub))
    app.include_router(connection_routes(hub))
    add_console(app)
    app.add_middleware(AuditChanges, hub=hub)

    @app.exception_handler(OrderhubError)
    async def _errors(_request: Request, exc: OrderhubError) -> JSONResponse:
        # Any other OrderhubError is a refusal the caller can act on, not a crash.
        status = next((code for kind, code in _STATUS if isinstance(exc, kind)), 422)
        body: dict[str, Any] = {"error": type(exc).__name__, "message": str(exc)}
        if isinstance(exc, InvalidOrder):
            body["problems"] = [
                {"code": p.code, "field": p.field, "message": p.message} for p in exc.problems
            ]
        if isinstance(exc, InvalidRuleSet):
            body.update(rule_set=exc.rule_set, rule=exc.rule, problem=exc.message)
        if isinstance(exc, MalformedPayload):
            body["inbox_id"] = exc.inbox_id
        return JSONResponse(body, status_code=status)

    @app.exception_handler(OperationalError)
    @app.exception_handler(InterfaceError)
    async def _database_away(_request: Request, exc: Exception) -> JSONResponse:
        # The database restarted or is out of reach: a caller (a platform resending its
        # webhook) tries again; the pool has dropped the broken connections by then.
        log.warning("the database could not be reached", error=str(exc).splitlines()[0])
        return JSONResponse(
            {"error": "Unavailable", "message": "the database could not be reached; try again"},
            status_code=503,
            headers={"Retry-After": "5"},
        )

    bounded_body = body_reader(hub)
    add_inbound(app, hub, bounded_body)

    app.include_router(listing_routes(hub, bounded_body))
    app.include_router(stock_routes(hub, bounded_body))
    app.include_router(back_office_routes(hub, bounded_body))
    app.include_router(order_action_routes(hub))
    app.include_router(tracking_routes(hub, bounded_body))
    app.include_router(report_routes(hub))
    app.include_router(buyer_routes(hub))
    app.include_router(finance_routes(hub))
    app.include_router(mapping_routes(hub))

    @app.get("/api/v1/orders", tags=["orders"])
    def list_orders(
        request: Request,
        status: str | None = None,
        shop: str | None = None,
        limit: Annotated[int, Query(ge=1, le=500)] = 50,
        after: str | None = None,
        search: Annotated[str | None, Query(max_length=100)] = None,
        tracking_no: Annotated[str | None, Query(max_length=100)] = None,
        sku: Annotated[str | None, Query(max_length=100)] = None,
        placed_from: date | None = None,
        placed_to: date | None = None,
        phone_last4: Annotated[str | None, Query(pattern=r"^[0-9]{4}$")] = None,
    ) -> list[dict[str, Any]]:
        """Newest first; `search` finds an order number or platform id, `tracking_no` the
        order of a parcel, `sku` the orders of a product (ours or the shop's code),
        `phone_last4` the orders whose receiver's phone ends in those four digits;
        `placed_from`/`placed_to` are days in the seller's time zone, both included;
        `after` (the last id of the previous page) pages on."""
        shop = scoped_shop(principal(request), shop)
        rows = queries.order_list(
            hub,
            status=status,
            shop=shop,
            limit=limit,
            after=after,
            search=search or None,
            tracking_no=tracking_no,
            sku=sku,
            placed_from=placed_from,
            placed_to=placed_to,
            phone_last4=phone_last4,
        )
        return [
            {
                **r.__dict__,
                "placed_at": r.placed_at.isoformat(),
                "updated_at": r.updated_at.isoformat(),
            }
            for r in rows
        ]

    @app.get("/api/v1/dashboard", tags=["orders"])
    def get_dashboard(request: Request) -> dict[str, Any]:
        """Today's orders by shop and stage, orders per minute, open exceptions by code,
        the job backlog and orders at risk of shipping late, within the caller's shops."""
        return dashboard(hub, principal(request))

    @app.get("/api/v1/orders/late", tags=["orders"])
    def list_late_orders() -> list[dict[str, Any]]:
        """Open orders at risk of missing their ship-by time, or past it."""
        return [{**asdict(r), "ship_by": r.ship_by.isoformat()} for r in late_orders(hub)]

    @app.get("/api/v1/orders/{order_id}", tags=["orders"])
    def get_order(order_id: str, request: Request, reveal: bool = False) -> Order:
        """One order with its trace; `reveal=true` shows personal data (audited)."""
        who = principal(request)
        if reveal:
            if not may(who, Permission.PII_REVEAL):
                raise HTTPException(403, f"{who.name} ({who.role.value}) may not see personal data")
            return reveal_order(hub, who, order_id, where="GET /api/v1/orders")
        order = queries.order_view(hub, order_id, reveal=False)
        if not who.sees_shop(order.shop):
            raise HTTPException(404, f"no order {order_id}")
        return order

    @app.get("/api/v1/exceptions", tags=["exceptions"])
    def list_exceptions(
        request: Request,
        status: Annotated[str | None, Query(max_length=16)] = "open",
        code: Annotated[str | None, Query(max_length=64)] = None,
        shop: Annotated[str | None, Query(max_length=64)] = None,
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
        offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
    ) -> dict[str, Any]:
        """Newest first; `total` counts them all, `limit` and `offset` page through. A
        person limited to some shops sees only what is about those shops."""
        page = queries.exception_list(
            hub,
            status=None if status == "all" else status,
            code=code,
            shop=scoped_shop(principal(request), shop),
            limit=limit,
            offset=offset,
        )
        items = [
            {
                **r.__dict__,
                "created_at": r.created_at.isoformat(),
                "resolved_at": r.resolved_at.isoformat() if r.resolved_at else None,
            }
            for r in page.items
        ]
        return {"total": page.total, "limit": limit, "offset": offset, "items": items}

    @app.get("/api/v1/exceptions/{exception_id}", tags=["exceptions"])
    def get_exception(exception_id: str, request: Request) -> dict[str, Any]:
        who = principal(request)
        if who.shops and queries.exception_shop(hub, exception_id) not in who.shops:
            raise HTTPException(404, f"no exception {exception_id}")
        return queries.exception_view(hub, exception_id)

    @app.post("/api/v1/exceptions/resolve", tags=["exceptions"])
    def resolve_all(body: BulkResolution, request: Request) -> dict[str, Any]:
        """Act on every open exception of one code, e.g. map a SKU and replay every order
        it held; those that cannot be resolved are listed with the reason."""
        bulk = resolve_by_code(
            hub,
            body.code,
            body.action,
            receiver=body.receiver,
            skus=body.skus,
            note=body.note,
            by=principal(request).name,
        )
        return {
            "code": bulk.code,
            "action": bulk.action,
            "resolved": [asdict(r) for r in bulk.results],
            "refused": [{"exception_id": i, "message": m} for i, m in bulk.refused],
        }

    @app.post("/api/v1/exceptions/{exception_id}/replay", tags=["exceptions"])
    def replay(exception_id: str, request: Request) -> dict[str, Any]:
        """After the cause is fixed: replay the order, payload or job it stopped; a second
        replay changes nothing and names what is open about it now."""
        return asdict(replay_exception(hub, exception_id, by=principal(request).name))

    @app.post("/api/v1/exceptions/{exception_id}/resolve", tags=["exceptions"])
    def resolve(exception_id: str, body: Resolution, request: Request) -> dict[str, Any]:
        """Act on the exception (one of its `actions`), then replay what it stopped."""
        return asdict(
            resolve_exception(
                hub,
                exception_id,
                body.action,
                receiver=body.receiver,
                skus=body.skus,
                note=body.note,
                by=principal(request).name,
            )
        )

    @app.get("/api/v1/jobs", tags=["jobs"])
    def list_jobs(
        status: Annotated[str | None, Query(max_length=16)] = None,
        kind: Annotated[str | None, Query(max_length=64)] = None,
        limit: Annotated[int, Query(ge=1, le=1000)] = 50,
        offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
    ) -> dict[str, Any]:
        """Newest first; `total` counts them all, `limit` and `offset` page through."""
        page = queries.job_list(hub, status=status, kind=kind, limit=limit, offset=offset)
        items = [r.__dict__ for r in page.items]
        return {"total": page.total, "limit": limit, "offset": offset, "items": items}

    @app.post("/api/v1/jobs/{job_id}/retry", tags=["jobs"])
    def retry(job_id: Annotated[int, Path(ge=1, le=2**62)]) -> dict[str, Any]:
        if not retry_job(hub, job_id):
            raise HTTPException(409, f"job {job_id} is not dead-lettered")
        return {"job_id": job_id, "status": "pending"}

    @app.post("/api/v1/shops/{code}/pull", tags=["orders"])
    def pull(code: str) -> dict[str, Any]:
        result = pull_orders(hub, code)
        return {"fetched": result.fetched, "new": result.new, "cursor": result.cursor}

    @app.get("/api/v1/stock", tags=["stock"])
    def stock(sku: str | None = None, node: str | None = None) -> dict[str, Any]:
        """Levels per node and SKU, and what every listing shows (with its explanation)."""
        return queries.stock_view(hub, sku=sku, node=node)

    @app.get("/api/v1/listings/{listing_id}/ats", tags=["stock"])
    def listing_ats(listing_id: Annotated[int, Path(ge=1, le=2**62)]) -> dict[str, Any]:
        """How a listing's figure is computed: on hand − reserved − safety, × ratio, ..."""
        return listing_ats_view(hub, listing_id)

    @app.post("/api/v1/stock/adjustments", tags=["stock"])
    def adjust(body: Adjustment) -> dict[str, Any]:
        adjust_stock(hub, body.node, body.sku, body.delta, reason=body.reason)
        return {"node": body.node, "sku": body.sku, "delta": body.delta}

    @app.get("/api/v1/stock/replenishment", tags=["stock"])
    def reorder() -> list[dict[str, Any]]:
        return [asdict(r) for r in replenishment(hub)]

    @app.get("/api/v1/rules", tags=["rules"])
    def rule_sets() -> list[dict[str, Any]]:
        """Every rule set: the version in force and the newest one."""
        return [asdict(r) for r in list_rule_sets(hub)]

    @app.post("/api/v1/rules", tags=["rules"], status_code=201)
    def store_rule_set(body: dict[str, Any]) -> dict[str, Any]:
        """Store a new draft version; 422 names the rule that does not compile."""
        version = put_rule_set(hub, body)
        return {"name": body["name"], "version": version, "status": "draft"}

    @app.get("/api/v1/rules/{name}", tags=["rules"])
    def rule_set(name: str, version: VersionQuery = None) -> dict[str, Any]:
        """One version (default: the newest) with its rules, and every version's status."""
        stored = show_rule_set(hub, name, version)
        return {
            "version": stored.version,
            "status": stored.status,
            "rule_set": stored.rule_set.model_dump(mode="json"),
            "versions": [
                {
                    "version": v.version,
                    "status": v.status,
                    "created_at": v.created_at.isoformat(),
                    "activated_at": v.activated_at.isoformat() if v.activated_at else None,
                    "rules": len(v.rule_set.rules),
                }
                for v in rule_versions(hub, name)
            ],
        }

    @app.post("/api/v1/rules/{name}/activate", tags=["rules"])
    def activate_rules(name: str, version: VersionQuery = None) -> dict[str, Any]:
        """Put a version (default: the newest) in force; the one before is retired."""
        return {"name": name, "version": activate_rule_set(hub, name, version), "status": "active"}

    @app.post("/api/v1/rules/{name}/test", tags=["rules"])
    def test_rules(
        name: str,
        since: Annotated[str, Query(max_length=40)] = "last-7d",
        until: datetime | None = None,
        version: VersionQuery = None,
        limit: Annotated[int, Query(ge=1, le=100_000)] = 10_000,
    ) -> dict[str, Any]:
        """Dry run over stored orders placed since `since` (last-7d, last-12h, all or ISO)."""
        start = window_start(since, now=datetime.now(UTC))
        report = dry_run(hub, name, version=version, since=start, until=until, limit=limit)
        return report.to_dict()

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
