"""A shop order in the exact shape of `order.searchList` items and `order.orderDetail`.

Field names and types follow the ShopOrder of platform-apis.md §6.3 and the generated
response structs of zsmhub/doudian-sdk (`api/order_searchList/response`): ids of shop
and SKU orders are strings, product and SKU ids numbers (with `product_id_str` beside
them), amounts integer fen, times UNIX seconds, region ids strings. The receiver is
masked in `post_receiver` / `post_tel` / `post_addr.detail` and the `mask_*` fields, and
encrypted in `encrypt_post_receiver` / `encrypt_post_tel` / `post_addr.encrypt_detail`.
Promotions, presale, bundles and the like are always zero or empty here.
"""

from __future__ import annotations

import hashlib
from typing import Any

from .orders import STATUS_DESC, Pack, ShopOrder, SkuOrder
from .people import Receiver, mask_detail, mask_name, mask_tel
from .state import CARRIERS

__all__ = ["shop_order_view"]

AFTER_SALE_NONE = {"after_sale_status": 0, "after_sale_type": 0, "refund_status": 0}


def _region(pair: tuple[str, str]) -> dict[str, str]:
    return {"id": pair[1], "name": pair[0]}


def _address(receiver: Receiver, detail: str) -> dict[str, Any]:
    return {
        "province": _region(receiver.province),
        "city": _region(receiver.city),
        "town": _region(receiver.town),
        "street": _region(receiver.street),
        "detail": detail,
    }


def _receiver_fields(order: ShopOrder) -> dict[str, Any]:
    r = order.receiver
    masked_detail = mask_detail(r.detail)
    post_addr = _address(r, masked_detail)
    post_addr["encrypt_detail"] = order.ciphers["addr"]
    return {
        "post_receiver": mask_name(r.name),
        "encrypt_post_receiver": order.ciphers["name"],
        "post_tel": mask_tel(r.tel),
        "encrypt_post_tel": order.ciphers["tel"],
        "post_addr": post_addr,
        "mask_post_receiver": mask_name(r.name),
        "mask_post_tel": mask_tel(r.tel),
        "mask_post_addr": _address(r, masked_detail),
    }


def _common(order: ShopOrder, status: int) -> dict[str, Any]:
    return {
        "biz": 2,
        "biz_desc": "小店",
        "order_type": 0,
        "order_type_desc": "普通实物订单",
        "trade_type": 0,
        "trade_type_desc": "普通",
        "order_status": status,
        "order_status_desc": STATUS_DESC.get(status, ""),
        "main_status": status,
        "main_status_desc": STATUS_DESC.get(status, ""),
        "pay_time": order.pay_time,
        "order_expire_time": order.create_time + 1800 if not order.pay_time else 0,
        "finish_time": order.finish_time,
        "create_time": order.create_time,
        "update_time": order.update_time,
        "cancel_reason": order.cancel_reason if status == 4 else "",
        "b_type": 2,
        "b_type_desc": "抖音",
        "sub_b_type": 1,
        "sub_b_type_desc": "app内-原生",
        "app_id": 0,
        "pay_type": order.pay_type if order.pay_time else 0,
        "channel_payment_no": f"PAY{order.order_id}" if order.pay_time else "",
        "post_insurance_amount": 0,
        "modify_amount": 0,
        "modify_post_amount": 0,
        "promotion_amount": 0,
        "promotion_shop_amount": 0,
        "promotion_platform_amount": 0,
        "shop_cost_amount": 0,
        "platform_cost_amount": 0,
        "promotion_talent_amount": 0,
        "promotion_pay_amount": 0,
        "promotion_redpack_amount": 0,
        "promotion_redpack_platform_amount": 0,
        "promotion_redpack_talent_amount": 0,
        "author_cost_amount": 0,
        "only_platform_cost_amount": 0,
        "exp_ship_time": order.pay_time + 48 * 3600 if order.pay_time else 0,
        "ship_time": order.ship_time,
        "appointment_ship_time": 0,
        "promise_info": "",
        "tax_amount": 0,
    }


