"""谷仓 (GoodCang) strings: REST V1 paths, order statuses and defaults.

Sources: peers-and-apis.md §5.4; GoodCang's pages for `get_order_by_code` and
`get_order_list`; SDKs' `create_order` parameters (see the emulator's docstring,
`orderhub.sandbox.goodcang.emulator`). What they leave open is a setting of the node,
with the defaults here marked UNCONFIRMED.
"""

from __future__ import annotations

from enum import StrEnum

__all__ = [
    "CANCELLED_STATUSES",
    "DEFAULT_BASE_URL",
    "PAGE",
    "PROBLEM_STATUSES",
    "SHIPPED_STATUSES",
    "SUCCESS",
    "Path",
]


class Path(StrEnum):
    CREATE_ORDER = "order/create_order"
    CANCEL_ORDER = "order/cancel_order"
    ORDER_BY_CODE = "order/get_order_by_code"
    ORDER_BY_REF = "order/get_order_by_ref_code"
    ORDER_LIST = "order/get_order_list"
    INVENTORY = "inventory/get_product_inventory"


DEFAULT_BASE_URL = "https://oms.goodcang.net"
"""Production; the sandbox is `https://uat-oms.eminxing.com`."""
SUCCESS = "Success"
"""`ask` of an answer that worked; anything else is a refusal."""
SHIPPED_STATUSES = frozenset({"D"})
"""已发货 (setting `shipped_statuses`)."""
CANCELLED_STATUSES = frozenset({"X"})
"""废弃 (setting `cancelled_statuses`)."""
PROBLEM_STATUSES = frozenset({"N", "P"})
"""异常订单 and 问题件: stuck at GoodCang until someone acts there; logged, not events."""
PAGE = 100
"""Rows asked per page of get_order_list and get_product_inventory (documented cap for
get_order_list; UNCONFIRMED for inventory)."""
