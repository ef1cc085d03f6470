"""Orders v0: getOrders, getOrder, getOrderItems and confirmShipment.

getOrders (`GET /orders/v0/orders`) takes `MarketplaceIds` (required, comma-separated)
and exactly one of `CreatedAfter` or `LastUpdatedAfter`, each with its optional
`…Before`, which must not be earlier than the `…After` and must be at least two minutes
before now (`before_margin`); without one the search ends two minutes before now, and
the answer says where (`payload.LastUpdatedBefore` or `CreatedBefore`). Bounds are
inclusive. `OrderStatuses`, `FulfillmentChannels` filter; `MaxResultsPerPage` is 1-100
(default 100). With `NextToken` the other parameters are ignored. The model does not say
how pages are cut; here results are sorted by the searched time then order id and a
`NextToken` remembers the last one read, so an order that changes while a search is
paged neither shifts another out of reach nor is lost.

confirmShipment (`POST …/{orderId}/shipmentConfirmation`) needs `marketplaceId` and
`packageDetail` with `packageReferenceId` (a positive number written as text),
`carrierCode` (`carrierName` when it is "Other"), `trackingNumber`, `shipDate` and
`orderItems` [{orderItemId, quantity}]; success is 204 with no body.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from starlette.requests import Request

from .gate import read_json
from .state import STATUSES, AmazonState, Order
from .tokens import Grant
from .views import order_items, render_order
from .wire import ApiError, Json, invalid, iso, next_token, parse_time, read_next_token

__all__ = ["OrdersApi"]

MAX_PAGE = 100


def _csv(request: Request, name: str) -> list[str]:
    """A list parameter, comma-separated or repeated."""
    return [
        v.strip() for raw in request.query_params.getlist(name) for v in raw.split(",") if v.strip()
    ]


def _not_found(order_id: str) -> ApiError:
    return ApiError(404, "NotFound", f"Order {order_id} was not found.")


@dataclass
class OrdersApi:
    """The Orders v0 handlers over one account's state."""

    state: AmazonState
    before_margin: Callable[[], float]  # seconds a search must stay behind now
    items_page: int = 100

    async def get_orders(self, request: Request, grant: Grant) -> tuple[int, Json | None]:
        marketplaces = _csv(request, "MarketplaceIds")
        if not marketplaces:
            raise invalid("MarketplaceIds is required.")
        if any(m != self.state.marketplace_id for m in marketplaces):
            raise invalid(f"Invalid MarketplaceIds: {','.join(marketplaces)}")
        token = request.query_params.get("NextToken")
        query = read_next_token(token, needs="family") if token else self._query(request)
        elements = grant.elements_for("GET", "/orders/v0/orders")
        with self.state.lock:
            found = self._search(query)
            page = found[: query["size"]]
            body: Json = {"Orders": [render_order(o, elements) for o in page]}
        if len(found) > query["size"]:
            last = page[-1]
            body["NextToken"] = next_token(
                {**query, "last": [iso(_key(last, query)), last.order_id]}
            )
        body["LastUpdatedBefore" if query["family"] == "updated" else "CreatedBefore"] = query[
            "before"
        ]
        return 200, {"payload": body}

    def _query(self, request: Request) -> dict[str, Any]:
        q = request.query_params
        created, updated = q.get("CreatedAfter"), q.get("LastUpdatedAfter")
        if bool(created) == bool(updated):
            raise invalid("Exactly one of CreatedAfter and LastUpdatedAfter is required.")
        family = "updated" if updated else "created"
        name = "LastUpdated" if updated else "Created"
        other = "Created" if updated else "LastUpdated"
        if q.get(f"{other}Before"):
            raise invalid(f"{other}Before cannot be used with {name}After.")
        after = parse_time(str(updated or created), f"{name}After")
        latest = datetime.now(UTC) - timedelta(seconds=self.before_margin())
        before_raw = q.get(f"{name}Before")
        before = (
            parse_time(before_raw, f"{name}Before") if before_raw else latest.replace(microsecond=0)
        )
        if before < after:
            raise invalid(f"{name}Before must be later than or equal to {name}After.")
        if before > latest + timedelta(seconds=1):
            raise invalid(
                f"{name}Before must be at least 2 minutes before the time of the request."
            )
        if after > latest + timedelta(seconds=1):
            raise invalid(f"{name}After must be at least 2 minutes before the time of the request.")
        statuses = _csv(request, "OrderStatuses")
        unknown = set(statuses) - set(STATUSES)
        if unknown:
            raise invalid(f"Invalid OrderStatuses: {', '.join(sorted(unknown))}")
        size_raw = q.get("MaxResultsPerPage", str(MAX_PAGE))
        try:
            size = int(size_raw)
        except ValueError as exc:
            raise invalid(f"Invalid MaxResultsPerPage: {size_raw}") from exc
        if not 1 <= size <= MAX_PAGE:
            raise invalid("MaxResultsPerPage must be between 1 and 100.")
        return {
            "family": family,
            "after": iso(after),
            "before": iso(before),
            "statuses": statuses,
            "channels": _csv(request, "FulfillmentChannels"),
            "size": size,
            "last": None,
        }

    def _search(self, query: dict[str, Any]) -> list[Order]:
        after, before = parse_time(query["after"], "after"), parse_time(query["before"], "before")
        last = query.get("last")
        matching = [
            order
            for order in self.state.orders.values()
            if after <= _key(order, query) <= before
            and (not query["statuses"] or order.status in query["statuses"])
            and (not query["channels"] or "MFN" in query["channels"])
            and (last is None or (iso(_key(order, query)), order.order_id) > tuple(last))
        ]
        return sorted(matching, key=lambda o: (_key(o, query), o.order_id))

    async def get_order(self, request: Request, grant: Grant) -> tuple[int, Json | None]:
        order_id = request.path_params["orderId"]
        with self.state.lock:
            order = self.state.orders.get(order_id)
            if order is None:
                raise _not_found(order_id)
            elements = grant.elements_for("GET", request.url.path)
            return 200, {"payload": render_order(order, elements)}

    async def get_order_items(self, request: Request, grant: Grant) -> tuple[int, Json | None]:
        order_id = request.path_params["orderId"]
        start = 0
        token = request.query_params.get("NextToken")
        if token:
            start = int(read_next_token(token, needs="family").get("start", 0))
        with self.state.lock:
            order = self.state.orders.get(order_id)
            if order is None:
                raise _not_found(order_id)
            items = order_items(order)
        body: Json = {
            "AmazonOrderId": order_id,
            "OrderItems": items[start : start + self.items_page],
        }
        if start + self.items_page < len(items):
            body["NextToken"] = next_token({"start": start + self.items_page})
        return 200, {"payload": body}

    async def confirm_shipment(self, request: Request, grant: Grant) -> tuple[int, Json | None]:
        order_id = request.path_params["orderId"]
        body = await read_json(request)
        if body.get("marketplaceId") != self.state.marketplace_id:
            raise invalid("marketplaceId is missing or is not the order's marketplace.")
        package = body.get("packageDetail")
        if not isinstance(package, dict):
            raise invalid("packageDetail is required.")
        reference = package.get("packageReferenceId")
        if not isinstance(reference, str) or not reference.isdigit() or int(reference) < 1:
            raise invalid(
                "The input you have submitted is not valid. Please check the fields with "
                "invalid type [packageDetail.packageReferenceId]."
            )
        for name in ("carrierCode", "trackingNumber", "shipDate"):
            if not str(package.get(name) or "").strip():
                raise invalid(f"packageDetail.{name} is required.")
        if package["carrierCode"] == "Other" and not package.get("carrierName"):
            raise invalid("packageDetail.carrierName is required when carrierCode is Other.")
        parse_time(str(package["shipDate"]), "shipDate")
        items = package.get("orderItems")
        if (
            not isinstance(items, list)
            or not items
            or not all(
                isinstance(i, dict) and i.get("orderItemId") and isinstance(i.get("quantity"), int)
                for i in items
            )
        ):
            raise invalid("packageDetail.orderItems must list orderItemId and quantity.")
        if order_id not in self.state.orders:
            raise _not_found(order_id)
        self.state.confirm(order_id, package)
        return 204, None


def _key(order: Order, query: dict[str, Any]) -> datetime:
    return order.updated if query["family"] == "updated" else order.purchased
