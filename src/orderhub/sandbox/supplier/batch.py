"""`POST /purchase-orders/batch`: many purchase orders in one signed call, each answered
on its own, as `docs/supplier-api.md` publishes it.

The body is `{"purchase_orders": [<PO>, …]}`, each PO as `POST /purchase-orders` takes
it. A batch that is not a non-empty list, or holds more POs than this supplier's
`batch_limit`, is refused whole (400 `invalid_request`) and nothing is stored. Otherwise
every PO goes through the single create's checks and the answer lists one result per PO
in the order sent: `created` (with `supplier_ref`), `exists` (the po_number was known;
nothing created) or `refused` with the `error` the single create would have answered.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .state import SupplierFailure, SupplierState

__all__ = ["CREATED", "EXISTS", "REFUSED", "BatchDesk"]

CREATED, EXISTS, REFUSED = "created", "exists", "refused"


def _invalid(message: str) -> SupplierFailure:
    return SupplierFailure(400, "invalid_request", message)


class BatchDesk:
    """Takes batches of POs into the supplier's books and counts their sizes."""

    def __init__(self, state: SupplierState, *, limit: int) -> None:
        self.state = state
        self.limit = limit
        self.sizes: list[int] = []

    def take(self, data: Mapping[str, Any]) -> list[dict[str, Any]]:
        """One result per PO, in order; SupplierFailure when the batch is refused whole."""
        given = data.get("purchase_orders")
        if not isinstance(given, list) or not given:
            raise _invalid("purchase_orders must be a non-empty list")
        if len(given) > self.limit:
            raise _invalid(
                f"purchase_orders holds {len(given)} purchase orders; at most {self.limit} per call"
            )
        with self.state.lock:
            self.sizes.append(len(given))
            return [self._one(index, po) for index, po in enumerate(given)]

    def stats(self) -> dict[str, Any]:
        """Batch calls taken (a batch refused whole is not one) and their sizes."""
        with self.state.lock:
            return {"batch_calls": len(self.sizes), "batch_sizes": list(self.sizes)}

    def _one(self, index: int, po: Any) -> dict[str, Any]:
        if not isinstance(po, Mapping):
            failure = _invalid(f"purchase_orders[{index}] must be an object")
            return {"po_number": "", **_refusal(failure)}
        number = po.get("po_number")
        try:
            order, new = self.state.create(po)
        except SupplierFailure as exc:
            return {"po_number": "" if number is None else str(number).strip(), **_refusal(exc)}
        return {
            "po_number": order.po_number,
            "status": CREATED if new else EXISTS,
            "supplier_ref": order.supplier_ref,
        }


def _refusal(failure: SupplierFailure) -> dict[str, Any]:
    return {"status": REFUSED, "error": {"code": failure.code, "message": failure.message}}
