"""Orders and items as Orders v0 renders them, with or without personal data.

Without a Restricted Data Token an order's `ShippingAddress` holds only `City`,
`StateOrRegion`, `PostalCode` and `CountryCode`, and `BuyerInfo` no email or name;
with an RDT that names `shippingAddress` (or `buyerInfo`) for the call, the whole
address (name, street lines, phone) or the buyer's email and name come back. While an
order is Pending, getOrderItems leaves out prices, taxes and promotions ("the
getOrderItems operation does not return information about pricing… for the order
items", ordersV0 model, quoted in models issue #1044), and the order its OrderTotal.
"""

from __future__ import annotations

from collections.abc import Set
from datetime import timedelta

from .state import Line, Order
from .wire import Json, iso, money

__all__ = ["order_items", "render_order"]

PUBLIC_ADDRESS = ("City", "StateOrRegion", "PostalCode", "CountryCode")
SALES_CHANNELS = {
    "ATVPDKIKX0DER": "Amazon.com",
    "A2EUQ1WTGCTBG2": "Amazon.ca",
    "A1F83G8C2ARO7P": "Amazon.co.uk",
    "A1PA6795UKMFR9": "Amazon.de",
}


def render_order(order: Order, elements: Set[str]) -> Json:
    """An Order object; `elements` are the personal data elements the token opens."""
    shipped = sum(ln.shipped for ln in order.lines)
    ordered = sum(ln.quantity for ln in order.lines)
    if "shippingAddress" in elements:
        address = {k: v for k, v in order.address.items() if v}
    else:
        address = {k: order.address[k] for k in PUBLIC_ADDRESS if order.address.get(k)}
    buyer: Json = {}
    if "buyerInfo" in elements:
        buyer = dict(order.buyer)
    body: Json = {
        "AmazonOrderId": order.order_id,
        "PurchaseDate": iso(order.purchased),
        "LastUpdateDate": iso(order.updated),
        "OrderStatus": order.status,
        "FulfillmentChannel": "MFN",
        "SalesChannel": SALES_CHANNELS.get(order.marketplace_id, "Amazon"),
        "ShipServiceLevel": "Std US D2D Dom",
        "NumberOfItemsShipped": shipped,
        "NumberOfItemsUnshipped": ordered - shipped,
        "PaymentMethod": "Other",
        "PaymentMethodDetails": ["Standard"],
        "MarketplaceId": order.marketplace_id,
        "ShipmentServiceLevelCategory": "Standard",
        "OrderType": "StandardOrder",
        "EarliestShipDate": iso(order.purchased),
        "LatestShipDate": iso(order.purchased + timedelta(days=2)),
        "EarliestDeliveryDate": iso(order.purchased + timedelta(days=3)),
        "LatestDeliveryDate": iso(order.purchased + timedelta(days=7)),
        "IsBusinessOrder": False,
        "IsPrime": False,
        "IsPremiumOrder": False,
        "IsGlobalExpressEnabled": False,
        "IsReplacementOrder": False,
        "IsSoldByAB": False,
        "IsISPU": False,
        "IsAccessPointOrder": False,
        "HasRegulatedItems": False,
        "ShippingAddress": address,
        "BuyerInfo": buyer,
    }
    if order.status != "Pending":
        body["OrderTotal"] = money(order.total, order.currency)
    if order.seller_order_id:
        body["SellerOrderId"] = order.seller_order_id
    return body


def order_items(order: Order) -> list[Json]:
    """The order's OrderItems; prices only once the order has left Pending."""
    return [_item(line, order) for line in order.lines]


def _item(line: Line, order: Order) -> Json:
    item: Json = {
        "ASIN": line.asin,
        "SellerSKU": line.sku,
        "OrderItemId": line.item_id,
        "Title": line.title,
        "QuantityOrdered": line.quantity,
        "QuantityShipped": line.shipped,
        "ProductInfo": {"NumberOfItems": "1"},
        "IsGift": "false",
        "ConditionId": "New",
        "ConditionSubtypeId": "New",
        "IsTransparency": False,
        "SerialNumberRequired": False,
    }
    if order.status == "Pending":
        return item
    zero = money(line.price * 0, order.currency)
    item.update(
        {
            "ItemPrice": money(line.price * line.quantity, order.currency),
            "ItemTax": money(line.tax, order.currency),
            "ShippingPrice": money(line.shipping, order.currency),
            "ShippingTax": dict(zero),
            "ShippingDiscount": dict(zero),
            "ShippingDiscountTax": dict(zero),
            "PromotionDiscount": dict(zero),
            "PromotionDiscountTax": dict(zero),
            "PromotionIds": [],
        }
    )
    return item
