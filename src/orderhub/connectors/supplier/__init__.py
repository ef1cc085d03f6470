"""Drop-ship suppliers (一件代发) that implement the orderhub supplier API (JSON over HTTPS).

We publish this API for suppliers to implement; `docs/supplier-api.md` is the full text.

Hub → supplier, each request signed (see below):

* `POST {base_url}/purchase-orders` with a JSON PO: `po_number` (our order code and the
  idempotency key: a repeat answers 200 with the stored PO), `sales_order` {shop,
  platform, channel_order_id, placed_at, paid_at}, `ship_to` {name, phone, country,
  province, city, district, address, postcode}, `lines` [{line_no, sku, title, quantity,
  unit_price}], `currency`, `remark`, `buyer_remark`, `created_at`
  → 201 `{"po_number", "supplier_ref", "status": "received"}`.
* `POST {base_url}/purchase-orders/{po_number}/cancel` `{"reason"}` → 200
  `{"cancelled": true}`, or 409 `{"cancelled": false, "reason": "already shipped"}`.
* `GET {base_url}/stock?sku=A&sku=B` → `{"items": [{"sku", "available"}]}`.

Supplier → hub, POSTed to the hub's node callback URL and signed the same way:
`{"event": "acknowledged", "po_number", "at"}` and `{"event": "shipped", "po_number",
"shipment_id", "carrier", "tracking_no", "lines": [{line_no, sku, quantity}],
"shipped_at", "final"}`; the hub answers `{"ok": true}` and anything else (or a non-2xx
status) means "send it again".

Signing: headers `X-Orderhub-Supplier: <supplier id>`, `X-Orderhub-Timestamp: <unix
seconds>` and `X-Orderhub-Signature: base64(HMAC-SHA256(secret, timestamp + "." + raw
body))`; the receiver refuses a timestamp more than 300 s off its clock. Errors are
`{"error": {"code", "message"}}` with 4xx, 429 + Retry-After when throttled.

Returns are not part of the API: `create_return` raises `Rejected(code=
"returns_not_supported")` and a person arranges the return with the supplier.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx

from .supplier import ApiSupplier, SupplierSettings

__all__ = ["ApiSupplier", "SupplierSettings", "from_settings"]


def from_settings(
    settings: Mapping[str, Any], *, client: httpx.Client | None = None
) -> ApiSupplier:
    """Build the connector from a supplier's settings; ValueError names a missing key."""
    return ApiSupplier(settings, client=client)
