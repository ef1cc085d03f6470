"""The supplier API's own strings: paths, headers, events, statuses and error codes.

These are the names we publish in `docs/supplier-api.md`; a supplier implements them,
so changing one breaks every supplier that already did.
"""

from __future__ import annotations

from enum import StrEnum

__all__ = [
    "CANCEL_PATH",
    "CONTENT_TYPE",
    "DEFAULT_BATCH_SIZE",
    "HEADER_SIGNATURE",
    "HEADER_SUPPLIER",
    "HEADER_TIMESTAMP",
    "MAX_BATCH_SIZE",
    "MAX_SKEW_SECONDS",
    "PURCHASE_ORDERS_BATCH_PATH",
    "PURCHASE_ORDERS_PATH",
    "RETURNS_NOT_SUPPORTED",
    "STOCK_PATH",
    "BatchStatus",
    "ErrorCode",
    "Event",
    "PoStatus",
]

PURCHASE_ORDERS_PATH = "/purchase-orders"
PURCHASE_ORDERS_BATCH_PATH = "/purchase-orders/batch"
CANCEL_PATH = "/purchase-orders/{po_number}/cancel"
STOCK_PATH = "/stock"
CONTENT_TYPE = "application/json"

HEADER_SUPPLIER = "X-Orderhub-Supplier"
HEADER_TIMESTAMP = "X-Orderhub-Timestamp"
HEADER_SIGNATURE = "X-Orderhub-Signature"

MAX_SKEW_SECONDS = 300
"""A signed request whose timestamp is further than this from the receiver's clock is refused."""

MAX_BATCH_SIZE = 100
"""Most POs one `POST /purchase-orders/batch` may carry; a supplier may take fewer."""
DEFAULT_BATCH_SIZE = 50
"""POs per batch call when the node's settings name no `batch_size`."""

RETURNS_NOT_SUPPORTED = "returns_not_supported"
"""The `Rejected.code` of `create_return`: returns to a supplier are arranged by hand."""


class Event(StrEnum):
    """The `event` of a callback from the supplier to the hub."""

    ACKNOWLEDGED = "acknowledged"  # the supplier accepted the PO and will ship it
    SHIPPED = "shipped"  # a parcel left with a carrier and tracking number


class PoStatus(StrEnum):
    """Where a purchase order stands at the supplier."""

    RECEIVED = "received"  # stored, not yet looked at by a person
    ACKNOWLEDGED = "acknowledged"  # accepted; goods are being picked
    PARTLY_SHIPPED = "partly_shipped"  # some parcels left, more to come
    SHIPPED = "shipped"  # everything left
    CANCELLED = "cancelled"  # stopped before anything shipped


class BatchStatus(StrEnum):
    """The `status` of one PO's result in the answer to `POST /purchase-orders/batch`."""

    CREATED = "created"  # new, stored now (what a single create answers with 201)
    EXISTS = "exists"  # the po_number was known; nothing created (a single create's 200)
    REFUSED = "refused"  # not taken; `error` says why, as a single create's 4xx would


class ErrorCode(StrEnum):
    """`error.code` values of the supplier's JSON error body `{"error": {code, message}}`."""

    BAD_SIGNATURE = "bad_signature"  # 401: missing or wrong signature, or unknown supplier id
    STALE_TIMESTAMP = "stale_timestamp"  # 401: timestamp missing or beyond the allowed skew
    INVALID_REQUEST = "invalid_request"  # 400: not a valid PO (or batch); message names the field
    PO_NOT_FOUND = "po_not_found"  # 404: no PO with that number
    ALREADY_SHIPPED = "already_shipped"  # 409: a cancel came after the goods left
    RATE_LIMITED = "rate_limited"  # 429: slow down, see Retry-After
