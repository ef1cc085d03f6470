"""The only module that talks HTTP to Amazon: Login with Amazon and the Selling Partner API.

Every SP-API call takes a token from its operation's bucket first (`pacing`), goes out
with `x-amz-access-token` (the LWA access token; for getOrders and getOrder a Restricted
Data Token when the app may have one) and reads back `x-amzn-RateLimit-Limit`.
Failures become the connector error tree: 429 `QuotaExceeded` → `RateLimited` (tried
again here, twice, when its token comes back within the wait the caller allows); 403
"The access token you provided has expired." → a new token and the call once more;
5xx, timeouts and unreadable bodies → `Unavailable`; any other refusal → `Rejected`
with Amazon's code and message (`{"errors": [{"code", "message", "details"}]}`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import quote

import httpx

from ..base import RateLimited, Rejected, Unavailable
from ..kit import bounded_json
from ..kit.http import Transport
from .auth import KeptToken
from .consts import (
    DATA_ELEMENTS,
    FINANCES_PATH,
    HEADER_RATE_LIMIT,
    HEADER_TOKEN,
    LISTINGS_PATH,
    ORDERS_PATH,
    RDT_PATH,
    Op,
)
from .pacing import Pacer, Patience

__all__ = ["SpApiClient"]

log = logging.getLogger(__name__)
Json = dict[str, Any]
EXPIRED = "expired"
RATE_LIMIT_TRIES = 3


def _first_error(body: Any) -> tuple[str, str]:
    errors = body.get("errors") if isinstance(body, dict) else None
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        first = errors[0]
        message = str(first.get("message") or "")
        details = str(first.get("details") or "")
        return str(first.get("code") or ""), f"{message} {details}".strip()
    return "", ""


class SpApiClient:
    """Typed calls for one seller's authorisation of one app, in one marketplace."""

    def __init__(
        self,
        *,
        endpoint: str,
        lwa_endpoint: str,
        client_id: str,
        client_secret: str,
        refresh_token: str,
        seller_id: str,
        marketplace_id: str,
        transport: Transport,
        pacer: Pacer,
        token_margin: float = 60.0,
        rdt_cooldown: float = 600.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._endpoint = endpoint.rstrip("/")
        self._lwa_endpoint = lwa_endpoint
        self._client = (client_id, client_secret, refresh_token)
        self.seller_id = seller_id
        self.marketplace_id = marketplace_id
        self._transport = transport
        self.pacer = pacer
        self._clock = clock
        self.access = KeptToken(self._lwa, margin=token_margin, clock=clock)
        self.rdt = KeptToken(self._create_rdt, margin=token_margin, clock=clock)
        self._rdt_cooldown = rdt_cooldown
        self._rdt_refused_until = 0.0
        self.rdt_refusal = ""  # Amazon's words the last time it refused the RDT

    # tokens

    def _lwa(self) -> tuple[str, float]:
        client_id, client_secret, refresh_token = self._client
        form = {
            "grant_type": "refresh_token",
            "refresh_token": refresh_token,
            "client_id": client_id,
            "client_secret": client_secret,
        }
        response = self._transport.call(
            lambda: self._transport.send("POST", self._lwa_endpoint, what="LWA token", data=form),
            what="LWA token",
        )
        body = self._json(response, "LWA token")
        token = body.get("access_token")
        if response.status_code == 200 and isinstance(token, str) and token:
            return token, float(body.get("expires_in") or 3600)
        error = str(body.get("error") or response.status_code)
        description = str(body.get("error_description") or "no reason given")
        raise Rejected(
            f"Login with Amazon refused the seller's refresh token or the app's client: "
            f"{description} ({error})",
            code=error,
            status_code=response.status_code,
        )

    def _create_rdt(self) -> tuple[str, float]:
        resources = [
            {"method": "GET", "path": path, "dataElements": list(DATA_ELEMENTS)}
            for path in (ORDERS_PATH, ORDERS_PATH + "/{orderId}")
        ]
        body = self._call(Op.CREATE_RDT, "POST", RDT_PATH, body={"restrictedResources": resources})
        token = body.get("restrictedDataToken")
        if not isinstance(token, str) or not token:
            raise Unavailable("Amazon createRestrictedDataToken answered without a token")
        return token, float(body.get("expiresIn") or 3600)

    def restricted_token(self) -> str | None:
        """An RDT opening the buyer and the address on getOrders and getOrder; None while
        Amazon refuses it (the app lacks the role), asked again after a cool-down."""
        if self._clock() < self._rdt_refused_until:
            return None
        self.access.get()  # a refused refresh token is the seller's problem, not the RDT's
        try:
            return self.rdt.get()
        except Rejected as exc:
            self.rdt_refusal = exc.message
            self._rdt_refused_until = self._clock() + self._rdt_cooldown
            log.warning("Amazon refused a Restricted Data Token: %s", exc.message)
            return None

    # orders

    def get_orders(self, params: Mapping[str, str], *, patience: Patience | None = None) -> Json:
        """getOrders' `payload`: Orders, NextToken."""
        body = self._call(
            Op.GET_ORDERS, "GET", ORDERS_PATH, params=params, restricted=True, patience=patience
        )
        return self._payload(body, Op.GET_ORDERS)

    def get_order(self, order_id: str) -> Json:
        """getOrder's `payload`: one Order."""
        body = self._call(Op.GET_ORDER, "GET", f"{ORDERS_PATH}/{order_id}", restricted=True)
        return self._payload(body, Op.GET_ORDER)

    def get_order_items(self, order_id: str, *, patience: Patience | None = None) -> list[Json]:
        """Every OrderItem of an order, following NextToken."""
        items: list[Json] = []
        params: dict[str, str] = {}
        while True:
            body = self._call(
                Op.GET_ORDER_ITEMS,
                "GET",
                f"{ORDERS_PATH}/{order_id}/orderItems",
                params=params,
                patience=patience,
            )
            payload = self._payload(body, Op.GET_ORDER_ITEMS)
            items.extend(x for x in payload.get("OrderItems") or [] if isinstance(x, dict))
            token = payload.get("NextToken")
            if not token:
                return items
            params = {"NextToken": str(token)}

    def list_financial_events(
        self, params: Mapping[str, str], *, patience: Patience | None = None
    ) -> Json:
        """listFinancialEvents' `payload`: FinancialEvents, NextToken."""
        body = self._call(
            Op.LIST_FINANCIAL_EVENTS, "GET", FINANCES_PATH, params=params, patience=patience
        )
        return self._payload(body, Op.LIST_FINANCIAL_EVENTS)

    def confirm_shipment(self, order_id: str, package: Mapping[str, Any]) -> None:
        """confirmShipment of one package (204 on success)."""
        self._call(
            Op.CONFIRM_SHIPMENT,
            "POST",
            f"{ORDERS_PATH}/{order_id}/shipmentConfirmation",
            body={"marketplaceId": self.marketplace_id, "packageDetail": dict(package)},
        )

    # listings

    def search_listings(self, page_token: str | None, size: int) -> Json:
        """One page of searchListingsItems with summaries."""
        params = {
            "marketplaceIds": self.marketplace_id,
            "includedData": "summaries",
            "pageSize": str(size),
        }
        if page_token:
            params["pageToken"] = page_token
        return self._call(
            Op.SEARCH_LISTINGS, "GET", f"{LISTINGS_PATH}/{self.seller_id}", params=params
        )

    def get_listing(self, sku: str) -> Json:
        """getListingsItem with summaries (its product type)."""
        params = {"marketplaceIds": self.marketplace_id, "includedData": "summaries"}
        return self._call(Op.GET_LISTING, "GET", self._listing_path(sku), params=params)

    def patch_listing(self, sku: str, body: Mapping[str, Any]) -> Json:
        """patchListingsItem; Amazon's submission answer (status, issues)."""
        params = {"marketplaceIds": self.marketplace_id}
        return self._call(
            Op.PATCH_LISTING, "PATCH", self._listing_path(sku), params=params, body=dict(body)
        )

    def _listing_path(self, sku: str) -> str:
        return f"{LISTINGS_PATH}/{quote(self.seller_id, safe='')}/{quote(sku, safe='')}"

    def close(self) -> None:
        self._transport.close()

    # one call

    def _call(
        self,
        op: Op,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        body: Any = None,
        restricted: bool = False,
        patience: Patience | None = None,
    ) -> Json:
        """The call with the kit's retries of Unavailable, and again after a 429 when the
        bucket refills within the caller's patience."""
        for attempt in range(RATE_LIMIT_TRIES):
            try:
                return self._transport.call(
                    lambda: self._once(op, method, path, params, body, restricted, patience),
                    what=op.value,
                )
            except RateLimited as exc:
                if exc.status_code != 429 or attempt == RATE_LIMIT_TRIES - 1:
                    raise
        raise AssertionError("unreachable")

    def _once(
        self,
        op: Op,
        method: str,
        path: str,
        params: Mapping[str, str] | None,
        body: Any,
        restricted: bool,
        patience: Patience | None,
    ) -> Json:
        rdt = self.restricted_token() if restricted else None
        token = rdt or self.access.get()
        with self.pacer.slot(op, patience):
            response = self._send(op, method, path, params, body, token)
        if response.status_code == 403 and EXPIRED in _first_error(self._safe(response))[1]:
            (self.rdt if rdt else self.access).expired(token)
            fresh = (self.restricted_token() if rdt else None) or self.access.get()
            with self.pacer.slot(op, patience):
                response = self._send(op, method, path, params, body, fresh)
        return self._read(op, response)

    def _send(
        self,
        op: Op,
        method: str,
        path: str,
        params: Mapping[str, str] | None,
        body: Any,
        token: str,
    ) -> httpx.Response:
        try:
            response = self._transport.send(
                method,
                self._endpoint + path,
                what=op.value,
                params=dict(params or {}),
                json=body,
                headers={HEADER_TOKEN: token, "accept": "application/json"},
            )
        except RateLimited as exc:
            wait = self.pacer.throttled(op)
            raise RateLimited(
                f"Amazon {op.value} answered 429 QuotaExceeded; next token in {wait:.1f}s",
                retry_after=wait,
                status_code=429,
            ) from exc
        self.pacer.observe(op, response.headers.get(HEADER_RATE_LIMIT))
        return response

    @staticmethod
    def _safe(response: httpx.Response) -> Any:
        try:
            return bounded_json.loads(response.content) if response.content else {}
        except ValueError:
            return {}

    def _json(self, response: httpx.Response, what: str) -> Json:
        if response.status_code >= 500:
            raise Unavailable(f"Amazon {what} failed with HTTP {response.status_code}")
        try:
            body = bounded_json.loads(response.content) if response.content else {}
        except ValueError as exc:
            raise Unavailable(
                f"Amazon {what} sent an unreadable reply: {exc}", status_code=response.status_code
            ) from exc
        if not isinstance(body, dict):
            raise Unavailable(f"Amazon {what} sent a reply that is not an object")
        return body

    def _read(self, op: Op, response: httpx.Response) -> Json:
        body = self._json(response, op.value)
        if response.status_code < 300:
            return body
        code, message = _first_error(body)
        raise Rejected(
            f"Amazon {op.value} refused: {message or 'HTTP ' + str(response.status_code)}",
            code=code or str(response.status_code),
            status_code=response.status_code,
        )

    @staticmethod
    def _payload(body: Json, op: Op) -> Json:
        payload = body.get("payload")
        if not isinstance(payload, dict):
            raise Unavailable(f"Amazon {op.value} answered without a payload")
        return payload
