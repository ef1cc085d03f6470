"""Every route and the permission it needs, in one table, and the guard that applies it.

The guard runs before every API route. It finds who is calling (a personal token, the
console's session, or, for one release, a deprecated shared token), then checks the
route's permission in `ROUTES`. A route missing from the table is refused: a new route
must declare what it needs before anyone can call it. Only the signed inbound routes,
the health checks and (configurably) the metrics are open.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Awaitable, Callable, Iterable
from typing import Any
from urllib.parse import parse_qsl

from fastapi import HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.routing import APIRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from orderhub.domain.access import Permission, Principal, Role, may
from orderhub.observability import get_logger
from orderhub.services.accounts import AccessDenied, principal_for_token
from orderhub.services.audit import mask_secrets, record_change
from orderhub.services.hub import Hub

__all__ = ["OPEN", "ROUTES", "AuditChanges", "make_guard", "principal_of", "scoped_shop"]

_CHANGES = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_FILES = frozenset(
    {
        ("POST", "/api/v1/listings/import"),
        ("POST", "/api/v1/stock/stocktake/preview"),
        ("POST", "/api/v1/stock/stocktake/apply"),
        ("POST", "/api/v1/suppliers/{node}/shipments"),
    }
)
"""Routes whose body is a file (a zip archive holds NULs), read by the route itself."""

log = get_logger(__name__)

OPEN = "open"
"""A route anyone may call: it proves itself (a signature) or tells nothing."""

P = Permission
ROUTES: dict[tuple[str, str], Permission | str] = {
    ("POST", "/webhooks/{shop}"): OPEN,  # HMAC-signed by the shop
    ("POST", "/callbacks/{node}"): OPEN,  # signed by the warehouse or supplier
    ("POST", "/tracking/{tracker}"): OPEN,  # signed by the parcel tracker
    ("GET", "/t/{token}"): OPEN,  # a buyer's parcel page: the token is the key
    ("GET", "/"): OPEN,  # the console's page; its data comes from the routes below
    ("GET", "/healthz"): OPEN,
    ("GET", "/readyz"): OPEN,
    ("GET", "/metrics"): OPEN,  # ORDERHUB_METRICS_OPEN=false closes it to tokens only
    ("GET", "/docs"): OPEN,  # the API's documentation page (not in the OpenAPI document)
    ("POST", "/api/v1/setup"): OPEN,  # needs the one-time code printed by `serve`
    ("POST", "/api/v1/session"): OPEN,  # signs in with a name and password
    ("DELETE", "/api/v1/session"): OPEN,  # signs out the cookie's session (CSRF-checked)
    ("GET", "/api/v1/me"): P.ORDERS_READ,
    ("GET", "/api/v1/dashboard"): P.ORDERS_READ,
    ("GET", "/api/v1/orders"): P.ORDERS_READ,
    ("GET", "/api/v1/orders/late"): P.ORDERS_READ,
    ("GET", "/api/v1/orders/{order_id}"): P.ORDERS_READ,
    ("GET", "/api/v1/orders/{order_id}/nodes"): P.ORDERS_READ,
    ("GET", "/api/v1/orders/{order_id}/books"): P.ORDERS_READ,
    ("GET", "/api/v1/orders/{order_id}/parcels"): P.ORDERS_READ,
    ("GET", "/api/v1/reports/{name}"): P.REPORTS_READ,
    ("POST", "/api/v1/buyers/find"): P.ORDERS_READ,
    ("GET", "/api/v1/buyers/{buyer_id}"): P.ORDERS_READ,
    ("PUT", "/api/v1/buyers/{buyer_id}/tags"): P.ORDERS_WRITE,
    ("POST", "/api/v1/buyers/{buyer_id}/export"): P.PII_REVEAL,
    ("POST", "/api/v1/buyers/{buyer_id}/erase"): P.BUYERS_ERASE,
    ("POST", "/api/v1/finance/reconciliations"): P.FINANCE_RECONCILE,
    ("GET", "/api/v1/finance/reconciliations"): P.FINANCE_RECONCILE,
    ("GET", "/api/v1/finance/differences"): P.FINANCE_RECONCILE,
    ("POST", "/api/v1/finance/differences/{difference_id}"): P.FINANCE_RECONCILE,
    ("POST", "/api/v1/orders/{order_id}/cancel"): P.ORDERS_WRITE,
    ("POST", "/api/v1/orders/{order_id}/hold"): P.ORDERS_WRITE,
    ("POST", "/api/v1/orders/{order_id}/release"): P.ORDERS_WRITE,
    ("POST", "/api/v1/orders/{order_id}/route"): P.ORDERS_WRITE,
    ("PUT", "/api/v1/orders/{order_id}/address"): P.ORDERS_WRITE,
    ("GET", "/api/v1/exceptions"): P.EXCEPTIONS_READ,
    ("GET", "/api/v1/exceptions/{exception_id}"): P.EXCEPTIONS_READ,
    ("POST", "/api/v1/exceptions/{exception_id}/replay"): P.EXCEPTIONS_RESOLVE,
    ("POST", "/api/v1/exceptions/{exception_id}/resolve"): P.EXCEPTIONS_RESOLVE,
    ("POST", "/api/v1/exceptions/resolve"): P.EXCEPTIONS_RESOLVE,
    ("GET", "/api/v1/alerts"): P.ALERTS_READ,
    ("GET", "/api/v1/jobs"): P.JOBS_READ,
    ("POST", "/api/v1/jobs/{job_id}/retry"): P.JOBS_RETRY,
    ("GET", "/api/v1/connections"): P.CONNECTIONS_READ,
    ("POST", "/api/v1/shops/{code}/test"): P.CONNECTIONS_WRITE,  # spends a platform call
    ("PUT", "/api/v1/shops/{code}/sync"): P.CONNECTIONS_WRITE,
    ("PUT", "/api/v1/shops/{code}/enabled"): P.CONNECTIONS_WRITE,
    ("PUT", "/api/v1/nodes/{code}/enabled"): P.CONNECTIONS_WRITE,
    ("POST", "/api/v1/nodes/{code}/test"): P.CONNECTIONS_WRITE,
    ("POST", "/api/v1/erps/{code}/test"): P.CONNECTIONS_WRITE,
    ("GET", "/api/v1/shops/{code}/mapping"): P.CONNECTIONS_READ,
    ("POST", "/api/v1/shops/{code}/mapping/preview"): P.CONNECTIONS_WRITE,  # reads payloads
    ("PUT", "/api/v1/shops/{code}/mapping"): P.CONNECTIONS_WRITE,
    ("POST", "/api/v1/shops/{code}/mapping/replay"): P.CONNECTIONS_WRITE,
    ("PUT", "/api/v1/shops/{code}"): P.CONNECTIONS_WRITE,
    ("PUT", "/api/v1/nodes/{code}"): P.CONNECTIONS_WRITE,
    ("POST", "/api/v1/shops/{code}/pull"): P.SYNC_RUN,
    ("GET", "/api/v1/stock"): P.STOCK_READ,
    ("GET", "/api/v1/listings/{listing_id}/ats"): P.STOCK_READ,
    ("GET", "/api/v1/listings/unmatched"): P.LISTINGS_READ,
    ("POST", "/api/v1/shops/{code}/listings/pull"): P.LISTINGS_WRITE,
    ("GET", "/api/v1/listings/export.xlsx"): P.LISTINGS_READ,
    ("POST", "/api/v1/listings/import"): P.LISTINGS_WRITE,
    ("POST", "/api/v1/stock/adjustments"): P.STOCK_WRITE,
    ("GET", "/api/v1/stock/replenishment"): P.STOCK_READ,
    ("GET", "/api/v1/stock/{node}/{sku}/ledger"): P.STOCK_READ,
    ("POST", "/api/v1/stock/stocktake/preview"): P.STOCK_READ,  # changes nothing
    ("POST", "/api/v1/stock/stocktake/apply"): P.STOCK_WRITE,
    ("GET", "/api/v1/rules"): P.RULES_READ,
    ("POST", "/api/v1/rules"): P.RULES_WRITE,
    ("GET", "/api/v1/rules/{name}"): P.RULES_READ,
    ("POST", "/api/v1/rules/{name}/activate"): P.RULES_WRITE,
    ("POST", "/api/v1/rules/{name}/test"): P.RULES_TEST,
    ("GET", "/api/v1/suppliers"): P.SUPPLIERS_READ,
    ("POST", "/api/v1/suppliers/{node}/sheet"): P.SUPPLIERS_WRITE,  # names and addresses
    ("POST", "/api/v1/suppliers/{node}/shipments"): P.SUPPLIERS_WRITE,
    ("GET", "/api/v1/returns"): P.RETURNS_READ,
    ("GET", "/api/v1/returns/{return_id}"): P.RETURNS_READ,
    ("GET", "/api/v1/audit"): P.AUDIT_READ,
    ("GET", "/api/v1/users"): P.USERS_MANAGE,
    ("POST", "/api/v1/users"): P.USERS_MANAGE,
    ("POST", "/api/v1/users/{name}/tokens"): P.USERS_MANAGE,
    ("DELETE", "/api/v1/tokens/{token_id}"): P.USERS_MANAGE,
}


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


_warned: set[str] = set()


def _legacy(hub: Hub, secret: str) -> Principal | None:
    """ORDERHUB_API_TOKEN and ORDERHUB_ADMIN_TOKEN act as an owner for one more release."""
    for setting in ("api_token", "admin_token"):
        configured = getattr(hub.settings, setting)
        if configured and hmac.compare_digest(secret.encode(), configured.encode()):
            if setting not in _warned:
                _warned.add(setting)
                log.warning(
                    "deprecated shared token used; make personal tokens with "
                    "`orderhub tokens create` and unset the setting",
                    setting=f"ORDERHUB_{setting.upper()}",
                )
            return Principal(f"shared:{setting}", Role.OWNER, via=f"setting:{setting}")
    return None


def principal_of(
    hub: Hub, request: Request, *, session: Callable[[Request], Principal | None] | None = None
) -> Principal | None:
    """Who is calling, or None when nobody says; raises 401 for a bad credential."""
    secret = _bearer(request)
    if secret is not None:
        legacy = _legacy(hub, secret)
        if legacy is not None:
            return legacy
        try:
            return principal_for_token(hub, secret)
        except AccessDenied as exc:
            raise HTTPException(401, str(exc), headers={"WWW-Authenticate": "Bearer"}) from exc
    return session(request) if session is not None else None


def make_guard(
    hub: Hub, *, session: Callable[[Request], Principal | None] | None = None
) -> Callable[[Request], Awaitable[None]]:
    """The dependency every API route runs first."""

    async def guard(request: Request) -> None:
        route = request.scope.get("route")
        path = route.path if isinstance(route, APIRoute) else request.url.path
        needed = ROUTES.get((request.method, path))
        if needed is None and request.method == "HEAD":
            needed = ROUTES.get(("GET", path))
        if needed == OPEN and not (path == "/metrics" and not hub.settings.metrics_open):
            return
        who = await run_in_threadpool(principal_of, hub, request, session=session)
        if who is None:
            raise HTTPException(
                401, "sign in or send a personal API token", headers={"WWW-Authenticate": "Bearer"}
            )
        request.state.principal = who
        if needed is None:
            raise HTTPException(403, f"{request.method} {path} declares no permission")
        if needed == OPEN:
            return
        if not may(who, Permission(needed)):
            raise HTTPException(403, f"{who.name} ({who.role.value}) may not {needed}")
        if _holds_nul(request.query_params.values(), request.path_params.values()):
            raise HTTPException(400, "a parameter holds a NUL character")
        if request.method in _CHANGES:
            # Read here (FastAPI has it already) so the audit entry can say what was sent.
            if (request.method, path) in _FILES:
                request.state.audit_body = "a file"
                return
            body = await request.body()
            if b"\x00" in body or b"\\u0000" in body:
                raise HTTPException(400, "the body holds a NUL character")
            request.state.audit_body = _masked_body(body)

    return guard


def _holds_nul(*values: Iterable[Any]) -> bool:
    """Whether any text holds NUL, which no database column may store."""
    return any("\x00" in str(value) for group in values for value in group)


def _masked_body(body: bytes) -> Any:
    if not body or len(body) > 20_000:
        return None if not body else f"{len(body)} bytes"
    try:
        return mask_secrets(json.loads(body))
    except ValueError:
        return f"{len(body)} bytes, not JSON"


class AuditChanges:
    """Middleware: every change a person or token made through the API that succeeded is
    an audit entry: who, the route, its parameters and what was sent (secrets masked);
    so is every attempt the guard refused to someone it knows.

    Plain ASGI: the entry is written when the response starts, before the caller hears
    back, and requests that change nothing (webhooks included) pass at no cost."""

    def __init__(self, app: ASGIApp, hub: Hub) -> None:
        self.app, self.hub = app, hub

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def audited(message: Message) -> None:
            if message["type"] == "http.response.start":
                await self._record(scope, int(message["status"]))
            await send(message)

        await self.app(scope, receive, audited)

    async def _record(self, scope: Scope, status: int) -> None:
        state = scope.get("state") or {}
        who = state.get("principal")
        if not isinstance(who, Principal):
            return
        method = scope["method"]
        route = scope.get("route")
        path = route.path if isinstance(route, APIRoute) else scope["path"]
        if status == 403:
            # A refused attempt by someone known is kept too: who tried what.
            await run_in_threadpool(
                record_change, self.hub, who, "denied", f"{method} {path}", detail="403"
            )
        elif method in _CHANGES and status < 400:
            params = scope.get("path_params") or {}
            target = ",".join(f"{k}={v}" for k, v in params.items())
            asked = scope.get("query_string", b"").decode("latin-1")
            query = dict(parse_qsl(asked, keep_blank_values=True))
            await run_in_threadpool(
                record_change,
                self.hub,
                who,
                f"{method} {path}",
                target,
                after={"body": state.get("audit_body"), "query": query},
                detail=str(status),
            )


def scoped_shop(who: Principal, shop: str | None) -> str | None:
    """The shop a list may show this principal: theirs, or refused with 403."""
    if not who.shops:
        return shop
    if shop is not None:
        if shop not in who.shops:
            raise HTTPException(403, f"{who.name} may not see shop {shop}")
        return shop
    if len(who.shops) == 1:
        return next(iter(who.shops))
    raise HTTPException(403, f"name a shop: {who.name} may see {', '.join(sorted(who.shops))}")
