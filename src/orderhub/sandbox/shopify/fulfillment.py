"""Fulfillment orders and fulfillments, as the FulfillmentOrder flow of the REST API has them.

Each order gets one fulfillment order at the shop's primary location. `POST
fulfillments.json` names fulfillment orders (and optionally their line items with
quantities); omitting the line items fulfils everything still fulfillable on that
fulfillment order. Quantities beyond what is fulfillable are refused with a 422.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from orderhub.sandbox.shopify.common import (
    ApiError,
    Json,
    gid,
    iso,
    not_found,
    to_int,
    unprocessable,
)

__all__ = [
    "apply_fulfillment",
    "build_fulfillment_order",
    "cancel_fulfillment",
    "close_fulfillment_orders",
    "update_tracking",
]

# Shopify builds the tracking URL itself when `company` is spelled as in its carrier list;
# these templates approximate the public tracking pages of a few common carriers.
TRACKING_URLS = {
    "UPS": "https://www.ups.com/WebTracking?loc=en_US&requester=ST&trackNums={}",
    "USPS": "https://tools.usps.com/go/TrackConfirmAction?tLabels={}",
    "FedEx": "https://www.fedex.com/fedextrack/?trknbr={}",
    "DHL Express": "https://www.dhl.com/en/express/tracking.html?AWB={}&brand=DHL",
    "SF Express": "https://www.sf-express.com/chn/en/waybill/list?waybillNo={}",
    "YunExpress": "https://www.yuntrack.com/parcelTracking?id={}",
    "China Post": "https://yjcx.ems.com.cn/qps/english/yjcx?mailNum={}",
}
FULFILLABLE = frozenset({"open", "in_progress"})


def build_fulfillment_order(
    fo_id: int,
    line_ids: list[int],
    order: Json,
    location: Json,
    inventory_item_ids: Mapping[int, int | None],
) -> Json:
    """The single fulfillment order a new order gets at the primary location."""
    items = []
    for fo_line_id, line in zip(line_ids, order["line_items"], strict=True):
        items.append(
            {
                "id": fo_line_id,
                "shop_id": location["shop_id"],
                "fulfillment_order_id": fo_id,
                "line_item_id": line["id"],
                "inventory_item_id": inventory_item_ids.get(line["id"]),
                "quantity": line["quantity"],
                "fulfillable_quantity": line["quantity"],
                "variant_id": line["variant_id"],
            }
        )
    destination = order.get("shipping_address") or {}
    return {
        "id": fo_id,
        "admin_graphql_api_id": gid("FulfillmentOrder", fo_id),
        "shop_id": location["shop_id"],
        "order_id": order["id"],
        "assigned_location_id": location["id"],
        "request_status": "unsubmitted",
        "status": "open",
        "fulfill_at": order["created_at"],
        "fulfill_by": None,
        "supported_actions": ["create_fulfillment", "move"],
        "destination": {
            key: destination.get(key)
            for key in ("first_name", "last_name", "address1", "address2", "city", "province")
        }
        | {"zip": destination.get("zip"), "country": destination.get("country")}
        if destination
        else None,
        "line_items": items,
        "international_duties": None,
        "fulfillment_holds": [],
        "delivery_method": {"id": fo_id + 1, "method_type": "shipping"},
        "created_at": order["created_at"],
        "updated_at": order["created_at"],
        "assigned_location": {
            key: location.get(key)
            for key in ("address1", "address2", "city", "country_code", "name", "phone", "zip")
        }
        | {"location_id": location["id"], "province": location.get("province")},
        "merchant_requests": [],
    }


def _requested(
    body: Mapping[str, Any], fulfillment_orders: Mapping[int, Json]
) -> list[tuple[Json, Json, int]]:
    """Validate the request into (fulfillment order, fo line item, quantity) triples."""
    groups = body.get("line_items_by_fulfillment_order")
    if not isinstance(groups, list) or not groups:
        raise unprocessable("line_items_by_fulfillment_order", "must be present")
    picked: dict[int, int] = {}
    owners: dict[int, tuple[Json, Json]] = {}
    order_ids: set[int] = set()
    for group in groups:
        if not isinstance(group, Mapping):
            raise unprocessable("line_items_by_fulfillment_order", "is invalid")
        fo = fulfillment_orders.get(
            to_int(group.get("fulfillment_order_id"), "fulfillment_order_id")
        )
        if fo is None:
            raise not_found()
        order_ids.add(fo["order_id"])
        if fo["status"] not in FULFILLABLE:
            raise unprocessable(
                "base", f"Fulfillment order {fo['id']} has an unfulfillable status= {fo['status']}."
            )
        by_id = {item["id"]: item for item in fo["line_items"]}
        wanted = group.get("fulfillment_order_line_items") or [
            {"id": item["id"], "quantity": item["fulfillable_quantity"]}
            for item in fo["line_items"]
            if item["fulfillable_quantity"] > 0
        ]
        for entry in wanted:
            if not isinstance(entry, Mapping):
                raise unprocessable("fulfillment_order_line_items", "is invalid")
            item = by_id.get(to_int(entry.get("id"), "fulfillment_order_line_items"))
            if item is None:
                raise unprocessable(
                    "base",
                    f"Line item {entry.get('id')} is not part of fulfillment order {fo['id']}.",
                )
            quantity = to_int(entry.get("quantity", item["fulfillable_quantity"]), "quantity")
            total = picked.get(item["id"], 0) + quantity
            if quantity < 1 or total > item["fulfillable_quantity"]:
                raise unprocessable(
                    "base", "Invalid fulfillment order line item quantity requested."
                )
            picked[item["id"]] = total
            owners[item["id"]] = (fo, item)
    if len(order_ids) > 1:
        raise unprocessable("base", "All fulfillment orders must belong to the same order.")
    if not picked:
        raise unprocessable("base", "There are no fulfillable line items to fulfill.")
    return [(owners[key][0], owners[key][1], qty) for key, qty in picked.items()]


def _tracking(info: Mapping[str, Any]) -> Json:
    company = info.get("company")
    numbers = [str(n) for n in info.get("numbers") or []]
    if info.get("number"):
        numbers = [str(info["number"]), *[n for n in numbers if n != str(info["number"])]]
    urls = [str(u) for u in info.get("urls") or []]
    if info.get("url"):
        urls = [str(info["url"]), *urls]
    elif not urls and company in TRACKING_URLS:
        urls = [TRACKING_URLS[str(company)].format(n) for n in numbers]
    return {
        "tracking_company": company,
        "tracking_number": numbers[0] if numbers else None,
        "tracking_numbers": numbers,
        "tracking_url": urls[0] if urls else None,
        "tracking_urls": urls,
    }


def _refresh_order_status(order: Json) -> None:
    lines = order["line_items"]
    for line in lines:
        remaining = line["fulfillable_quantity"]
        line["fulfillment_status"] = (
            "fulfilled" if remaining == 0 else "partial" if remaining < line["quantity"] else None
        )
    if all(line["fulfillable_quantity"] == 0 for line in lines):
        order["fulfillment_status"] = "fulfilled"
    elif any(line["fulfillment_status"] for line in lines):
        order["fulfillment_status"] = "partial"
    else:
        order["fulfillment_status"] = None


def apply_fulfillment(
    fulfillment_id: int,
    body: Mapping[str, Any],
    orders: Mapping[int, Json],
    fulfillment_orders: Mapping[int, Json],
    now: datetime,
) -> tuple[Json, Json]:
    """Create a fulfillment from a `POST fulfillments.json` body; returns (fulfillment, order)."""
    triples = _requested(body, fulfillment_orders)
    order = orders[triples[0][0]["order_id"]]
    if order.get("cancelled_at"):
        raise unprocessable("base", "Cannot fulfill a cancelled order.")
    stamp = iso(now)
    line_by_id = {line["id"]: line for line in order["line_items"]}
    shipped: list[Json] = []
    for fo, item, quantity in triples:
        item["fulfillable_quantity"] -= quantity
        fo["updated_at"] = stamp
        line = line_by_id[item["line_item_id"]]
        line["fulfillable_quantity"] -= quantity
        entry = copy.deepcopy(line)
        entry["quantity"] = quantity
        shipped.append(entry)
    for fo, _, _ in triples:
        done = all(i["fulfillable_quantity"] == 0 for i in fo["line_items"])
        fo["status"] = "closed" if done else "in_progress"
    _refresh_order_status(order)
    for entry in shipped:
        current = line_by_id[entry["id"]]
        entry["fulfillment_status"] = current["fulfillment_status"]
        entry["fulfillable_quantity"] = current["fulfillable_quantity"]
    fulfillment: Json = {
        "id": fulfillment_id,
        "admin_graphql_api_id": gid("Fulfillment", fulfillment_id),
        "created_at": stamp,
        "location_id": triples[0][0]["assigned_location_id"],
        "name": f"{order['name']}.{len(order['fulfillments']) + 1}",
        "order_id": order["id"],
        "origin_address": dict(body.get("origin_address") or {}),
        "receipt": {},
        "service": "manual",
        "shipment_status": None,
        "status": "success",
        **_tracking(body.get("tracking_info") or {}),
        "updated_at": stamp,
        "line_items": shipped,
    }
    order["fulfillments"].append(fulfillment)
    order["updated_at"] = stamp
    return fulfillment, order


def update_tracking(fulfillment: Json, order: Json, body: Mapping[str, Any], now: datetime) -> None:
    """Replace the tracking details of an existing fulfillment."""
    info = body.get("tracking_info")
    if not isinstance(info, Mapping):
        raise unprocessable("tracking_info", "must be present")
    if fulfillment["status"] != "success":
        raise unprocessable(
            "base", f"Cannot update tracking of a {fulfillment['status']} fulfillment."
        )
    fulfillment.update(_tracking(info))
    fulfillment["updated_at"] = order["updated_at"] = iso(now)


def cancel_fulfillment(
    fulfillment: Json, order: Json, fulfillment_orders: list[Json], now: datetime
) -> None:
    """Undo a fulfillment: its quantities become fulfillable again."""
    if fulfillment["status"] != "success":
        raise ApiError(422, {"base": [f"Fulfillment is already {fulfillment['status']}."]})
    line_by_id = {line["id"]: line for line in order["line_items"]}
    for entry in fulfillment["line_items"]:
        quantity = entry["quantity"]
        line_by_id[entry["id"]]["fulfillable_quantity"] += quantity
        for fo in fulfillment_orders:
            for item in fo["line_items"]:
                if item["line_item_id"] == entry["id"] and quantity:
                    back = min(quantity, item["quantity"] - item["fulfillable_quantity"])
                    item["fulfillable_quantity"] += back
                    quantity -= back
    for fo in fulfillment_orders:
        untouched = all(i["fulfillable_quantity"] == i["quantity"] for i in fo["line_items"])
        fo["status"] = "open" if untouched else "in_progress"
    fulfillment["status"] = "cancelled"
    _refresh_order_status(order)
    fulfillment["updated_at"] = order["updated_at"] = iso(now)


def close_fulfillment_orders(fulfillment_orders: list[Json], now: datetime) -> None:
    """A cancelled order's fulfillment orders close with nothing left to fulfil."""
    for fo in fulfillment_orders:
        if fo["status"] in FULFILLABLE:
            fo["status"] = "closed"
            for item in fo["line_items"]:
                item["fulfillable_quantity"] = 0
            fo["updated_at"] = iso(now)
