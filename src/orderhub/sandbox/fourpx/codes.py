"""4PX's own words: outbound statuses, error codes, cancel reasons and limits.

Confirmed by the public SDKs (fop-sdk, express-4px-php-sdk) and a recorded getlist
answer: statuses N/S/P/C/X/D/E, the create error codes below, the cancel error codes
`ERR_OUTBOUND_CONSIGNMENT_SHIPPED` and `..._REPEAT_CANCEL`, cancel reasons AP RO OS BC
CF OT, page sizes up to 500 (50 by default), a ref_no of at most 80 characters. The
gateway's own codes and the code answering a ref_no used before are UNCONFIRMED
(emulator setting `error_codes`).
"""

from __future__ import annotations

from collections.abc import Mapping

__all__ = [
    "CANCEL_TYPES",
    "DEFAULT_ERROR_CODES",
    "DEFAULT_PRODUCTS",
    "LIMITS",
    "MAX_PAGE",
    "STATUS",
]

STATUS: Mapping[str, str] = {
    "draft": "N",  # 草稿
    "submitted": "S",  # 出库中
    "picked": "P",  # 已下架
    "shipped": "C",  # 已出库
    "cancelled": "X",  # 已取消
    "deleted": "D",  # 已删除
    "exception": "E",  # 异常
}
"""Role → the outbound `status` code, as `fu.wms.outbound.getlist` documents them."""

DEFAULT_ERROR_CODES: Mapping[str, str] = {
    "sign": "SIGN_ERROR",
    "app_key": "APP_KEY_NOT_EXIST",
    "timestamp": "TIMESTAMP_EXPIRED",
    "method": "METHOD_NOT_EXIST",
    "body": "PARAM_FORMAT_ERROR",
    "rate_limit": "REQUEST_LIMIT",
    "service": "SYSTEM_ERROR",
    "param": "ERR_PARAM",
    "ref_no_empty": "ERR_OUTBOUND_CONSIGNMENT_REF_NO_EMPTY",
    "ref_no_long": "ERR_REF_NO_LENGTH_BEYOND",
    "ref_no_used": "ERR_REF_NO_EXIST",
    "warehouse_empty": "ERR_OUTBOUND_CONSIGNMENT_FROM_WAREHOUSE_CODE_EMPTY",
    "warehouse_unknown": "ERR_WAREHOUSE_CODE_NOT_EXIST",
    "type_empty": "ERR_OUTBOUND_CONSIGNMENT_CONSIGNMENT_TYPE_EMPTY",
    "product_empty": "ERR_OUTBOUND_CONSIGNMENT_LOGISTICS_PRODUCT_EMPTY",
    "product_unknown": "ERR_LOGISTICS_PRODUCT_NOT_EXIST",
    "country_empty": "ERR_OUTBOUND_CONSIGNMENT_COUNTRY_EMPTY",
    "street_empty": "ERR_OUTBOUND_CONSIGNMENT_STREET_EMPTY",
    "first_name_empty": "ERR_OUTBOUND_CONSIGNMENT_FIRST_NAME_EMPTY",
    "email": "ERR_OUTBOUND_CONSIGNMENT_EMAIL_ILLEGAL",
    "sku_empty": "ERR_OUTBOUND_CONSIGNMENT_SKU_EMPTY",
    "sku_qty": "ERR_OUTBOUND_CONSIGNMENT_SKU_QTY_FORMAT",
    "sku_unknown": "ERR_SKU_NOT_EXIST",
    "stock_short": "AVALIABLE_STOCK_IS_NOT_ENOUGH",
    "customs": "ERR_DECLARE_INFO_EMPTY",
    "not_found": "ERR_OUTBOUND_CONSIGNMENT_NOT_EXIST",
    "cancel_type": "ERR_OUTBOUND_CONSIGNMENT_CANCEL_TYPE_NOT_EXIST",
    "cancel_which": "ERR_OUTBOUND_CONSIGNMENT_CSMNO_OR_REFNO_EMPTY",
    "shipped": "ERR_OUTBOUND_CONSIGNMENT_SHIPPED",
    "repeat_cancel": "ERR_OUTBOUND_CONSIGNMENT_REPEAT_CANCEL",
}
"""`errors[].error_code` by role. The create and cancel codes are the SDK's; `sign`,
`app_key`, `timestamp`, `method`, `body`, `rate_limit`, `service`, `param`,
`ref_no_used`, `warehouse_unknown`, `product_unknown`, `sku_unknown`, `customs` and
`not_found` are UNCONFIRMED."""

DEFAULT_PRODUCTS: Mapping[str, str] = {
    "F152": "Standard delivery",
    "F3": "Express delivery",
    "F153": "Economy delivery",
}
"""Logistics product codes (派送方式) a warehouse offers. F152 and F3 appear in
integrators' calls; which products a warehouse offers is per account (UNCONFIRMED,
setting `products`)."""

CANCEL_TYPES = frozenset({"AP", "RO", "OS", "BC", "CF", "OT"})
"""`cancel_type` values the cancel call takes."""

MAX_PAGE = 500
"""Largest `page_size` of getlist and inventory.get."""

LIMITS: Mapping[str, int] = {"ref_no": 80, "consignment_no": 20, "remark": 200, "skus": 100}
"""Longest ref_no, consignment_no and remark; most SKU kinds in one outbound."""
