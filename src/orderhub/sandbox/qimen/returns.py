"""The emulated WMS's returns desk: `returnorder.create` in, `returnorder.confirm` out.

Sources (platform-apis.md §8): bububa/opentaobao `metadata/assets/json/qimen/
taobao_qimen_returnorder_create.json` (returnOrder{returnOrderCode*, warehouseCode*,
orderType THRK|HHRK, preDeliveryOrderCode*, logisticsCode*, expressCode, senderInfo{name*,
mobile*, province*, city*, detailAddress*}}, orderLines{ownerCode*, itemCode*, planQty*};
reply `returnOrderId`) and `taobao_qimen_returnorder_confirm.json` (returnOrder{
returnOrderCode*, returnOrderId, warehouseCode*, outBizCode, orderType, orderConfirmTime,
logisticsCode*, expressCode}, orderLines{orderLineNo, itemCode*, inventoryType ZP|CC|JS|XS,
planQty*, actualQty*, batchs[]}).

Choices where the standard is silent: a return is accepted only for an outbound order
this warehouse shipped (`ORDER_NOT_FOUND`, `ORDER_NOT_SHIPPED`), for SKUs and at most the
quantities that left with it (`INVALID_FIELD`); a line received partly defective is
confirmed as two `<orderLine>`s with the same `orderLineNo`, one ZP and one CC. Good units
go back into sellable (ZP) stock, defective ones into CC stock.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timezone
from typing import Any

from .callbacks import to_xml, wire_time
from .state import (
    DELIVERED,
    INVALID_FIELD,
    MISSING_FIELD,
    ORDER_NOT_FOUND,
    WmsFailure,
    WmsState,
)

__all__ = [
    "ORDER_NOT_SHIPPED",
    "RETURN_CONFIRM_METHOD",
    "ReturnDesk",
    "WmsReturn",
    "WmsReturnLine",
]

ORDER_NOT_SHIPPED = "ORDER_NOT_SHIPPED"
RETURN_CONFIRM_METHOD = "returnorder.confirm"
ACCEPT, FULFILLED = "ACCEPT", "FULFILLED"
GOOD_TYPE, DEFECTIVE_TYPE = "ZP", "CC"


@dataclass
class WmsReturnLine:
    """One announced return line and, once received, how many units came back how."""

    line_no: str
    item_code: str
    owner_code: str
    plan_qty: int
    good_qty: int = 0
    defective_qty: int = 0


@dataclass
class WmsReturn:
    """A return order inside the warehouse, from announcement to receipt."""

    code: str
    return_order_id: str
    pre_code: str
    order_type: str
    lines: list[WmsReturnLine]
    logistics_code: str
    express_code: str
    reason: str
    created_at: datetime
    receive_at: float | None
    status: str = ACCEPT
    received_at: datetime | None = None

    def snapshot(self) -> dict[str, Any]:
        """JSON-ready view for the control endpoints."""
        return {
            "code": self.code,
            "return_order_id": self.return_order_id,
            "pre_delivery_order_code": self.pre_code,
            "order_type": self.order_type,
            "status": self.status,
            "logistics_code": self.logistics_code,
            "express_code": self.express_code,
            "reason": self.reason,
            "created_at": self.created_at.isoformat(),
            "received_at": self.received_at.isoformat() if self.received_at else None,
            "lines": [
                {
                    "line_no": ln.line_no,
                    "item_code": ln.item_code,
                    "plan_qty": ln.plan_qty,
                    "good_qty": ln.good_qty,
                    "defective_qty": ln.defective_qty,
                }
                for ln in self.lines
            ],
        }


def _text(data: Mapping[str, Any], key: str) -> str:
    value = data.get(key)
    return value.strip() if isinstance(value, str) else ""


def _required(data: Mapping[str, Any], key: str, path: str) -> str:
    value = _text(data, key)
    if not value:
        raise WmsFailure(MISSING_FIELD, f"{path}{key} is required")
    return value


def _rows(value: Any) -> list[Mapping[str, Any]]:
    items = value if isinstance(value, list) else [value]
    return [item for item in items if isinstance(item, Mapping)]


class ReturnDesk:
    """Return orders of one emulated warehouse; shares the warehouse's lock and stock."""

    def __init__(
        self,
        state: WmsState,
        *,
        return_delay: float,
        defective_ratio: float = 0.0,
        seed: int | None = None,
        clock: Callable[[], float] | None = None,
    ) -> None:
        self.state = state
        self.return_delay = return_delay
        self.defective_ratio = defective_ratio
        self.clock = clock or state.clock
        self.returns: dict[str, WmsReturn] = {}
        self.defective_plan: dict[str, int] = {}
        self.create_calls = 0
        self.duplicate_creates = 0
        self._rng = random.Random(seed)
        self._seq = 0

    def create(self, request: Mapping[str, Any]) -> tuple[WmsReturn, bool]:
        """Accept a return order; a known code returns the existing one and False."""
        with self.state.lock:
            self.create_calls += 1
            head = request.get("returnOrder")
            if not isinstance(head, Mapping):
                raise WmsFailure(MISSING_FIELD, "returnOrder is required")
            path = "returnOrder."
            code = _required(head, "returnOrderCode", path)
            warehouse = _required(head, "warehouseCode", path)
            if warehouse != self.state.warehouse_code:
                raise WmsFailure(
                    "INVALID_WAREHOUSE", f"warehouseCode {warehouse} is not this warehouse's code"
                )
            pre_code = _required(head, "preDeliveryOrderCode", path)
            logistics = _required(head, "logisticsCode", path)
            sender = head.get("senderInfo")
            if isinstance(sender, Mapping):
                for key in ("name", "mobile", "province", "city", "detailAddress"):
                    _required(sender, key, "returnOrder.senderInfo.")
            lines = self._lines(request.get("orderLines"))
            existing = self.returns.get(code)
            if existing is not None:
                self.duplicate_creates += 1
                return existing, False
            self._check_shipped(pre_code, lines)
            self._seq += 1
            delay = self.return_delay
            ret = WmsReturn(
                code=code,
                return_order_id=f"RO{self._seq:010d}",
                pre_code=pre_code,
                order_type=_text(head, "orderType") or "THRK",
                lines=lines,
                logistics_code=logistics,
                express_code=_text(head, "expressCode"),
                reason=_text(head, "returnReason"),
                created_at=datetime.now(UTC),
                receive_at=self.clock() + delay if delay > 0 else None,
            )
            self.returns[code] = ret
            return ret, True

    def mark_defective(self, sku: str, quantity: int) -> dict[str, int]:
        """The next `quantity` units of `sku` to arrive are defective; the plan so far."""
        with self.state.lock:
            if quantity < 0:
                raise ValueError("quantity must not be negative")
            self.defective_plan[sku] = self.defective_plan.get(sku, 0) + quantity
            return dict(self.defective_plan)

    def due(self) -> list[str]:
        """Codes of announced returns whose parcel has arrived by now."""
        now = self.clock()
        with self.state.lock:
            return [
                r.code
                for r in self.returns.values()
                if r.status == ACCEPT and r.receive_at is not None and r.receive_at <= now
            ]

    def receive(self, code: str, *, zone: timezone) -> tuple[WmsReturn, bytes] | None:
        """Check the goods in and build the confirm body; None when already received."""
        with self.state.lock:
            ret = self.returns.get(code)
            if ret is None:
                raise WmsFailure(ORDER_NOT_FOUND, f"return order {code} is not known")
            if ret.status != ACCEPT:
                return None
            for line in ret.lines:
                defective = self._defective_units(line.item_code, line.plan_qty)
                line.defective_qty = defective
                line.good_qty = line.plan_qty - defective
                sku = line.item_code
                self.state.on_hand[sku] = self.state.on_hand.get(sku, 0) + line.good_qty
                self.state.defective[sku] = self.state.defective.get(sku, 0) + defective
            ret.status = FULFILLED
            ret.received_at = datetime.now(UTC)
            ret.receive_at = None
            return ret, self.confirm_body(ret, zone=zone)

    def confirm_body(self, ret: WmsReturn, *, zone: timezone) -> bytes:
        """The `returnorder.confirm` request for a received return."""
        received = wire_time(ret.received_at or datetime.now(UTC), zone)
        rows: list[dict[str, Any]] = []
        for line in ret.lines:
            parts = [(GOOD_TYPE, line.good_qty), (DEFECTIVE_TYPE, line.defective_qty)]
            kept = [(kind, qty) for kind, qty in parts if qty > 0] or [(GOOD_TYPE, 0)]
            for kind, qty in kept:
                rows.append(
                    {
                        "orderLineNo": line.line_no,
                        "ownerCode": line.owner_code,
                        "itemCode": line.item_code,
                        "inventoryType": kind,
                        "planQty": line.plan_qty,
                        "actualQty": qty,
                    }
                )
        return to_xml(
            {
                "returnOrder": {
                    "returnOrderCode": ret.code,
                    "returnOrderId": ret.return_order_id,
                    "warehouseCode": self.state.warehouse_code,
                    "outBizCode": self.out_biz_code(ret),
                    "orderType": ret.order_type,
                    "orderConfirmTime": received,
                    "logisticsCode": ret.logistics_code,
                    "expressCode": ret.express_code,
                    "returnReason": ret.reason,
                },
                "orderLines": rows,
            }
        )

    @staticmethod
    def out_biz_code(ret: WmsReturn) -> str:
        """The confirm's de-duplication id: the same on every delivery of one receipt."""
        return "RT" + ret.return_order_id

    def stats(self) -> dict[str, Any]:
        """Counters the tests and the demo read back."""
        with self.state.lock:
            statuses = [r.status for r in self.returns.values()]
            return {
                "return_create_calls": self.create_calls,
                "distinct_returns": len(self.returns),
                "duplicate_return_creates": self.duplicate_creates,
                "returns_received": statuses.count(FULFILLED),
                "defective_plan": dict(self.defective_plan),
                "defective_ratio": self.defective_ratio,
            }

    def _defective_units(self, sku: str, units: int) -> int:
        planned = min(self.defective_plan.get(sku, 0), units)
        if planned:
            self.defective_plan[sku] -= planned
            if not self.defective_plan[sku]:
                del self.defective_plan[sku]
        ratio = self.defective_ratio
        drawn = sum(1 for _ in range(units - planned) if ratio > 0 and self._rng.random() < ratio)
        return planned + drawn

    def _lines(self, value: Any) -> list[WmsReturnLine]:
        rows = _rows(value)
        if not rows:
            raise WmsFailure(MISSING_FIELD, "orderLines.orderLine is required")
        lines = []
        for number, row in enumerate(rows, start=1):
            path = f"orderLines.orderLine[{number}]."
            sku = _required(row, "itemCode", path)
            owner = _required(row, "ownerCode", path)
            raw_qty = _required(row, "planQty", path)
            if not raw_qty.isdigit() or int(raw_qty) <= 0:
                raise WmsFailure(INVALID_FIELD, f"{path}planQty must be a positive whole number")
            line_no = _text(row, "orderLineNo") or str(number)
            lines.append(WmsReturnLine(line_no, sku, owner, int(raw_qty)))
        return lines

    def _check_shipped(self, pre_code: str, lines: list[WmsReturnLine]) -> None:
        original = self.state.orders.get(pre_code)
        if original is None:
            raise WmsFailure(
                ORDER_NOT_FOUND, f"preDeliveryOrderCode {pre_code} is not known to this warehouse"
            )
        if original.status != DELIVERED:
            raise WmsFailure(
                ORDER_NOT_SHIPPED,
                f"preDeliveryOrderCode {pre_code} has not shipped (status {original.status})",
            )
        shipped: dict[str, int] = {}
        for out in original.lines:
            shipped[out.item_code] = shipped.get(out.item_code, 0) + out.actual_qty
        wanted: dict[str, int] = {}
        for line in lines:
            wanted[line.item_code] = wanted.get(line.item_code, 0) + line.plan_qty
        for sku, quantity in wanted.items():
            if sku not in shipped:
                raise WmsFailure(
                    INVALID_FIELD, f"itemCode {sku} did not ship with order {pre_code}"
                )
            if quantity > shipped[sku]:
                raise WmsFailure(
                    INVALID_FIELD,
                    f"planQty {quantity} of {sku} exceeds the {shipped[sku]} shipped "
                    f"with order {pre_code}",
                )
