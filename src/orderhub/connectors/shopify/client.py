"""The only code that talks HTTP to Shopify's Admin API (REST, and GraphQL for stock):
one method per remote call.

Failures become the connector error tree: 429 → `RateLimited(retry_after=...)`, 5xx,
network errors, timeouts and unreadable bodies → `Unavailable`, any other 4xx →
`Rejected(code=<status>)`. GraphQL answers 200 even when it fails: THROTTLED →
`RateLimited` waiting (requested cost − currently available) / restore rate,
INTERNAL_SERVER_ERROR → `Unavailable`, any other `errors` → `Rejected` with Shopify's
message and code; a mutation's `userErrors` are returned, not raised. A few short
retries happen here (a 429 whose Retry-After is small, and 5xx/network errors with
jittered backoff); the hub's worker does the rest.
Calls that create something are repeated only when the request surely did not land
(429, 503, connection refused), so a retry cannot create a second fulfillment.
"""

from __future__ import annotations

import logging
import random
import re
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

from orderhub.connectors.base import RateLimited, Rejected, Unavailable
from orderhub.connectors.kit.http import new_client
from orderhub.connectors.shopify.consts import (
    GRAPHQL_INTERNAL_ERROR,
    GRAPHQL_PATH,
    GRAPHQL_THROTTLED,
    HEADER_ACCESS_TOKEN,
    HEADER_CALL_LIMIT,
    MAX_PAGE_SIZE,
    QUANTITY_AVAILABLE,
    REASON_CORRECTION,
    SET_QUANTITIES,
)

__all__ = ["Page", "QuantityRefusal", "ShopifyClient"]

log = logging.getLogger(__name__)
Json = dict[str, Any]
LINK = re.compile(r'<([^>]+)>\s*;\s*rel="?([a-z]+)"?')


@dataclass(frozen=True)
class Page:
    """One page of a list and the cursor of the next page, if any."""

    items: list[Json]
    next_page_info: str | None


@dataclass(frozen=True)
class QuantityRefusal:
    """One userError of inventorySetQuantities. `index` is the position, in the levels
    sent, of the level it is about; None when it is about the call as a whole."""

    index: int | None
    code: str
    message: str
    field: tuple[str, ...]

    @classmethod
    def read(cls, error: Mapping[str, Any]) -> QuantityRefusal:
        """From Shopify's `{code, field: ["input", "quantities", "3", ...], message}`."""
        field = tuple(str(part) for part in error.get("field") or ())
        about_one = len(field) > 2 and field[:2] == ("input", "quantities") and field[2].isdigit()
        return cls(
            int(field[2]) if about_one else None,
            str(error.get("code") or ""),
            str(error.get("message") or ""),
            field,
        )


def _throttle_wait(body: Mapping[str, Any]) -> float | None:
    """Seconds until the cost bucket holds the call: (requested − available) / restore rate."""
    try:
        cost = body["extensions"]["cost"]
        status = cost["throttleStatus"]
        missing = float(cost["requestedQueryCost"]) - float(status["currentlyAvailable"])
        return max(0.1, missing / float(status["restoreRate"]))
    except (KeyError, TypeError, ValueError, ZeroDivisionError):
        return None


def _graphql_errors(body: Any) -> None:
    """Raise the connector error that a GraphQL answer's top-level `errors` stand for."""
    if not isinstance(body, dict):
        raise Unavailable("Shopify GraphQL answered a body that is not an object", status_code=200)
    errors = body.get("errors")
    if not errors:
        return
    listed = [e for e in errors if isinstance(e, dict)] if isinstance(errors, list) else []
    code = str(((listed[0].get("extensions") or {}) if listed else {}).get("code") or "")
    message = "; ".join(str(e.get("message")) for e in listed) or str(errors)
    if code == GRAPHQL_THROTTLED:
        raise RateLimited(
            f"Shopify GraphQL throttled: {message}",
            retry_after=_throttle_wait(body),
            status_code=200,
        )
    if code == GRAPHQL_INTERNAL_ERROR:
        raise Unavailable(f"Shopify GraphQL failed: {message}", status_code=200)
    raise Rejected(f"Shopify GraphQL refused: {message}", code=code or "graphql", status_code=200)


