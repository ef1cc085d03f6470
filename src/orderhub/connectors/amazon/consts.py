"""Amazon Selling Partner API strings: hosts, paths, operations, quotas and codes.

Source: platform-apis.md §3 (ordersV0.json, tokens_2021-03-01.json,
listingsItems_2021-08-01.json, Login with Amazon). Amazon's list of carrier codes is
long and not in those sources, so the hub's carrier codes that map onto it are the
setting `carrier_codes` with these defaults (UNCONFIRMED beyond UPS, USPS, FedEx, DHL);
any other carrier is sent as "Other" with its name.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from enum import StrEnum
from types import MappingProxyType

__all__ = [
    "CARRIER_CODES",
    "DATA_ELEMENTS",
    "ENDPOINT",
    "FINANCES_PATH",
    "HEADER_RATE_LIMIT",
    "HEADER_TOKEN",
    "LISTINGS_PATH",
    "LWA_ENDPOINT",
    "MARKETPLACE_US",
    "MAX_ITEMS_SEARCH",
    "MAX_LISTINGS_PAGE",
    "MAX_PAGE_SIZE",
    "MIN_SEARCH_AGE",
    "ORDERS_PATH",
    "PLANS",
    "RDT_PATH",
    "Op",
    "Status",
]

ENDPOINT = "https://sellingpartnerapi-na.amazon.com"
LWA_ENDPOINT = "https://api.amazon.com/auth/o2/token"
MARKETPLACE_US = "ATVPDKIKX0DER"
HEADER_TOKEN = "x-amz-access-token"
HEADER_RATE_LIMIT = "x-amzn-RateLimit-Limit"
ORDERS_PATH = "/orders/v0/orders"
FINANCES_PATH = "/finances/v0/financialEvents"
LISTINGS_PATH = "/listings/2021-08-01/items"
RDT_PATH = "/tokens/2021-03-01/restrictedDataToken"
DATA_ELEMENTS = ("buyerInfo", "shippingAddress")
"""What the RDT opens on getOrders and getOrder: the buyer's email and the whole address."""

MAX_PAGE_SIZE = 100  # getOrders MaxResultsPerPage
MAX_LISTINGS_PAGE = 20  # searchListingsItems pageSize
MAX_ITEMS_SEARCH = 1000  # listings a search can page through
MIN_SEARCH_AGE = timedelta(minutes=2)
"""`LastUpdatedBefore` must be at least two minutes before the time of the request."""


class Op(StrEnum):
    """SP-API operations, by the models' names (the quotas are kept per operation)."""

    GET_ORDERS = "getOrders"
    GET_ORDER = "getOrder"
    GET_ORDER_ITEMS = "getOrderItems"
    CONFIRM_SHIPMENT = "confirmShipment"
    CREATE_RDT = "createRestrictedDataToken"
    SEARCH_LISTINGS = "searchListingsItems"
    GET_LISTING = "getListingsItem"
    PATCH_LISTING = "patchListingsItem"
    LIST_FINANCIAL_EVENTS = "listFinancialEvents"


PLANS: Mapping[str, tuple[float, int]] = MappingProxyType(
    {
        Op.GET_ORDERS: (0.0167, 20),
        Op.GET_ORDER: (0.5, 30),
        Op.GET_ORDER_ITEMS: (0.5, 30),
        Op.CONFIRM_SHIPMENT: (2.0, 10),
        Op.CREATE_RDT: (1.0, 10),
        Op.SEARCH_LISTINGS: (5.0, 5),
        Op.GET_LISTING: (5.0, 10),
        Op.PATCH_LISTING: (5.0, 5),
        Op.LIST_FINANCIAL_EVENTS: (0.5, 30),
    }
)
"""Operation → (requests per second, burst), the models' default usage plans; the rate
Amazon really applies comes back in `x-amzn-RateLimit-Limit` and replaces it."""


class Status(StrEnum):
    """OrderStatus values the hub acts on."""

    PENDING = "Pending"  # placed, payment not authorised: waits
    UNSHIPPED = "Unshipped"  # paid: ships
    PARTIALLY_SHIPPED = "PartiallyShipped"
    SHIPPED = "Shipped"
    CANCELED = "Canceled"


CARRIER_CODES: Mapping[str, str] = MappingProxyType(
    {
        "UPS": "UPS",
        "USPS": "USPS",
        "FEDEX": "FedEx",
        "DHL": "DHL",
        "SF": "SF Express",
        "EMS": "China Post",
        "YUNEXPRESS": "YunExpress",
    }
)
"""The hub's carrier code → Amazon's `carrierCode`."""
