"""A supplier without an API, reached through sheets a person sends and receives.

Nothing here does I/O. `create_outbound` only confirms the PO number: the hub keeps the
PO until a person exports it with `export_purchase_orders`, and the filled sheet comes
back through `parse_shipment_file`. Cancelling is therefore the hub's decision on its
own books: before export the PO simply is not sent (this connector answers cancelled),
after export a person has to call the supplier. There are no callbacks and no stock feed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ..base import (
    CancelResult,
    InventoryLevel,
    NodeEvent,
    OutboundOrder,
    OutboundReceipt,
    Rejected,
    ReturnOrder,
)
from .consts import NOT_EXPORTED_REASON, RETURNS_NOT_SUPPORTED

__all__ = ["FileSupplier"]


class FileSupplier:
    """A NodeConnector whose "wire" is a CSV/xlsx sheet handled by people."""

    platform = "supplier_file"

    def __init__(self, settings: Mapping[str, Any] | None = None) -> None:
        self.settings = dict(settings or {})

    def create_outbound(self, order: OutboundOrder) -> OutboundReceipt:
        """Accept the PO for the next export; its external id is the PO number."""
        return OutboundReceipt(external_id=order.code)

    def cancel_outbound(self, *, code: str, reason: str) -> CancelResult:
        """Always cancelled: the hub only asks while the PO is unexported (see module doc)."""
        return CancelResult(cancelled=True, reason=NOT_EXPORTED_REASON)

    def create_return(self, order: ReturnOrder) -> OutboundReceipt:
        """Always refused: returns to a file supplier are arranged by a person."""
        raise Rejected(
            f"return {order.code}: a file supplier takes returns by hand",
            code=RETURNS_NOT_SUPPORTED,
        )

    def query_inventory(self, skus: Sequence[str]) -> list[InventoryLevel]:
        """No count at all (not zeros): a file supplier reports no stock to reconcile."""
        return []

    def verify_callback(self, query: Mapping[str, str], body: bytes) -> bool:
        """False: a file supplier never calls back, so nothing can be trusted as one."""
        return False

    def parse_callback(self, query: Mapping[str, str], body: bytes) -> NodeEvent:
        """Raises ValueError: shipments arrive as sheets through `parse_shipment_file`."""
        raise ValueError("a file supplier sends no callbacks; import its shipment sheet instead")

    def callback_reply(self, *, ok: bool, message: str = "") -> tuple[bytes, str]:
        """A plain-text answer, for completeness; no caller expects one."""
        return (message or ("ok" if ok else "error")).encode("utf-8"), "text/plain; charset=utf-8"

    def close(self) -> None:
        """Nothing to release."""
