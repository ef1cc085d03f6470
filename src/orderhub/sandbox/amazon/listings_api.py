"""Listings Items 2021-08-01: search a seller's listings, read one, patch its quantity.

`GET /listings/2021-08-01/items/{sellerId}` (searchListingsItems: `marketplaceIds`,
`includedData` default `summaries`, `pageSize` default 10, at most 20 here, `pageToken`)
answers `{numberOfResults, pagination{nextToken}, items[{sku, summaries[…]}]}`; at most
1000 items can be paged through. `GET …/{sellerId}/{sku}` is one Item. `PATCH
…/{sellerId}/{sku}?marketplaceIds=` takes `{productType, patches[{op, path, value}]}`;
the MFN quantity is `replace` on `/attributes/fulfillment_availability` with
`[{"fulfillment_channel_code": "DEFAULT", "quantity": N}]`. The answer is
`{sku, status: ACCEPTED|INVALID, submissionId, issues[]}`; a product type other than
the listing's is INVALID with an ERROR issue (its wording is this emulator's). An
unknown SKU is 404 `NOT_FOUND`.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request

from .gate import read_json
from .state import AmazonState, Listing
from .tokens import Grant
from .wire import ApiError, Json, invalid, iso

__all__ = ["ListingsApi"]

MAX_PAGE = 20
MAX_RESULTS = 1000
AVAILABILITY = "/attributes/fulfillment_availability"
OPS = frozenset({"add", "replace", "merge", "delete"})


@dataclass
class ListingsApi:
    """The Listings Items handlers over one seller's listings."""

    state: AmazonState
    seller_id: str

    def _check(self, request: Request) -> None:
        if request.path_params["sellerId"] != self.seller_id:
            raise ApiError(403, "Unauthorized", "Access to requested resource is denied.")
        markets = request.query_params.get("marketplaceIds", "")
        if self.state.marketplace_id not in markets.split(","):
            raise invalid("marketplaceIds is required and must name the seller's marketplace.")

    def _item(self, listing: Listing, included: list[str]) -> Json:
        item: Json = {"sku": listing.sku}
        if "summaries" in included:
            item["summaries"] = [
                {
                    "marketplaceId": self.state.marketplace_id,
                    "asin": listing.asin,
                    "productType": listing.product_type,
                    "conditionType": "new_new",
                    "status": ["BUYABLE", "DISCOVERABLE"],
                    "itemName": listing.title,
                    "createdDate": iso(listing.created),
                    "lastUpdatedDate": iso(listing.updated),
                }
            ]
        if "fulfillmentAvailability" in included:
            item["fulfillmentAvailability"] = [
                {"fulfillmentChannelCode": "DEFAULT", "quantity": listing.quantity}
            ]
        return item

    @staticmethod
    def _included(request: Request) -> list[str]:
        raw = request.query_params.get("includedData") or "summaries"
        return [x.strip() for x in raw.split(",") if x.strip()]

    async def search(self, request: Request, grant: Grant) -> tuple[int, Json | None]:
        self._check(request)
        size = int(request.query_params.get("pageSize") or 10)
        if not 1 <= size <= MAX_PAGE:
            raise invalid(f"pageSize must be between 1 and {MAX_PAGE}.")
        start = 0
        token = request.query_params.get("pageToken")
        if token:
            try:
                start = int(token.removeprefix("p"))
            except ValueError as exc:
                raise invalid("Invalid pageToken.") from exc
        with self.state.lock:
            listings = sorted(self.state.listings.values(), key=lambda x: x.updated, reverse=True)
            total = len(listings)
            reachable = listings[:MAX_RESULTS]
            page = reachable[start : start + size]
            items = [self._item(x, self._included(request)) for x in page]
        body: Json = {"numberOfResults": total, "items": items}
        pagination: dict[str, Any] = {}
        if start + size < len(reachable):
            pagination["nextToken"] = f"p{start + size}"
        if start > 0:
            pagination["previousToken"] = f"p{max(0, start - size)}"
        if pagination:
            body["pagination"] = pagination
        return 200, body

    def _listing(self, request: Request) -> Listing:
        sku = request.path_params["sku"]
        listing = self.state.listings.get(sku)
        if listing is None:
            raise ApiError(404, "NOT_FOUND", f"SKU '{sku}' not found in marketplace.")
        return listing

    async def get(self, request: Request, grant: Grant) -> tuple[int, Json | None]:
        self._check(request)
        with self.state.lock:
            return 200, self._item(self._listing(request), self._included(request))

    async def patch(self, request: Request, grant: Grant) -> tuple[int, Json | None]:
        self._check(request)
        body = await read_json(request)
        product_type = str(body.get("productType") or "")
        patches = body.get("patches")
        if not product_type or not isinstance(patches, list) or not patches:
            raise invalid("productType and patches are required.")
        with self.state.lock:
            listing = self._listing(request)
            answer: Json = {
                "sku": listing.sku,
                "status": "ACCEPTED",
                "submissionId": uuid.uuid4().hex,
                "issues": [],
            }
            if product_type != listing.product_type:
                answer["status"] = "INVALID"
                answer["issues"] = [
                    {
                        "code": "90000900",
                        "message": f"The product type {product_type} is not the listing's "
                        f"product type {listing.product_type}.",
                        "severity": "ERROR",
                        "attributeNames": [],
                        "categories": ["INVALID_ATTRIBUTE"],
                    }
                ]
                return 200, answer
            quantity = None
            for patch in patches:
                if not isinstance(patch, dict) or patch.get("op") not in OPS:
                    raise invalid("Each patch needs an op of add, replace, merge or delete.")
                if patch.get("path") == AVAILABILITY and patch["op"] != "delete":
                    quantity = _quantity(patch.get("value"))
            if quantity is not None:
                self.state.set_quantity(listing.sku, quantity, product_type)
        return 200, answer


def _quantity(value: object) -> int:
    """The DEFAULT (MFN) quantity out of a fulfillment_availability value."""
    if not isinstance(value, list):
        raise invalid("fulfillment_availability must be a list.")
    for entry in value:
        if isinstance(entry, dict) and entry.get("fulfillment_channel_code") == "DEFAULT":
            quantity = entry.get("quantity")
            if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 0:
                raise invalid("fulfillment_availability quantity must be a whole number ≥ 0.")
            return quantity
    raise invalid("fulfillment_availability needs a DEFAULT fulfillment_channel_code.")