def _sku_order_view(order: ShopOrder, line: SkuOrder) -> dict[str, Any]:
    sku = line.sku
    amount = line.price * line.quantity
    view = _common(order, line.status)
    view.update(
        {
            "order_id": line.order_id,
            "parent_order_id": order.order_id,
            "order_level": 3,
            "author_id": 0,
            "author_name": "",
            "theme_type": "0",
            "theme_type_desc": "其他",
            "room_id": 0,
            "room_id_str": "",
            "content_id": "",
            "video_id": "",
            "origin_id": "",
            "cid": 0,
            "c_biz": 8,
            "c_biz_desc": "小店自卖",
            "page_id": 0,
            "send_pay": 0,
            "send_pay_desc": "",
            "order_amount": amount,
            "pay_amount": amount if order.pay_time else 0,
            "post_amount": 0,
            "code": sku.code,
            "logistics_receipt_time": 0,
            "confirm_receipt_time": order.finish_time,
            "goods_type": 0,
            "product_id": sku.product_id,
            "product_id_str": str(sku.product_id),
            "sku_id": sku.sku_id,
            "spec": [{"name": "规格", "value": sku.spec}],
            "first_cid": 20000,
            "second_cid": 20001,
            "third_cid": 20002,
            "fourth_cid": 0,
            "out_sku_id": str(sku.out_sku_id) if sku.out_sku_id else "",
            "supplier_id": "",
            "out_product_id": "0",
            "warehouse_ids": [],
            "out_warehouse_ids": [],
            "inventory_type": "",
            "inventory_type_desc": "",
            "inventory_list": [],
            "reduce_stock_type": 1,
            "reduce_stock_type_desc": "下单减库存",
            "origin_amount": line.price,
            "has_tax": False,
            "item_num": line.quantity,
            "sum_amount": amount,
            "source_platform": "",
            "product_pic": "",
            "is_comment": 0,
            "product_name": line.product_name,
            "pre_sale_type": 0,
            "after_sale_info": _after_sale(line),
            "receive_type": 1,
            "need_serial_number": False,
            "ad_env_type": "",
            "sku_order_tag_ui": [],
            "given_product_type": "",
            "master_sku_order_id": "",
            "master_sku_order_id_list": [],
            "bundle_sku_info": [],
            "sku_customization_info": [],
            "sku_yun_warehouse_info": [],
        }
    )
    view.update(_receiver_fields(order))
    return view


def _after_sale(line: SkuOrder) -> dict[str, int]:
    sale = line.after_sale
    if sale is None:
        return dict(AFTER_SALE_NONE)
    return {
        "after_sale_status": sale.status,
        "after_sale_type": sale.kind,
        "refund_status": sale.refund_status,
    }


def _logistics(order: ShopOrder, pack: Pack) -> dict[str, Any]:
    lines = {line.order_id: line for line in order.lines}
    return {
        "tracking_no": pack.tracking_no,
        "company": pack.company_code,
        "company_name": CARRIERS[pack.company_code][1],
        "ship_time": pack.ship_time,
        "delivery_id": pack.pack_id,
        "hour_up_pickup_code": "",
        "product_info": [
            {
                "product_name": lines[sid].product_name,
                "price": lines[sid].price,
                "outer_sku_id": lines[sid].sku.code,
                "sku_id": lines[sid].sku.sku_id,
                "sku_specs": [{"name": "规格", "value": lines[sid].sku.spec}],
                "product_count": num,
                "product_id": lines[sid].sku.product_id,
                "product_id_str": str(lines[sid].sku.product_id),
                "sku_order_id": sid,
            }
            for sid, num in pack.lines
        ],
    }


def shop_order_view(order: ShopOrder, *, shop_id: int, shop_name: str) -> dict[str, Any]:
    """One ShopOrder as `order.searchList` lists it and `order.orderDetail` returns it."""
    goods = order.goods_amount
    total = goods + order.post_amount
    view = _common(order, order.status)
    view.update(
        {
            "shop_id": shop_id,
            "shop_name": shop_name,
            "open_id": "",
            "order_id": order.order_id,
            "order_level": 2,
            "accept_order_status": 0,
            "buyer_words": order.buyer_words,
            "seller_words": order.seller_words,
            "seller_remark_stars": order.seller_remark_stars,
            "order_amount": total,
            "pay_amount": total if order.pay_time else 0,
            "post_amount": order.post_amount,
            "post_origin_amount": order.post_amount,
            "post_promotion_amount": 0,
            "total_promotion_amount": 0,
            "packing_amount": 0,
            "doudian_open_id": "1@#" + hashlib.sha1(order.receiver.tel.encode()).hexdigest()[:24],
            "serial_number_list": [],
            "order_phase_list": [],
            "user_tag_ui": [],
            "shop_order_tag_ui": [],
            "address_tag_ui": [],
            "logistics_info": [_logistics(order, pack) for pack in order.packs],
            "sku_order_list": [_sku_order_view(order, line) for line in order.lines],
        }
    )
    view.update(_receiver_fields(order))
    return view
