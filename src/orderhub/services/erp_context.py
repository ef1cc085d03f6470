"""What the ERP mapping reads: each document's context, built from the hub's records.

The context carries no personal data (no receiver, no buyer): an ERP's books need the
customer per shop, the goods, the prices, the warehouse and the tracking number, and
nothing that names a person.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from orderhub.domain.order import Order
from orderhub.store.books import ErpRecord
from orderhub.store.returns import ReturnRecord
from orderhub.store.uow import UnitOfWork

__all__ = ["NotBookable", "context_for"]

_CONNECTION = frozenset(
    {"base_url", "acct_id", "user_name", "auth", "lcid", "org_num", "timeout"}
    | {"client_id", "app_key", "domain", "token_path"}
)
"""How to reach the ERP: not for its documents."""


class NotBookable(Exception):
    """The document's subject is gone or never was (an unknown return or shipment)."""


def _code(erp: ErpRecord, table: str, key: str) -> str:
    codes = erp.settings.get(table) or {}
    return str(codes.get(key) or key) if isinstance(codes, Mapping) else key


def _base(erp: ErpRecord, uow: UnitOfWork, order: Order, our_no: str) -> dict[str, Any]:
    shop = uow.catalog.shop(order.shop)
    return {
        "our_no": our_no,
        "erp": {k: v for k, v in erp.settings.items() if k not in _CONNECTION},
        "shop": {
            "code": shop.code,
            "name": shop.name,
            "customer": _code(erp, "customers", shop.code),
        },
        "order": order.model_dump(
            mode="json", exclude={"buyer", "receiver", "trace", "exceptions", "remarks"}
        ),
        "links": {},
    }


def _tax_rate(erp: ErpRecord) -> Decimal:
    return Decimal(str(erp.settings.get("tax_rate", "13")))


def context_for(
    uow: UnitOfWork, erp: ErpRecord, kind: str, our_no: str, order: Order
) -> dict[str, Any]:
    """The context of one document about `order`; NotBookable when its subject is gone."""
    context = _base(erp, uow, order, our_no)
    prices = {line.line_id: line for line in order.lines}
    rate = _tax_rate(erp)
    if kind == "sale_order":
        context["lines"] = [
            {
                "sku": line.sku or line.channel_sku,
                "quantity": line.quantity,
                "unit_price": line.unit_price,
                "amount": line.unit_price * line.quantity,
                "tax_rate": rate,
                "free": line.unit_price == 0,
                "title": line.title,
                "stock": _code(erp, "stocks", line.node) if line.node else None,
            }
            for line in order.lines
        ]
    elif kind == "outbound":
        tracking_no = our_no.split(":", 1)[1]
        parcel = next((f for f in order.fulfillments if f.tracking_no == tracking_no), None)
        if parcel is None:
            raise NotBookable(f"order {order.id} has no parcel {tracking_no}")
        context["shipment"] = parcel.model_dump(mode="json")
        context["lines"] = [
            {
                "sku": part.sku,
                "quantity": part.quantity,
                "unit_price": prices[part.line_id].unit_price if part.line_id in prices else None,
                "tax_rate": rate,
                "stock": _code(erp, "stocks", parcel.node),
            }
            for part in parcel.lines
        ]
    elif kind == "return":
        record = uow.returns.find(our_no)
        if record is None:
            raise NotBookable(f"return {our_no} is not known")
        context.update(_return_context(erp, record, prices, order))
    elif kind == "purchase_order":
        dispatch = uow.dispatches.get(our_no)
        if dispatch is None:
            raise NotBookable(f"dispatch {our_no} is not known")
        costs = erp.settings.get("costs") or {}
        context["supplier"] = _code(erp, "suppliers", dispatch.node)
        sent = dispatch.pushed_at or dispatch.created_at
        context["dispatch"] = {
            "id": dispatch.id,
            "node": dispatch.node,
            "sent_at": sent.isoformat(),
        }
        context["lines"] = [
            {
                "sku": line.sku,
                "quantity": line.quantity,
                "cost": costs.get(line.sku) if isinstance(costs, Mapping) else None,
                "title": prices[line.line_id].title if line.line_id in prices else "",
            }
            for line in dispatch.lines
        ]
    return context


def _return_context(
    erp: ErpRecord, record: ReturnRecord, prices: Mapping[str, Any], order: Order
) -> dict[str, Any]:
    by_sku = {line.sku or line.channel_sku: line for line in order.lines}
    received = record.received or tuple(
        {"sku": item.sku, "quantity": item.quantity, "quality": "good"} for item in record.lines
    )
    return {
        "return": {
            "id": record.id,
            "reason": record.reason,
            "received_at": record.received_at.isoformat() if record.received_at else None,
        },
        "lines": [
            {
                "sku": item["sku"],
                "quantity": item["quantity"],
                "quality": item.get("quality", "good"),
                "unit_price": by_sku[item["sku"]].unit_price if item["sku"] in by_sku else None,
                "stock": _code(erp, "stocks", record.node),
            }
            for item in received
        ],
    }
