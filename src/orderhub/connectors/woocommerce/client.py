"""The only code that talks HTTP to a store's WooCommerce REST API (v3): one method per call.

Every call goes to `{store}/wp-json/wc/v3/{path}` with the shop's REST API key (see
`auth`). Failures become the connector error tree: timeouts, refused connections, 5xx
and unreadable bodies are `Unavailable`, 429 is `RateLimited` (the kit's transport), and
any other 4xx is `Rejected` with WooCommerce's own `code` and `message`
(`{"code": "woocommerce_rest_shop_order_invalid_id", "message": "Invalid ID.",
"data": {"status": 404}}`). Reads are retried briefly by the transport; a call that
creates something (a note, a webhook) is sent once, and the caller checks before it
repeats it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from ..base import Rejected, Unavailable
from ..kit import bounded_json
from ..kit.http import Transport
from .auth import Credentials
from .consts import API_ROOT, PLATFORM

__all__ = ["Listing", "WooClient"]

Json = dict[str, Any]


@dataclass(frozen=True)
class Listing:
    """One page of a collection and what its headers say about the whole."""

    items: list[Json]
    total: int
    total_pages: int


def _header_int(response: httpx.Response, name: str, default: int) -> int:
    try:
        return int(response.headers.get(name, default))
    except ValueError:
        return default


class WooClient:
    """Typed calls to one store with one REST API key."""

    def __init__(self, *, base_url: str, credentials: Credentials, transport: Transport) -> None:
        self.root = f"{base_url.rstrip('/')}{API_ROOT}"
        self._credentials = credentials
        self._transport = transport

    # transport

    def _once(
        self, verb: str, path: str, params: Mapping[str, Any] | None, body: Any
    ) -> tuple[httpx.Response, Any]:
        url = f"{self.root}/{path}"
        what = f"{verb} {path}"
        query = {k: str(v) for k, v in (params or {}).items() if v is not None}
        query, auth = self._credentials.apply(verb, url, query)
        options: dict[str, Any] = {"params": query, "headers": {"Accept": "application/json"}}
        if auth is not None:
            options["auth"] = auth
        if body is not None:
            options["json"] = body
        response = self._transport.send(verb, url, what=what, **options)
        try:
            data = bounded_json.loads(response.content) if response.content else None
        except ValueError as exc:
            if response.is_success:
                raise Unavailable(
                    f"{PLATFORM} {what} sent an unreadable reply: {exc}",
                    status_code=response.status_code,
                ) from exc
            data = None
        if not response.is_success:
            raise _refusal(what, response, data)
        return response, data

    def _read(
        self, path: str, params: Mapping[str, Any] | None = None
    ) -> tuple[httpx.Response, Any]:
        """A GET, with the transport's short retries (reading twice is harmless)."""
        return self._transport.call(lambda: self._once("GET", path, params, None), what=path)

    def _write(self, verb: str, path: str, body: Any, *, repeatable: bool) -> Any:
        """A change; only one that sets absolute values is retried inline."""
        if repeatable:
            return self._transport.call(lambda: self._once(verb, path, None, body), what=path)[1]
        return self._once(verb, path, None, body)[1]

    def _listing(self, path: str, params: Mapping[str, Any]) -> Listing:
        response, data = self._read(path, params)
        if not isinstance(data, list):
            raise Unavailable(f"{PLATFORM} GET {path} did not answer a list")
        items = [item for item in data if isinstance(item, dict)]
        total = _header_int(response, "X-WP-Total", len(items))
        return Listing(items, total, _header_int(response, "X-WP-TotalPages", 1))

    @staticmethod
    def _object(data: Any, what: str) -> Json:
        if not isinstance(data, dict):
            raise Unavailable(f"{PLATFORM} {what} did not answer an object")
        return data

    # orders

    def list_orders(self, params: Mapping[str, Any]) -> Listing:
        """GET orders, e.g. {modified_after, modified_before, dates_are_gmt, page, per_page}."""
        return self._listing("orders", params)

    def get_order(self, order_id: int) -> Json:
        """GET orders/{id}."""
        return self._object(self._read(f"orders/{order_id}")[1], "GET orders/{id}")

    def update_order(self, order_id: int, changes: Mapping[str, Any]) -> Json:
        """PUT orders/{id} with `status` and/or `meta_data` (absolute values)."""
        data = self._write("PUT", f"orders/{order_id}", dict(changes), repeatable=True)
        return self._object(data, "PUT orders/{id}")

    def list_notes(self, order_id: int) -> list[Json]:
        """GET orders/{id}/notes: every note, newest first."""
        _, data = self._read(f"orders/{order_id}/notes", {"type": "any"})
        return [n for n in data if isinstance(n, dict)] if isinstance(data, list) else []

    def add_note(self, order_id: int, note: str, *, customer_note: bool) -> Json:
        """POST orders/{id}/notes; sent once (a second try could add it twice)."""
        body = {"note": note, "customer_note": customer_note}
        data = self._write("POST", f"orders/{order_id}/notes", body, repeatable=False)
        return self._object(data, "POST orders/{id}/notes")

    def list_refunds(self, order_id: int) -> list[Json]:
        """GET orders/{id}/refunds: the order's refunds with their lines."""
        return self._listing(f"orders/{order_id}/refunds", {"per_page": 100}).items

    def get_refund(self, order_id: int, refund_id: int) -> Json:
        """GET orders/{id}/refunds/{refund_id}."""
        path = f"orders/{order_id}/refunds/{refund_id}"
        return self._object(self._read(path)[1], "GET orders/{id}/refunds/{refund_id}")

    # catalog and stock

    def list_products(self, params: Mapping[str, Any]) -> Listing:
        """GET products (`sku` narrows to one SKU; variations are not products)."""
        return self._listing("products", params)

    def list_variations(self, product_id: int, params: Mapping[str, Any]) -> Listing:
        """GET products/{id}/variations."""
        return self._listing(f"products/{product_id}/variations", params)

    def set_product_stock(self, product_id: int, quantity: int) -> Json:
        """PUT products/{id} with `manage_stock` and `stock_quantity` (absolute)."""
        body = {"manage_stock": True, "stock_quantity": quantity}
        data = self._write("PUT", f"products/{product_id}", body, repeatable=True)
        return self._object(data, "PUT products/{id}")

    def set_variation_stock(self, product_id: int, variation_id: int, quantity: int) -> Json:
        """PUT products/{id}/variations/{variation_id} with the stock (absolute)."""
        body = {"manage_stock": True, "stock_quantity": quantity}
        path = f"products/{product_id}/variations/{variation_id}"
        return self._object(self._write("PUT", path, body, repeatable=True), f"PUT {path}")

    # webhooks

    def list_webhooks(self) -> list[Json]:
        """GET webhooks (every status)."""
        return self._listing("webhooks", {"per_page": 100}).items

    def create_webhook(self, *, topic: str, delivery_url: str, secret: str, name: str) -> Json:
        """POST webhooks: one active subscription signed with `secret`."""
        body = {
            "name": name,
            "topic": topic,
            "delivery_url": delivery_url,
            "secret": secret,
            "status": "active",
        }
        return self._object(self._write("POST", "webhooks", body, repeatable=False), "webhooks")

    def activate_webhook(self, webhook_id: int, secret: str) -> Json:
        """PUT webhooks/{id}: active again (WooCommerce disables one after 5 failures)."""
        body = {"status": "active", "secret": secret}
        data = self._write("PUT", f"webhooks/{webhook_id}", body, repeatable=True)
        return self._object(data, "PUT webhooks/{id}")

    def close(self) -> None:
        self._transport.close()


def _refusal(what: str, response: httpx.Response, data: Any) -> Rejected:
    """A 4xx in WooCommerce's words: its `code` kept apart, its `message` for a person."""
    code = message = ""
    if isinstance(data, dict):
        code = str(data.get("code") or "")
        message = str(data.get("message") or "")
    status = response.status_code
    text = message or response.reason_phrase or "refused"
    return Rejected(
        f"{PLATFORM} {what} answered {status}: {text}", code=code or str(status), status_code=status
    )
