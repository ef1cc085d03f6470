"""Shopify's own strings: API version, topics, header names, status values, carriers,
and the GraphQL Admin API document and codes the stock push uses."""

from __future__ import annotations

__all__ = [
    "API_VERSION",
    "CARRIER_NAMES",
    "DEFAULT_TOPICS",
    "FINANCIAL_STATUSES",
    "FULFILLABLE_ORDER_STATUSES",
    "GRAPHQL_INTERNAL_ERROR",
    "GRAPHQL_PATH",
    "GRAPHQL_THROTTLED",
    "HANDLED_TOPICS",
    "HEADER_ACCESS_TOKEN",
    "HEADER_CALL_LIMIT",
    "HEADER_PREFIXES",
    "INVALID_INVENTORY_ITEM",
    "LIVE_FULFILLMENT_STATUSES",
    "MAX_PAGE_SIZE",
    "ORDER_STATUS_ANY",
    "PLATFORM",
    "QUANTITY_AVAILABLE",
    "REASON_CORRECTION",
    "REFUND_FAILED_STATUSES",
    "REFUND_TRANSACTION_KIND",
    "RESTOCK_TYPES_GOODS_BACK",
    "SET_QUANTITIES",
    "STOCK_BATCH",
    "TOPIC_APP_UNINSTALLED",
    "TOPIC_INVENTORY_LEVELS_UPDATE",
    "TOPIC_ORDERS_CANCELLED",
    "TOPIC_ORDERS_CREATE",
    "TOPIC_ORDERS_FULFILLED",
    "TOPIC_ORDERS_PAID",
    "TOPIC_ORDERS_UPDATED",
    "TOPIC_REFUNDS_CREATE",
    "WEBHOOK_EVENT_ID",
    "WEBHOOK_HMAC",
    "WEBHOOK_SHOP_DOMAIN",
    "WEBHOOK_TOPIC",
    "WEBHOOK_TRIGGERED_AT",
    "WEBHOOK_WEBHOOK_ID",
]

PLATFORM = "shopify"
API_VERSION = "2025-07"
MAX_PAGE_SIZE = 250
ORDER_STATUS_ANY = "any"

# GraphQL Admin API. Every input array takes at most 250 items, so one
# inventorySetQuantities call sets at most 250 figures.
GRAPHQL_PATH = "graphql.json"
STOCK_BATCH = 250
QUANTITY_AVAILABLE = "available"
REASON_CORRECTION = "correction"
SET_QUANTITIES = (
    "mutation SetStock($input: InventorySetQuantitiesInput!) {"
    " inventorySetQuantities(input: $input) { userErrors { code field message } } }"
)
GRAPHQL_THROTTLED = "THROTTLED"
GRAPHQL_INTERNAL_ERROR = "INTERNAL_SERVER_ERROR"
INVALID_INVENTORY_ITEM = "INVALID_INVENTORY_ITEM"

TOPIC_ORDERS_CREATE = "orders/create"
TOPIC_ORDERS_UPDATED = "orders/updated"
TOPIC_ORDERS_PAID = "orders/paid"
TOPIC_ORDERS_CANCELLED = "orders/cancelled"
TOPIC_ORDERS_FULFILLED = "orders/fulfilled"
TOPIC_INVENTORY_LEVELS_UPDATE = "inventory_levels/update"
TOPIC_APP_UNINSTALLED = "app/uninstalled"
TOPIC_REFUNDS_CREATE = "refunds/create"
# orders/updated also fires for payment, fulfilment and cancellation, so these three
# are enough to keep every order current; the narrower topics only add duplicates.
# refunds/create is the only topic that says which lines came back and whether they
# are restocked, which an order payload alone does not.
DEFAULT_TOPICS = (
    TOPIC_ORDERS_CREATE,
    TOPIC_ORDERS_UPDATED,
    TOPIC_ORDERS_CANCELLED,
    TOPIC_REFUNDS_CREATE,
)

# Every topic whose payload is an order or a refund: the hub processes these, and keeps
# any other topic a shop sends without acting on it.
HANDLED_TOPICS = frozenset(
    {
        TOPIC_ORDERS_CREATE,
        TOPIC_ORDERS_UPDATED,
        TOPIC_ORDERS_PAID,
        TOPIC_ORDERS_CANCELLED,
        TOPIC_ORDERS_FULFILLED,
        TOPIC_REFUNDS_CREATE,
    }
)

HEADER_ACCESS_TOKEN = "X-Shopify-Access-Token"
HEADER_CALL_LIMIT = "X-Shopify-Shop-Api-Call-Limit"
# Webhook header names without their prefix; Shopify's libraries accept both
# "X-Shopify-" and "Shopify-" in any letter case.
HEADER_PREFIXES = ("x-shopify-", "shopify-")
WEBHOOK_HMAC = "hmac-sha256"
WEBHOOK_TOPIC = "topic"
WEBHOOK_WEBHOOK_ID = "webhook-id"
WEBHOOK_EVENT_ID = "event-id"
WEBHOOK_SHOP_DOMAIN = "shop-domain"
WEBHOOK_TRIGGERED_AT = "triggered-at"

FINANCIAL_STATUSES = frozenset(
    {"pending", "authorized", "partially_paid", "paid", "partially_refunded", "refunded", "voided"}
)
# Refund line `restock_type`s (no_restock, cancel, return, legacy_restock) that mean goods
# come back from the buyer. `cancel` restocks units that never shipped; `legacy_restock`
# (no longer accepted on create) does not say whether the units had shipped, so it is
# left out until a shop shows otherwise.
RESTOCK_TYPES_GOODS_BACK = frozenset({"return"})
# Only refund transactions move money back; failed ones moved nothing.
REFUND_TRANSACTION_KIND = "refund"
REFUND_FAILED_STATUSES = frozenset({"failure", "error"})

# Fulfillment orders in these states still accept fulfillments.
FULFILLABLE_ORDER_STATUSES = frozenset({"open", "in_progress"})
# Fulfillments in these states count as shipped (cancelled/error/failure do not).
LIVE_FULFILLMENT_STATUSES = frozenset({"pending", "open", "success"})

# Shopify builds tracking links only for carriers spelled as in its list, so common
# short codes are translated; any other name is sent as given.
CARRIER_NAMES = {
    "UPS": "UPS",
    "USPS": "USPS",
    "FEDEX": "FedEx",
    "DHL": "DHL Express",
    "DHL_EXPRESS": "DHL Express",
    "SF": "SF Express",
    "SFEXPRESS": "SF Express",
    "SF_EXPRESS": "SF Express",
    "YTO": "YTO Express",
    "ZTO": "ZTO Express",
    "STO": "STO Express",
    "YUNDA": "Yunda Express",
    "JD": "JD Logistics",
    "EMS": "China EMS",
    "CHINA_POST": "China Post",
    "YUNEXPRESS": "YunExpress",
    "4PX": "4PX",
    "CAINIAO": "Cainiao",
}


EVENT_STATUSES = {
    "info_received": "label_purchased",
    "in_transit": "in_transit",
    "out_for_delivery": "out_for_delivery",
    "failed_attempt": "attempted_delivery",
    "available_for_pickup": "ready_for_pickup",
    "delivered": "delivered",
    "exception": "failure",
}
"""A parcel's status (ours) → Shopify's fulfillment event status; pending and returned
have no event (a parcel sent back is a return, which Shopify learns from the refund)."""
