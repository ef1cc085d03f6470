"""Pinduoduo Open Platform (POP) strings: API names, codes and limits.

Source: platform-apis.md §5 (pdd-node-sdk request classes, pdd's Java pop-sdk). The
error-code numbers are UNCONFIRMED there, so which mean "slow down" and which "try
again" are settings of the channel with these defaults.
"""

from __future__ import annotations

from datetime import timedelta
from enum import StrEnum

__all__ = ["MAX_PAGE_SIZE", "MAX_WINDOW", "RATE_LIMITED_CODES", "RETRYABLE_CODES", "Api"]

MAX_WINDOW = timedelta(minutes=30)
"""`end_updated_at - start_updated_at` may not exceed half an hour."""
MAX_PAGE_SIZE = 100
RATE_LIMITED_CODES = frozenset({"70031", "isv.api-limited"})
RETRYABLE_CODES = frozenset({"50000", "isp.service-error"})


class Api(StrEnum):
    INCREMENT = "pdd.order.number.list.increment.get"
    DETAIL = "pdd.order.information.get"
    COMPANIES = "pdd.logistics.companies.get"
    SEND = "pdd.logistics.online.send"
    QUANTITY = "pdd.goods.quantity.update"
    GOODS = "pdd.goods.list.get"
    DECRYPT = "pdd.open.decrypt.batch"
