"""`inventorySetQuantities` of the GraphQL Admin API (2025-07) over the emulated shop.

Shopify checks the whole input before it changes anything: one user error refuses the
whole mutation, and every error found is reported at once, each with `field`, the path
to the input that caused it (`["input", "quantities", "0", "inventoryItemId"]`). The
codes and messages are those of `InventorySetQuantitiesUserErrorCode`. Without
`ignoreCompareQuantity: true` every quantity needs `compareQuantity`, the figure the
caller believes is current; a mismatch is `COMPARE_QUANTITY_STALE`.

The emulator keeps one figure per level, so `on_hand` sets the same figure as
`available`, and a change is reported under both names, as Shopify reports a set of
`available` (on hand moves with it). Negative figures are refused for `on_hand` only.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from orderhub.sandbox.shopify.catalog import Catalog
from orderhub.sandbox.shopify.common import Json, gid, parse_gid
from orderhub.sandbox.shopify.state import ShopState

__all__ = [
    "ERROR_CODES",
    "QUANTITY_NAMES",
    "REASONS",
    "item_node",
    "location_node",
    "set_quantities",
]

QUANTITY_NAMES = ("available", "on_hand")
# Shopify's adjustment reasons (inventory quantities and states guide): correction,
# cycle_count_available, damaged, other, promotion, received, restock and shrinkage are
# documented; the movement_*, reservation_*, quality_control and safety_stock values are
# UNCONFIRMED.
REASONS = frozenset(
    {
        "correction",
        "cycle_count_available",
        "damaged",
        "movement_canceled",
        "movement_created",
        "movement_received",
        "movement_updated",
        "other",
        "promotion",
        "quality_control",
        "received",
        "reservation_created",
        "reservation_deleted",
        "reservation_updated",
        "restock",
        "safety_stock",
        "shrinkage",
    }
)
LIMIT = 1_000_000_000
# InventorySetQuantitiesUserErrorCode (2025-07) and each value's documented description.
ERROR_CODES = {
    "COMPARE_QUANTITY_REQUIRED": (
        "The compareQuantity argument must be given to each quantity or ignored using "
        "ignoreCompareQuantity."
    ),
    "COMPARE_QUANTITY_STALE": "The compareQuantity value does not match persisted value.",
    "INVALID_INVENTORY_ITEM": "The specified inventory item could not be found.",
    "INVALID_LOCATION": "The specified location could not be found.",
    "INVALID_NAME": "The quantity name must be either 'available' or 'on_hand'.",
    "INVALID_QUANTITY_NEGATIVE": "The quantity can't be negative.",
    "INVALID_QUANTITY_TOO_HIGH": "The total quantity can't be higher than 1,000,000,000.",
    "INVALID_QUANTITY_TOO_LOW": "The total quantity can't be lower than -1,000,000,000.",
    "INVALID_REASON": "The specified reason is invalid.",
    "INVALID_REFERENCE_DOCUMENT": "The specified reference document is invalid.",
    "ITEM_NOT_STOCKED_AT_LOCATION": (
        "The specified inventory item is not stocked at the location."
    ),
    "NON_MUTABLE_INVENTORY_ITEM": (
        "The specified inventory item is not allowed to be adjusted via API."
    ),
    "NO_DUPLICATE_INVENTORY_ITEM_ID_GROUP_ID_PAIR": (
        "The combination of inventoryItemId and locationId must be unique."
    ),
}

Plan = list[tuple[int, int, int]]


def _error(code: str, *field: str) -> Json:
    return {"code": code, "field": list(field), "message": ERROR_CODES[code]}


def item_node(catalog: Catalog, item_id: int) -> Json | None:
    """An InventoryItem as GraphQL shows it, or None when the shop has no such item."""
    item = catalog.inventory_items.get(item_id)
    if item is None:
        return None
    return {"id": gid("InventoryItem", item_id), "sku": item["sku"] or None}


def location_node(catalog: Catalog, location_id: int) -> Json | None:
    """A Location as GraphQL shows it, or None when the shop has no such location."""
    location = catalog.locations.get(location_id)
    if location is None:
        return None
    return {"id": gid("Location", location_id), "name": location["name"]}


def _check_quantity(
    catalog: Catalog, index: int, row: Mapping[str, Any], *, name: str, compare: bool
) -> tuple[list[Json], tuple[int, int, int] | None]:
    """The user errors of one quantity, and (location, item, figure) when it has none."""
    path = ("input", "quantities", str(index))
    errors: list[Json] = []
    item_id = parse_gid(row["inventoryItemId"], "InventoryItem")
    location_id = parse_gid(row["locationId"], "Location")
    quantity = int(row["quantity"])
    if item_id is None or item_id not in catalog.inventory_items:
        errors.append(_error("INVALID_INVENTORY_ITEM", *path, "inventoryItemId"))
    if location_id is None or location_id not in catalog.locations:
        errors.append(_error("INVALID_LOCATION", *path, "locationId"))
    if quantity > LIMIT:
        errors.append(_error("INVALID_QUANTITY_TOO_HIGH", *path, "quantity"))
    elif quantity < -LIMIT:
        errors.append(_error("INVALID_QUANTITY_TOO_LOW", *path, "quantity"))
    elif quantity < 0 and name == "on_hand":
        errors.append(_error("INVALID_QUANTITY_NEGATIVE", *path, "quantity"))
    if errors or item_id is None or location_id is None:
        return errors, None
    level = catalog.levels.get((item_id, location_id))
    if level is None:
        return [_error("ITEM_NOT_STOCKED_AT_LOCATION", *path, "locationId")], None
    if compare:
        expected = row.get("compareQuantity")
        if expected is None:
            return [_error("COMPARE_QUANTITY_REQUIRED", *path, "compareQuantity")], None
        if int(expected) != int(level["available"]):
            return [_error("COMPARE_QUANTITY_STALE", *path, "compareQuantity")], None
    return [], (location_id, item_id, quantity)


def _check(catalog: Catalog, data: Mapping[str, Any]) -> tuple[list[Json], Plan]:
    """Every user error of the input, and the levels to set when there is none."""
    errors: list[Json] = []
    name = str(data["name"])
    if name not in QUANTITY_NAMES:
        errors.append(_error("INVALID_NAME", "input", "name"))
    if str(data["reason"]) not in REASONS:
        errors.append(_error("INVALID_REASON", "input", "reason"))
    compare = not data.get("ignoreCompareQuantity")
    plan: Plan = []
    seen: set[tuple[int, int]] = set()
    for index, row in enumerate(data["quantities"]):
        found, planned = _check_quantity(catalog, index, row, name=name, compare=compare)
        errors.extend(found)
        if planned is None:
            continue
        pair = (planned[0], planned[1])
        if pair in seen:
            field = ("input", "quantities", str(index), "locationId")
            errors.append(_error("NO_DUPLICATE_INVENTORY_ITEM_ID_GROUP_ID_PAIR", *field))
        seen.add(pair)
        plan.append(planned)
    return errors, plan


def _changes(catalog: Catalog, plan: Plan, before: Sequence[int]) -> list[Json]:
    """One change per level and quantity name, with the ids the `changes` filters read."""
    changes: list[Json] = []
    for (location_id, item_id, quantity), old in zip(plan, before, strict=True):
        for name in QUANTITY_NAMES:
            changes.append(
                {
                    "name": name,
                    "delta": quantity - old,
                    "quantityAfterChange": quantity,
                    "item": item_node(catalog, item_id),
                    "location": location_node(catalog, location_id),
                }
            )
    return changes


def _group(state: ShopState, data: Mapping[str, Any], changes: list[Json]) -> Json:
    """The InventoryAdjustmentGroup of a mutation; `changes` takes Shopify's filters."""

    def filtered(info: Any, **filters: Any) -> list[Json]:
        items = filters.get("inventoryItemIds")
        locations = filters.get("locationIds")
        names = filters.get("quantityNames")
        return [
            change
            for change in changes
            if (items is None or change["item"]["id"] in items)
            and (locations is None or change["location"]["id"] in locations)
            and (names is None or change["name"] in names)
        ]

    return {
        "id": gid("InventoryAdjustmentGroup", state.next_id()),
        "createdAt": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "reason": data["reason"],
        "referenceDocumentUri": data.get("referenceDocumentUri"),
        "changes": filtered,
    }


def set_quantities(state: ShopState, data: Mapping[str, Any]) -> Json:
    """The mutation's payload: the user errors with nothing changed, or the levels set
    through `ShopState.set_inventory_quantities` and the adjustment group recording them.

    The check and the change happen under the shop's lock, so a compareQuantity is
    compared with the figure the change replaces."""
    with state.lock:
        errors, plan = _check(state.catalog, data)
        if errors:
            return {"inventoryAdjustmentGroup": None, "userErrors": errors}
        before = [int(state.catalog.levels[(item, loc)]["available"]) for loc, item, _ in plan]
        state.set_inventory_quantities(plan)
        changes = _changes(state.catalog, plan, before)
        return {"inventoryAdjustmentGroup": _group(state, data, changes), "userErrors": []}
