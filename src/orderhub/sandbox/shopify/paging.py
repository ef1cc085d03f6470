"""Cursor paging and list filters, as the REST Admin API pages lists with `page_info`.

Lists are returned in ascending id order (creation order), which keeps a cursor stable
while new orders arrive. The cursor (`page_info`) is an opaque token that carries the
direction, the boundary id and the original filters; a request with `page_info` may
add only `limit` and `fields`, and the `Link` header offers `rel="previous"` and
`rel="next"` URLs like `<https://shop/admin/api/2025-07/orders.json?limit=2&page_info=...>`.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, timezone
from urllib.parse import urlencode

from orderhub.sandbox.shopify.common import ApiError, Json, parse_time

__all__ = [
    "Page",
    "PageRequest",
    "id_filter",
    "order_filter",
    "paginate",
    "parse_page_request",
    "project",
]

MAX_LIMIT = 250
DEFAULT_LIMIT = 50
PAGING_PARAMS = frozenset({"limit", "fields", "page_info"})


@dataclass(frozen=True)
class PageRequest:
    """What a list call asked for: size, projection, filters and an optional cursor."""

    limit: int
    fields: tuple[str, ...]
    filters: dict[str, str]
    direction: str | None = None
    boundary: int | None = None


@dataclass(frozen=True)
class Page:
    """The items of one page and the `Link` header value that leads away from it."""

    items: list[Json]
    link: str | None


def _token(resource: str, direction: str, boundary: int, filters: Mapping[str, str]) -> str:
    raw = json.dumps({"r": resource, "d": direction, "b": boundary, "f": dict(filters)})
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def parse_page_request(query: Mapping[str, str], resource: str) -> PageRequest:
    """Read limit/fields/page_info and filters; 400 for what Shopify refuses."""
    try:
        limit = int(query.get("limit", DEFAULT_LIMIT))
    except ValueError as exc:
        raise ApiError(400, {"limit": "Invalid value."}) from exc
    if not 1 <= limit <= MAX_LIMIT:
        raise ApiError(400, {"limit": f"Must be between 1 and {MAX_LIMIT}."})
    fields = tuple(f.strip() for f in query.get("fields", "").split(",") if f.strip())
    page_info = query.get("page_info")
    if page_info is None:
        filters = {k: v for k, v in query.items() if k not in PAGING_PARAMS}
        return PageRequest(limit, fields, filters)
    extra = sorted(set(query) - PAGING_PARAMS)
    if extra:
        raise ApiError(
            400, {"page_info": f"Only limit and fields may accompany page_info, not {extra[0]}."}
        )
    try:
        padded = page_info + "=" * (-len(page_info) % 4)
        decoded = json.loads(base64.urlsafe_b64decode(padded.encode()))
        direction, boundary, filters = decoded["d"], int(decoded["b"]), decoded["f"]
        valid = decoded["r"] == resource and direction in {"next", "prev"}
    except (binascii.Error, ValueError, KeyError, TypeError) as exc:
        raise ApiError(400, {"page_info": "Invalid value."}) from exc
    if not valid or not isinstance(filters, dict):
        raise ApiError(400, {"page_info": "Invalid value."})
    return PageRequest(
        limit, fields, {str(k): str(v) for k, v in filters.items()}, direction, boundary
    )


def project(item: Json, fields: Sequence[str]) -> Json:
    """Keep only the requested top-level fields, as `fields=id,name` does."""
    if not fields:
        return item
    return {key: item[key] for key in fields if key in item}


def paginate(items: Sequence[Json], request: PageRequest, url: str, resource: str) -> Page:
    """One page of `items` (already filtered, ascending id) and its Link header."""
    if request.direction == "next" and request.boundary is not None:
        after = [i for i in items if i["id"] > request.boundary]
        page = after[: request.limit]
        has_next, has_prev = len(after) > request.limit, True
    elif request.direction == "prev" and request.boundary is not None:
        before = [i for i in items if i["id"] < request.boundary]
        page = before[-request.limit :]
        has_next, has_prev = True, len(before) > request.limit
    else:
        page = list(items[: request.limit])
        has_next, has_prev = len(items) > request.limit, False
    links: list[str] = []
    common: dict[str, str] = {"limit": str(request.limit)}
    if request.fields:
        common["fields"] = ",".join(request.fields)
    if has_prev and page:
        token = _token(resource, "prev", page[0]["id"], request.filters)
        links.append(f'<{url}?{urlencode({**common, "page_info": token})}>; rel="previous"')
    if has_next and page:
        token = _token(resource, "next", page[-1]["id"], request.filters)
        links.append(f'<{url}?{urlencode({**common, "page_info": token})}>; rel="next"')
    return Page(page, ", ".join(links) or None)


def _time_bound(
    filters: Mapping[str, str], field: str, key: str, tz: timezone
) -> Callable[[Json], bool] | None:
    text = filters.get(key)
    if text is None:
        return None
    try:
        bound = parse_time(text, tz)
    except ValueError as exc:
        raise ApiError(400, {key: "Invalid value."}) from exc
    upper = key.endswith("_max")

    def check(item: Json) -> bool:
        value = item.get(field)
        if not value:
            return False
        moment = parse_time(str(value), tz)
        return moment <= bound if upper else moment >= bound

    return check


FULFILLMENT_FILTERS: dict[str, Callable[[str | None], bool]] = {
    "any": lambda s: True,
    "shipped": lambda s: s == "fulfilled",
    "partial": lambda s: s == "partial",
    "unshipped": lambda s: s is None,
    "unfulfilled": lambda s: s in {None, "partial"},
}
STATUS_FILTERS: dict[str, Callable[[Json], bool]] = {
    "open": lambda o: not o.get("closed_at") and not o.get("cancelled_at"),
    "closed": lambda o: bool(o.get("closed_at")),
    "cancelled": lambda o: bool(o.get("cancelled_at")),
    "any": lambda o: True,
}


def order_filter(filters: Mapping[str, str], tz: timezone) -> Callable[[Json], bool]:
    """A predicate for GET orders.json filters; `status` defaults to open."""
    checks: list[Callable[[Json], bool]] = []
    status = filters.get("status", "open")
    if status not in STATUS_FILTERS:
        raise ApiError(400, {"status": "Invalid value."})
    checks.append(STATUS_FILTERS[status])
    try:
        if "ids" in filters:
            wanted = {int(x) for x in filters["ids"].split(",") if x.strip()}
            checks.append(lambda o: o["id"] in wanted)
        if "since_id" in filters:
            since = int(filters["since_id"])
            checks.append(lambda o: o["id"] > since)
    except ValueError as exc:
        raise ApiError(400, {"ids": "Invalid value."}) from exc
    for field in ("created_at", "updated_at", "processed_at"):
        for key in (f"{field}_min", f"{field}_max"):
            bound = _time_bound(filters, field, key, tz)
            if bound is not None:
                checks.append(bound)
    financial = filters.get("financial_status", "any")
    if financial == "unpaid":
        checks.append(
            lambda o: o["financial_status"] in {"pending", "authorized", "partially_paid"}
        )
    elif financial != "any":
        checks.append(lambda o: o["financial_status"] == financial)
    fulfillment = filters.get("fulfillment_status", "any")
    if fulfillment not in FULFILLMENT_FILTERS:
        raise ApiError(400, {"fulfillment_status": "Invalid value."})
    shipped = FULFILLMENT_FILTERS[fulfillment]
    checks.append(lambda o: shipped(o.get("fulfillment_status")))
    if "name" in filters:
        names = {filters["name"], f"#{filters['name'].lstrip('#')}"}
        checks.append(lambda o: o.get("name") in names)
    return lambda order: all(check(order) for check in checks)


def id_filter(filters: Mapping[str, str]) -> Callable[[Json], bool]:
    """`ids` and `since_id` for the simpler lists (products)."""
    return order_filter({**filters, "status": "any"}, UTC)
