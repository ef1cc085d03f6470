"""17TRACK API v2.2 strings: endpoints, answer codes, statuses, and carrier keys.

Sources: platform-apis.md §10.3-10.4; 17TRACK's help centre "Error Codes and
Troubleshooting" (the codes down to -18019903, word for word); the codes past it,
the push's TRACKING_STOPPED event and the retry schedule come from client code and
write-ups, UNCONFIRMED by an official page.
"""

from __future__ import annotations

from orderhub.connectors.tracking import ParcelStatus

from ..kit.envelopes import ErrorCodes

__all__ = [
    "ALREADY_REGISTERED",
    "BATCH_LIMIT",
    "CARRIERS",
    "DEFAULT_BASE_URL",
    "ERRORS",
    "FINISHED_SUB_STATUSES",
    "NOTHING_KNOWN",
    "REGISTER_PATH",
    "SIGN_HEADER",
    "STAGES",
    "STATUSES",
    "SUB_STATUSES",
    "TOKEN_HEADER",
    "TRACKINFO_PATH",
]

DEFAULT_BASE_URL = "https://api.17track.net"
REGISTER_PATH = "/track/v2.2/register"
TRACKINFO_PATH = "/track/v2.2/gettrackinfo"

TOKEN_HEADER = "17token"
"""The account's API key goes in this header on every call; no signature."""
SIGN_HEADER = "sign"
"""The header of a push that carries its signature (UNCONFIRMED, see tracker.py)."""
BATCH_LIMIT = 40
"""Numbers per call; more is refused whole with -18010014."""

ALREADY_REGISTERED = -18019901
"""A number followed already: subscribing it again is done, not refused."""
NOTHING_KNOWN = frozenset({-18019902, -18019909})
"""Not registered yet / no tracking information yet: `track` answers None."""

ERRORS = ErrorCodes(
    platform="17TRACK",
    rate_limited=frozenset({"429", "-18019907"}),  # too many calls; daily limit reached
    retryable=frozenset({"-18010003"}),  # "Internal service error. Please try again later."
)
"""Everything else (bad key -18010002, IP not whitelisted -18010001, quota used up
-18019908, a number's bad format -18010012...) needs a person."""

STATUSES = {
    "NotFound": ParcelStatus.PENDING,
    "InfoReceived": ParcelStatus.INFO_RECEIVED,
    "InTransit": ParcelStatus.IN_TRANSIT,
    "OutForDelivery": ParcelStatus.OUT_FOR_DELIVERY,
    "AvailableForPickup": ParcelStatus.AVAILABLE_FOR_PICKUP,
    "DeliveryFailure": ParcelStatus.FAILED_ATTEMPT,
    "Delivered": ParcelStatus.DELIVERED,
    "Exception": ParcelStatus.EXCEPTION,
    "Expired": ParcelStatus.EXCEPTION,  # 17TRACK gave up: no news for too long
}
"""`latest_status.status` (and the part of a sub-status before `_`) to the hub's status."""

SUB_STATUSES = {
    "Exception_Returning": ParcelStatus.RETURNED,
    "Exception_Returned": ParcelStatus.RETURNED,
}
"""Sub-statuses that say more than their main status."""

FINISHED_SUB_STATUSES = frozenset({"Exception_Returned"})
"""Back with the sender: nothing more will happen to the parcel."""

STAGES = {
    "InfoReceived": ParcelStatus.INFO_RECEIVED,
    "PickedUp": ParcelStatus.IN_TRANSIT,
    "Departure": ParcelStatus.IN_TRANSIT,
    "Arrival": ParcelStatus.IN_TRANSIT,
    "AvailableForPickup": ParcelStatus.AVAILABLE_FOR_PICKUP,
    "OutForDelivery": ParcelStatus.OUT_FOR_DELIVERY,
    "Delivered": ParcelStatus.DELIVERED,
    "Returning": ParcelStatus.RETURNED,
    "Returned": ParcelStatus.RETURNED,
}
"""Milestone stages, which an event's `stage` may carry instead of a sub-status."""

CARRIERS = {
    "SF": 100012,  # SF Express
    "EMS": 3013,  # China EMS
    "POSTB": 3011,  # China Post
    "YTO": 190157,  # YTO Express
    "ZTO": 190455,  # ZTO Express
    "STO": 190324,  # STO Express
    "DHL": 100001,  # DHL Express
    "UPS": 100002,
    "FEDEX": 100003,
    "USPS": 21051,
    "4PX": 190094,
}
"""The hub's carrier codes to 17TRACK carrier keys, each found in two independent
copies of 17TRACK's carrier list. JD and YUNDA are left out on purpose: no key was
confirmed, so 17TRACK detects the carrier from the number. The setting `carriers`
adds to, overrides, and (with an empty value) removes entries."""
