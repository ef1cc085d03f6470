"""What a person can do about each kind of exception: one table, read by the screens,
the CLI and the API, and checked before any resolution is carried out."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from orderhub.domain.errors import OrderhubError

__all__ = [
    "RECEIVER_FIELDS",
    "Action",
    "ActionNotAllowed",
    "Remedy",
    "allowed_actions",
    "check_action",
    "remedy",
]


class Action(StrEnum):
    """A way to resolve an exception; after it the hub replays what was stopped."""

    FIX_ADDRESS = "fix_address"  # set receiver fields (re-encrypted), then route again
    MAP_SKU = "map_sku"  # add the shop's listing for a channel SKU, then route again
    RELEASE = "release"  # a person decided the hold can go: close it and route again
    RETRY = "retry"  # replay the stored payload or the dead job after a fix elsewhere
    CANCEL = "cancel"  # stop the order in the hub and give back its stock
    DISMISS = "dismiss"  # close it with a reason a person gives, which is kept


# Receiver fields a person may set with `fix_address`; `latin.<field>` sets the receiver
# in Latin script, which a label abroad is printed with.
_ADDRESS_FIELDS = (
    "name",
    "phone",
    "country",
    "province",
    "city",
    "district",
    "address1",
    "address2",
    "postcode",
)
RECEIVER_FIELDS = frozenset(_ADDRESS_FIELDS) | {f"latin.{name}" for name in _ADDRESS_FIELDS}


@dataclass(frozen=True)
class Remedy:
    """How to act on one exception code: a hint in words and the actions allowed."""

    hint: str
    actions: tuple[Action, ...]


_ADDRESS = (Action.FIX_ADDRESS, Action.CANCEL)

CATALOG: dict[str, Remedy] = {
    "unknown_sku": Remedy(
        "map the SKU (a listing) or add it, then replay", (Action.MAP_SKU, Action.CANCEL)
    ),
    "out_of_stock": Remedy(
        "waits for stock and is retried when stock arrives; or release to try now",
        (Action.RELEASE, Action.CANCEL),
    ),
    "no_node": Remedy(
        "give the shop a node in the configuration, then release",
        (Action.RELEASE, Action.CANCEL),
    ),
    "missing_address": Remedy("fix the address, or correct it on the channel", _ADDRESS),
    "missing_phone": Remedy("set the phone, or correct it on the channel", _ADDRESS),
    "invalid_phone": Remedy("set a valid phone, or correct it on the channel", _ADDRESS),
    "missing_receiver": Remedy("set the receiver, or correct it on the channel", _ADDRESS),
    "invalid_country": Remedy("set the country code, or correct it on the channel", _ADDRESS),
    "receiver_not_latin": Remedy(
        "set the receiver in Latin script (latin.name, latin.address1, latin.city)", _ADDRESS
    ),
    "missing_customs": Remedy(
        "add the SKU's HS code and customs description to the catalogue, or the shop's "
        "tax number to its customs settings, then retry",
        (Action.RETRY, Action.CANCEL),
    ),
    "no_shipping_method": Remedy(
        "give the node a shipping method to this country (customs.shipping_methods), then retry",
        (Action.RETRY, Action.CANCEL),
    ),
    "possible_duplicate": Remedy(
        "compare with the earlier order: release if both are wanted, else cancel",
        (Action.RELEASE, Action.CANCEL),
    ),
    "not_paid": Remedy("waits for the channel's payment update", (Action.CANCEL,)),
    "ship_by_passed": Remedy("ships late; release to acknowledge", (Action.RELEASE,)),
    "malformed_payload": Remedy(
        "fix the sender or the mapping, then retry the stored payload", (Action.RETRY,)
    ),
    "stale_webhook": Remedy(
        "kept but not processed: it was sent longer ago than ORDERHUB_WEBHOOK_MAX_AGE "
        "(a replay?); retry it if it is still wanted",
        (Action.RETRY,),
    ),
    "invalid_field": Remedy(
        "fix the shop's mapping, then retry the stored payload", (Action.RETRY,)
    ),
    "job_failed": Remedy(
        "fix the cause (credentials, address), then retry the job", (Action.RETRY, Action.CANCEL)
    ),
    "intercept_failed": Remedy("the parcel left: expect a return", (Action.RELEASE,)),
    "unreadable_field": Remedy(
        "a field of the payload cannot be read: fix the shop's mapping, then retry",
        (Action.RETRY,),
    ),
    "no_lines": Remedy("the order has no lines: check it on the shop", (Action.CANCEL,)),
    "line_without_sku": Remedy(
        "a line carries no SKU: give it one on the shop, or map it, then retry",
        (Action.MAP_SKU, Action.RETRY, Action.CANCEL),
    ),
    "node_rejected": Remedy(
        "the node refused the order: fix what it names (address, SKU), then retry",
        (Action.RETRY, Action.FIX_ADDRESS, Action.CANCEL),
    ),
    "malformed_callback": Remedy(
        "a node's callback cannot be read: ask the node to send it again", (Action.RETRY,)
    ),
    "unknown_stock_sku": Remedy(
        "a node reported stock for a SKU the hub does not know: add the SKU, then retry",
        (Action.RETRY,),
    ),
    "malformed_refund": Remedy(
        "a refund from the shop cannot be read: check it on the shop", (Action.RETRY,)
    ),
    "bad_sheet_row": Remedy(
        "a row of a supplier's sheet cannot be used: correct the sheet and import it again",
        (),
    ),
    "unknown_order": Remedy(
        "a node or shop named an order the hub does not know: check it there", ()
    ),
    "held_by_person": Remedy(
        "a person held it with the reason given: release it to send it on, or cancel it",
        (Action.RELEASE, Action.CANCEL),
    ),
    "shipped_after_cancel": Remedy(
        "the node shipped an order cancelled meanwhile: expect a return", (Action.RELEASE,)
    ),
}

_DEFAULT = Remedy("resolve the cause, then replay", (Action.RETRY, Action.CANCEL))

# A seller rule held or rejected the order: a person may let it go (the rules then pass
# it), retry it after changing the rule, or cancel it.
_RULE = Remedy(
    "a seller rule stopped it: release to let it go, or change the rule and retry",
    (Action.RELEASE, Action.RETRY, Action.CANCEL),
)


def remedy(code: str) -> Remedy:
    """The hint and the allowed actions for an exception code (a default for others)."""
    if code.startswith("rule:"):
        return _RULE
    return CATALOG.get(code, _DEFAULT)


_NEED_AN_ORDER = frozenset({Action.FIX_ADDRESS, Action.MAP_SKU, Action.RELEASE, Action.CANCEL})


def allowed_actions(code: str, *, about_order: bool = True) -> tuple[Action, ...]:
    """The actions that close an exception of this code; `dismiss` closes every one.

    Actions that change an order are offered only when the exception is about one.
    """
    actions = [a for a in remedy(code).actions if about_order or a not in _NEED_AN_ORDER]
    return (*actions, Action.DISMISS)


class ActionNotAllowed(OrderhubError):
    """This action does not resolve this kind of exception."""

    def __init__(self, code: str, action: str, *, about_order: bool = True) -> None:
        self.code = code
        self.action = action
        allowed = ", ".join(allowed_actions(code, about_order=about_order))
        super().__init__(f"{action!r} does not resolve this {code}; allowed: {allowed}")


def check_action(code: str, action: str, *, about_order: bool = True) -> Action:
    """The action, when it resolves this code; ActionNotAllowed otherwise."""
    try:
        chosen = Action(action)
    except ValueError:
        raise ActionNotAllowed(code, action, about_order=about_order) from None
    if chosen not in allowed_actions(code, about_order=about_order):
        raise ActionNotAllowed(code, action, about_order=about_order)
    return chosen
