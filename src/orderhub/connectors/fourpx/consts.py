"""4PX 递四方 strings: methods, outbound statuses, error codes and paging limits.

Sources: peers-and-apis.md §5.5; the public SDKs and a recorded getlist answer (see the
emulator's docstring, `orderhub.sandbox.fourpx.emulator`). What they do not settle is a
setting of the warehouse, with the defaults here marked UNCONFIRMED.
"""

from __future__ import annotations

from enum import StrEnum

__all__ = [
    "CANCELLED",
    "CANCEL_TYPE",
    "CARRIER",
    "CONSIGNMENT_TYPE",
    "DUPLICATE_REF_CODES",
    "GATEWAY",
    "GFN_GATEWAY",
    "PAGE_SIZE",
    "PATH",
    "POLL_DAYS",
    "RATE_LIMITED_CODES",
    "REPEAT_CANCEL_CODES",
    "RETRYABLE_CODES",
    "SALES_PLATFORMS",
    "SHIPPED",
    "SHIPPED_CODES",
    "SKU_BATCH",
    "STOCK_QUALITY",
    "VERSION",
    "Method",
]


class Method(StrEnum):
    CREATE = "fu.wms.outbound.create"
    CANCEL = "fu.wms.outbound.cancel"
    LIST = "fu.wms.outbound.getlist"
    INVENTORY = "fu.wms.inventory.get"


GATEWAY = "https://open.4px.com"
GFN_GATEWAY = "https://open.gfn.cainiao.com"
"""菜鸟 GFN, which the fop-sdk readme says serves the same methods (setting `gateway`)."""
PATH = "/router/api/service"
VERSION = "1.0.0"
"""`v` of the warehouse methods in the PHP SDK (setting `version`)."""

SHIPPED = "C"
"""已出库: every parcel has left."""
CANCELLED = "X"
"""已取消."""
CONSIGNMENT_TYPE = "S"
"""标准出库: a sale, which takes only good stock (`stock_quality` G)."""
STOCK_QUALITY = "G"
CANCEL_TYPE = "OT"
"""其它原因, which lets `cancel_remark` carry our reason (setting `cancel_type`)."""

DUPLICATE_REF_CODES = frozenset({"ERR_REF_NO_EXIST"})
"""The create refusal for a ref_no used before (UNCONFIRMED; setting `duplicate_ref_codes`):
the consignment is then looked up by ref_no and taken as ours."""
SHIPPED_CODES = frozenset({"ERR_OUTBOUND_CONSIGNMENT_SHIPPED"})
"""Cancel refused because the consignment left: an answer, not an error."""
REPEAT_CANCEL_CODES = frozenset({"ERR_OUTBOUND_CONSIGNMENT_REPEAT_CANCEL"})
"""Cancel of a consignment cancelled already: it is stopped, as asked."""
RATE_LIMITED_CODES = frozenset({"REQUEST_LIMIT"})
RETRYABLE_CODES = frozenset({"SYSTEM_ERROR"})
"""The gateway's throttling and own-failure codes (UNCONFIRMED)."""

PAGE_SIZE = 500
"""Most rows of getlist and inventory.get per page."""
SKU_BATCH = 100
"""Most SKUs one inventory.get names."""
POLL_DAYS = 30
"""getlist's longest create-time range (setting `poll_days`)."""

CARRIER = "4PX"
"""The hub's carrier code for a parcel whose logistics product the `carriers` setting
does not name; 4PX gives no carrier field (UNCONFIRMED)."""
SALES_PLATFORMS = {"aliexpress": "AE", "wish": "WS", "ebay": "EB", "amazon": "AM", "jd": "JD"}
"""The hub's platform → `sales_platform`, from the SDK's list; others are left out."""
