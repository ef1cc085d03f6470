"""WooCommerce's own strings: API root, statuses, topics, headers, meta keys, carriers.

Sources: woocommerce/woocommerce-rest-api-docs `source/includes/wp-api-v3/` (`_orders.md`,
`_order-notes.md`, `_order-refunds.md`, `_products.md`, `_product-variations.md`,
`_webhooks.md`, `_introduction.md`, `_authentication.md`); woocommerce/woocommerce
`includes/class-wc-webhook.php` (delivery headers, signature, delivery id) and
`includes/class-wc-rest-authentication.php` (Basic over HTTPS, OAuth 1.0a over HTTP);
the Shipment Tracking extension's REST docs for `_wc_shipment_tracking_items`.
"""

from __future__ import annotations

__all__ = [
    "API_ROOT",
    "CARRIERS",
    "DEFAULT_TOPICS",
    "HEADER_DELIVERY_ID",
    "HEADER_EVENT",
    "HEADER_RESOURCE",
    "HEADER_SIGNATURE",
    "HEADER_SOURCE",
    "HEADER_TOPIC",
    "HEADER_WEBHOOK_ID",
    "MAX_PER_PAGE",
    "META_PARCELS",
    "META_TRACKING",
    "PLATFORM",
    "STATUS_CANCELLED",
    "STATUS_COMPLETED",
    "STATUS_DONE",
    "TOPIC_ORDER_CREATED",
    "TOPIC_ORDER_UPDATED",
]

PLATFORM = "woocommerce"
API_ROOT = "/wp-json/wc/v3"
MAX_PER_PAGE = 100
"""WordPress caps `per_page` at 100 and answers more with 400 `rest_invalid_param`."""

STATUS_COMPLETED = "completed"
STATUS_CANCELLED = "cancelled"
# An order in one of these states takes no more shipments or cancellations.
STATUS_DONE = frozenset({"completed", "cancelled", "refunded", "trash"})

TOPIC_ORDER_CREATED = "order.created"
TOPIC_ORDER_UPDATED = "order.updated"
# `order.updated` fires on every save (payment, status, notes by the shop, refunds), so
# the two keep every order current; refunds are read from `/orders/{id}/refunds`.
DEFAULT_TOPICS = (TOPIC_ORDER_CREATED, TOPIC_ORDER_UPDATED)

HEADER_SOURCE = "x-wc-webhook-source"
HEADER_TOPIC = "x-wc-webhook-topic"
HEADER_RESOURCE = "x-wc-webhook-resource"
HEADER_EVENT = "x-wc-webhook-event"
HEADER_SIGNATURE = "x-wc-webhook-signature"
HEADER_WEBHOOK_ID = "x-wc-webhook-id"
HEADER_DELIVERY_ID = "x-wc-webhook-delivery-id"

META_TRACKING = "_wc_shipment_tracking_items"
"""The Shipment Tracking extension's order meta: a list of tracking items."""
META_PARCELS = "_orderhub_parcels"
"""The hub's own order meta: {tracking number: {line item id: units}} of each parcel, so a
split shipment completes the order only once every unit has left."""

# The hub's carrier codes (as warehouses report them) to the provider names the Shipment
# Tracking extension lists; any other carrier goes as a custom provider.
CARRIERS = {
    "UPS": "UPS",
    "USPS": "USPS",
    "FEDEX": "Fedex",
    "DHL": "DHL",
    "DHL_EXPRESS": "DHL",
    "SF": "SF Express",
    "SFEXPRESS": "SF Express",
    "EMS": "EMS",
    "CHINA_POST": "China Post",
    "YUNEXPRESS": "YunExpress",
    "4PX": "4PX",
}
