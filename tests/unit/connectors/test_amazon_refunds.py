from __future__ import annotations

from decimal import Decimal

import pytest

from orderhub.connectors.amazon.refunds import read_refund

EVENT = {
    "AmazonOrderId": "113-0000001-0000001",
    "PostedDate": "2026-12-01T10:00:00Z",
    "ShipmentItemAdjustmentList": [
        {
            "SellerSKU": "MUG-RED",
            "OrderItemId": "50000000000001",
            "OrderAdjustmentItemId": "70000000000001",
            "QuantityShipped": 1,
            "ItemChargeAdjustmentList": [
                {"ChargeType": "Principal", "ChargeAmount": {"CurrencyAmount": -12.5}},
                {"ChargeType": "Tax", "ChargeAmount": {"CurrencyAmount": -1.0}},
                {"ChargeType": "Commission", "ChargeAmount": {"CurrencyAmount": 1.88}},
            ],
        }
    ],
}


def test_a_refund_event_gives_back_the_item_and_what_the_buyer_paid_for_it() -> None:
    refund = read_refund(EVENT, restock=True)
    assert refund.channel_order_id == "113-0000001-0000001"
    assert list(refund.lines) == [("50000000000001", 1)]
    assert refund.amount == Decimal("13.5")  # principal and tax; the commission is not the buyer's
    assert refund.restock and refund.refund_id.endswith("70000000000001")


@pytest.mark.parametrize(
    ("broken", "named"),
    [
        ({"AmazonOrderId": ""}, "AmazonOrderId"),
        ({"PostedDate": "yesterday"}, "PostedDate"),
        ({"ShipmentItemAdjustmentList": [{"QuantityShipped": 1}]}, "OrderItemId"),
        ({"ShipmentItemAdjustmentList": []}, "ShipmentItemAdjustmentList"),
    ],
)
def test_an_unreadable_refund_event_names_its_field(broken: dict[str, object], named: str) -> None:
    with pytest.raises(ValueError, match=named):
        read_refund({**EVENT, **broken}, restock=True)
