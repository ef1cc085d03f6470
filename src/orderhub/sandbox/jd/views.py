"""Orders and SKUs in JOS's field names and types.

OrderInfo follows `jingdong.pop.order.enSearch` (platform-apis.md §7.2; field types from
JD's Java SDK `OrderSearchInfo` and rise-worlds/jos `OrderInfo`): ids, amounts, counts
and times are strings, amounts in yuan with two places, times `yyyy-MM-dd HH:mm:ss` in
GMT+8; `idSopShipmenttype` is the one number. Only the fields named in
`optional_fields` are returned.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import timezone
from decimal import Decimal
from typing import Any

from .catalog import Sku
from .people import mask_address, mask_name, mask_phone
from .state import Order
from .wire import NO_TIME, STATE_REMARKS, money, wire_time

__all__ = ["OrderView", "sku_row"]

ZERO = Decimal("0")


@dataclass(frozen=True)
class OrderView:
    """Renders orders for one shop's settings."""

    zone: timezone
    vender_id: str
    refund_field: str
    refund_codes: Mapping[str, str]

    def order_info(self, order: Order, fields: Collection[str]) -> dict[str, Any]:
        full = self._full(order)
        return {name: full[name] for name in fields if name in full}

    def _full(self, order: Order) -> dict[str, Any]:
        total = order.total()
        ship = order.shipment
        return {
            "orderId": order.order_id,
            "venderId": self.vender_id,
            "orderType": "22",
            "payType": "4",
            "orderTotalPrice": money(total),
            "orderSellerPrice": money(total),
            "orderPayment": money(total + order.freight),
            "freightPrice": money(order.freight),
            "sellerDiscount": money(ZERO),
            "balanceUsed": money(ZERO),
            "taxFee": money(ZERO),
            "orderState": order.state,
            "orderStateRemark": STATE_REMARKS.get(order.state, ""),
            "deliveryType": "任意时间",
            "invoiceEasyInfo": {"invoiceType": "0", "invoiceTitle": "", "invoiceContentId": ""},
            "orderRemark": order.buyer_message,
            "venderRemark": order.vender_remark,
            "orderStartTime": wire_time(order.created, self.zone),
            "orderEndTime": wire_time(order.ended, self.zone),
            "paymentConfirmTime": wire_time(order.paid_at, self.zone),
            "modified": wire_time(order.modified, self.zone),
            "pin": order.pin,
            "realPin": order.pin,
            "open_id_buyer": f"o{order.pin}",
            "waybill": "" if ship is None else ship.tracking_no,
            "logisticsId": "" if ship is None else ship.carrier_id,
            "storeOrder": "",
            "storeId": "0",
            "idSopShipmenttype": None,
            "returnOrder": "0",
            self.refund_field: self.refund_codes.get(order.refund_state, ""),
            "consigneeInfo": self._consignee(order),
            "itemInfoList": [
                {
                    "skuId": str(line.sku_id),
                    "outerSkuId": line.outer_id,
                    "skuName": line.name,
                    "jdPrice": money(line.price),
                    "itemTotal": str(line.quantity),
                    "wareId": str(line.ware_id),
                    "productNo": "",
                    "giftPoint": "0",
                    "newStoreId": "0",
                }
                for line in order.lines
            ],
            "couponDetailList": [],
        }

    @staticmethod
    def _consignee(order: Order) -> dict[str, str]:
        who = order.receiver
        return {
            "fullname": mask_name(who.name),
            "telephone": mask_phone(who.telephone),
            "mobile": mask_phone(who.mobile),
            "fullAddress": mask_address(who),
            "province": who.province,
            "city": who.city,
            "county": who.county,
            "town": who.town,
            "provinceId": who.province_id,
            "cityId": who.city_id,
            "countyId": who.county_id,
            "townId": who.town_id,
            **order.tokens,
        }

    def receiver_model(self, order: Order, oaid: str) -> dict[str, Any]:
        """One entry of the decrypt call's `returnType.data` (JD's OrderReceiverInfoModel)."""
        who = order.receiver
        return {
            "orderId": int(order.order_id),
            "oaid": oaid,
            "customerName": who.name,
            "consMobilePhone": who.mobile,
            "customerPhone": who.telephone,
            "address": who.full_address,
            "privacyProtection": False,
            "expiration": NO_TIME,
            "consMobilePhoneFuzzy": mask_phone(who.mobile),
        }


def sku_row(sku: Sku) -> dict[str, Any]:
    """One SKU as `jingdong.sku.read.searchSkuList` lists it: ids and prices are numbers."""
    return {
        "wareId": sku.ware_id,
        "skuId": sku.sku_id,
        "outerId": sku.outer_id,
        "skuName": sku.title,
        "wareTitle": sku.title,
        "jdPrice": float(sku.price),
        "stockNum": sku.stock,
        "status": 1,
        "modified": int(sku.modified.timestamp() * 1000),
    }
