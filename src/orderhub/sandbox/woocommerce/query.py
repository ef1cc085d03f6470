"""Reading a collection's query as WordPress does: typed parameters, and which orders a
list shows in which order.

Dates in `after`/`before` (creation) and `modified_after`/`modified_before` compare
strictly, to the second; without an offset they are the site's time, or GMT with
`dates_are_gmt`. `status=any` (the default) leaves out `trash` and drafts.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, timezone
from typing import Any

from .orders import STATUSES, StoredOrder
from .wire import invalid_param, parse_date

__all__ = ["ORDERBY", "bool_param", "int_param", "order_filter", "order_sort"]

ORDERBY = ("date", "id", "include", "title", "slug", "modified")
BOUNDS = (
    ("after", False, True),
    ("before", False, False),
    ("modified_after", True, True),
    ("modified_before", True, False),
)


def int_param(query: Mapping[str, str], name: str, default: int, low: int, high: int | None) -> int:
    raw = query.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        raise invalid_param(name, f"{name} is not of type integer.") from exc
    if value < low or (high is not None and value > high):
        bound = (
            f"between {low} (inclusive) and {high} (inclusive)"
            if high
            else f"greater than or equal to {low}"
        )
        raise invalid_param(name, f"{name} must be {bound}")
    return value


def bool_param(query: Mapping[str, str], name: str) -> bool:
    raw = query.get(name, "").lower()
    if raw in ("", "0", "false"):
        return False
    if raw in ("1", "true"):
        return True
    raise invalid_param(name, f"{name} is not of type boolean.")


def order_filter(query: Mapping[str, str], offset: timezone) -> Callable[[StoredOrder], bool]:
    """Which orders the list's status and date parameters keep; 400 for a bad one."""
    gmt = bool_param(query, "dates_are_gmt")
    bounds: list[tuple[bool, datetime, bool]] = []
    for name, modified, after in BOUNDS:
        if query.get(name):
            bounds.append((modified, parse_date(query[name], name, gmt=gmt, offset=offset), after))
    raw_status = query.get("status") or query.get("status[]") or "any"
    statuses = {s.strip() for s in raw_status.split(",") if s.strip()}
    allowed = {"any", "trash", *STATUSES}
    if not statuses <= allowed:
        raise invalid_param("status", f"status[0] is not one of {', '.join(sorted(allowed))}.")

    def keep(stored: StoredOrder) -> bool:
        status = stored.data["status"]
        if "any" in statuses and status in ("trash", "checkout-draft"):
            return False
        if "any" not in statuses and status not in statuses:
            return False
        for modified, moment, after in bounds:
            value = (stored.modified if modified else stored.created).replace(microsecond=0)
            if (after and not value > moment) or (not after and not value < moment):
                return False
        return True

    return keep


def order_sort(query: Mapping[str, str]) -> tuple[Callable[[StoredOrder], Any], bool]:
    """(sort key, descending) from `orderby` and `order`; ties go by id."""
    orderby = query.get("orderby") or "date"
    if orderby not in ORDERBY:
        raise invalid_param("orderby", f"orderby is not one of {', '.join(ORDERBY)}.")
    direction = query.get("order") or "desc"
    if direction not in ("asc", "desc"):
        raise invalid_param("order", "order is not one of asc and desc.")

    def key(stored: StoredOrder) -> tuple[Any, ...]:
        if orderby == "date":
            return (stored.created.replace(microsecond=0), stored.data["id"])
        if orderby == "modified":
            return (stored.modified.replace(microsecond=0), stored.data["id"])
        return (stored.data["id"],)

    return key, direction == "desc"