def _next_page_info(link_header: str | None) -> str | None:
    """The `page_info` of the rel="next" URL in a Link header."""
    for url, rel in LINK.findall(link_header or ""):
        if rel == "next":
            values = parse_qs(urlsplit(url).query).get("page_info")
            return values[0] if values else None
    return None


def _errors_text(response: httpx.Response) -> str:
    """Shopify's `errors` value as one line: "base: Invalid quantity; limit: too big"."""
    try:
        errors = response.json().get("errors")
    except (ValueError, AttributeError):
        return response.text[:300]
    if isinstance(errors, dict):
        parts = []
        for key, value in errors.items():
            text = "; ".join(map(str, value)) if isinstance(value, list) else str(value)
            parts.append(f"{key}: {text}")
        return "; ".join(parts)
    if isinstance(errors, list):
        return "; ".join(map(str, errors))
    return str(errors) if errors is not None else response.text[:300]


def _retry_after(response: httpx.Response) -> float | None:
    try:
        return max(0.0, float(response.headers.get("Retry-After", "")))
    except ValueError:
        return None


class ShopifyClient:
    """Typed calls to one shop; pass `client` to reuse or mock the HTTP transport."""

    def __init__(
        self,
        *,
        base_url: str,
        access_token: str,
        api_version: str,
        timeout: float = 10.0,
        max_retries: int = 2,
        max_retry_sleep: float = 2.0,
        client: httpx.Client | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.api_root = f"{base_url.rstrip('/')}/admin/api/{api_version}"
        self.timeout = timeout
        self.max_retries = max_retries
        self.max_retry_sleep = max_retry_sleep
        self.call_limit: str | None = None
        self._token = access_token
        self._owns_client = client is None
        self._http = client or new_client(timeout)
        self._sleep = sleep
        self._rng = random.Random()

    # transport

    def _send(
        self, method: str, path: str, params: Mapping[str, Any] | None, body: Any
    ) -> tuple[httpx.Response, Any]:
        """One attempt: the response and its parsed JSON, or a ConnectorError."""
        what = f"Shopify {method} {path}"
        try:
            response = self._http.request(
                method,
                f"{self.api_root}/{path}",
                params=dict(params) if params else None,
                json=body,
                headers={HEADER_ACCESS_TOKEN: self._token, "Accept": "application/json"},
                timeout=self.timeout,
            )
        except httpx.HTTPError as exc:
            raise Unavailable(f"{what} failed: {type(exc).__name__}") from exc
        self.call_limit = response.headers.get(HEADER_CALL_LIMIT, self.call_limit)
        log.debug("%s -> %s (%s)", what, response.status_code, self.call_limit)
        try:
            response.raise_for_status()
        except httpx.HTTPStatusError as exc:
            status = response.status_code
            message = f"{what} answered {status}: {_errors_text(response)}"
            if status == 429:
                raise RateLimited(message, retry_after=_retry_after(response)) from exc
            if status >= 500:
                raise Unavailable(message, status_code=status) from exc
            raise Rejected(message, code=str(status), status_code=status) from exc
        try:
            return response, response.json()
        except ValueError as exc:
            raise Unavailable(f"{what} answered an unreadable body", status_code=200) from exc

    def _surely_not_applied(self, error: Unavailable) -> bool:
        cause = error.__cause__
        return error.status_code == 503 or isinstance(
            cause, (httpx.ConnectError, httpx.ConnectTimeout)
        )

    def _call(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        body: Any = None,
        idempotent: bool = True,
        check: Callable[[Any], None] | None = None,
    ) -> tuple[httpx.Response, Any]:
        """`_send` with the client's own short retries; `check` reads a 200's body and
        may raise too (GraphQL's THROTTLED is then waited out like a 429)."""
        attempt = 0
        while True:
            try:
                response, data = self._send(method, path, params, body)
                if check is not None:
                    check(data)
                return response, data
            except RateLimited as exc:
                wait = exc.retry_after
                if attempt >= self.max_retries or wait is None or wait > self.max_retry_sleep:
                    raise
            except Unavailable as exc:
                if attempt >= self.max_retries or not (idempotent or self._surely_not_applied(exc)):
                    raise
                wait = min(2.0, 0.2 * 2**attempt) * (0.5 + self._rng.random())
            attempt += 1
            log.info("retrying Shopify %s %s in %.2fs (attempt %d)", method, path, wait, attempt)
            self._sleep(wait)

    def _object(self, data: Any, key: str, what: str) -> Any:
        if not isinstance(data, dict) or key not in data:
            raise Unavailable(f"Shopify {what} answered without {key!r}")
        return data[key]

    # orders

    def list_orders(self, params: Mapping[str, Any]) -> Page:
        """GET orders.json; `params` are the query (or just limit + page_info)."""
        response, data = self._call("GET", "orders.json", params=params)
        orders = self._object(data, "orders", "orders.json")
        return Page(list(orders), _next_page_info(response.headers.get("Link")))

    def get_order(self, order_id: int) -> Json:
        """GET orders/{id}.json."""
        _, data = self._call("GET", f"orders/{order_id}.json")
        result: Json = self._object(data, "order", "orders/{id}.json")
        return result

    def list_refunds(self, order_id: int) -> list[Json]:
        """GET orders/{id}/refunds.json: every refund of an order, oldest first."""
        path = f"orders/{order_id}/refunds.json"
        _, data = self._call("GET", path)
        return list(self._object(data, "refunds", path))

    # fulfillment

    def list_fulfillment_orders(self, order_id: int) -> list[Json]:
        """GET orders/{id}/fulfillment_orders.json."""
        path = f"orders/{order_id}/fulfillment_orders.json"
        _, data = self._call("GET", path)
        return list(self._object(data, "fulfillment_orders", path))

    def list_fulfillments(self, order_id: int) -> list[Json]:
        """GET orders/{id}/fulfillments.json."""
        path = f"orders/{order_id}/fulfillments.json"
        _, data = self._call("GET", path)
        return list(self._object(data, "fulfillments", path))

    def create_fulfillment(self, fulfillment: Mapping[str, Any]) -> Json:
        """POST fulfillments.json with line_items_by_fulfillment_order and tracking_info."""
        _, data = self._call(
            "POST", "fulfillments.json", body={"fulfillment": dict(fulfillment)}, idempotent=False
        )
        result: Json = self._object(data, "fulfillment", "fulfillments.json")
        return result

    def add_fulfillment_event(
        self, order_id: int, fulfillment_id: int, event: Mapping[str, Any]
    ) -> Json:
        """POST orders/{id}/fulfillments/{fid}/events.json: where the parcel is now."""
        path = f"orders/{order_id}/fulfillments/{fulfillment_id}/events.json"
        _, data = self._call("POST", path, body={"event": dict(event)}, idempotent=False)
        result: Json = self._object(data, "fulfillment_event", path)
        return result

    def cancel_order(self, order_id: int, *, reason: str, restock: bool = False) -> Json:
        """POST orders/{id}/cancel.json; Shopify answers 422 once anything has shipped."""
        _, data = self._call(
            "POST",
            f"orders/{order_id}/cancel.json",
            body={"reason": reason, "restock": restock, "email": False},
            idempotent=False,
        )
        result: Json = self._object(data, "order", f"orders/{order_id}/cancel.json")
        return result

    # catalog and inventory

    def list_products(self, params: Mapping[str, Any]) -> Page:
        """GET products.json."""
        response, data = self._call("GET", "products.json", params=params)
        products = self._object(data, "products", "products.json")
        return Page(list(products), _next_page_info(response.headers.get("Link")))

    def each_product(self, fields: str) -> Iterator[Json]:
        """Every product, with these fields, following the pages (`fields` may ride along
        with `page_info`; the other filters may not)."""
        params: Mapping[str, Any] = {"limit": MAX_PAGE_SIZE, "fields": fields}
        while True:
            page = self.list_products(params)
            yield from page.items
            if not page.next_page_info:
                return
            params = {"limit": MAX_PAGE_SIZE, "fields": fields, "page_info": page.next_page_info}

    def list_balance_transactions(self, params: Mapping[str, Any]) -> Page:
        """GET shopify_payments/balance/transactions.json: the Payments statement."""
        path = "shopify_payments/balance/transactions.json"
        response, data = self._call("GET", path, params=params)
        lines = self._object(data, "transactions", path)
        return Page(list(lines), _next_page_info(response.headers.get("Link")))

    def list_locations(self) -> list[Json]:
        """GET locations.json."""
        _, data = self._call("GET", "locations.json")
        return list(self._object(data, "locations", "locations.json"))

    def set_inventory_level(
        self, *, location_id: int, inventory_item_id: int, available: int
    ) -> Json:
        """POST inventory_levels/set.json (absolute, so safe to repeat)."""
        body = {
            "location_id": location_id,
            "inventory_item_id": inventory_item_id,
            "available": available,
        }
        _, data = self._call("POST", "inventory_levels/set.json", body=body)
        result: Json = self._object(data, "inventory_level", "inventory_levels/set.json")
        return result

    def set_inventory_quantities(
        self, *, location_id: int, levels: Sequence[tuple[int, int]]
    ) -> list[QuantityRefusal]:
        """GraphQL inventorySetQuantities: each (inventory item id, available) at one
        location, absolute and so safe to repeat, at most 250 levels a call.

        Shopify refuses the whole call when any level is wrong, so an empty list means
        every figure was set and any refusal means none was; each refusal names its level
        by index, so the caller can leave those out and send the rest again."""
        location = f"gid://shopify/Location/{location_id}"
        variables = {
            "input": {
                "name": QUANTITY_AVAILABLE,
                "reason": REASON_CORRECTION,
                "ignoreCompareQuantity": True,
                "quantities": [
                    {
                        "inventoryItemId": f"gid://shopify/InventoryItem/{item_id}",
                        "locationId": location,
                        "quantity": available,
                    }
                    for item_id, available in levels
                ],
            }
        }
        body = {"query": SET_QUANTITIES, "variables": variables}
        _, answer = self._call("POST", GRAPHQL_PATH, body=body, check=_graphql_errors)
        data = answer.get("data") or {}
        payload = data.get("inventorySetQuantities") if isinstance(data, dict) else None
        if not isinstance(payload, dict):
            raise Unavailable("Shopify inventorySetQuantities answered without its payload")
        return [QuantityRefusal.read(e) for e in payload.get("userErrors") or []]

    # webhook subscriptions

    def list_webhooks(self, *, address: str | None = None) -> list[Json]:
        """GET webhooks.json, optionally only those pointing at `address`."""
        params = {"address": address, "limit": 250} if address else {"limit": 250}
        _, data = self._call("GET", "webhooks.json", params=params)
        return list(self._object(data, "webhooks", "webhooks.json"))

    def create_webhook(self, *, topic: str, address: str) -> Json:
        """POST webhooks.json for one topic (Shopify refuses a duplicate with 422)."""
        body = {"webhook": {"topic": topic, "address": address, "format": "json"}}
        _, data = self._call("POST", "webhooks.json", body=body)
        result: Json = self._object(data, "webhook", "webhooks.json")
        return result

    def close(self) -> None:
        """Close the HTTP client if this object created it."""
        if self._owns_client:
            self._http.close()
