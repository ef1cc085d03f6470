"""Finances v0: listFinancialEvents, for the refunds a seller gave.

`GET /finances/v0/financialEvents` takes `PostedAfter` (required here), an optional
`PostedBefore` (not earlier than `PostedAfter`, at least two minutes before now, as
`before_margin` says), `MaxResultsPerPage` 1-100 (default 100) or a `NextToken`, with
which the other parameters are ignored. The answer's `payload.FinancialEvents` holds one
list per event kind; this account records refunds only (`RefundEventList`, each a
ShipmentEvent with `ShipmentItemAdjustmentList`), so the other lists are empty.
Bounds are inclusive; events are sorted by `PostedDate` then by order id.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from starlette.requests import Request

from .state import AmazonState
from .tokens import Grant
from .wire import Json, invalid, iso, next_token, parse_time, read_next_token

__all__ = ["FinancesApi"]

MAX_PAGE = 100
_EMPTY_LISTS = (
    "ShipmentEventList",
    "ChargebackEventList",
    "GuaranteeClaimEventList",
    "ServiceFeeEventList",
    "AdjustmentEventList",
)


@dataclass
class FinancesApi:
    """The listFinancialEvents handler over one account's refunds."""

    state: AmazonState
    before_margin: Callable[[], float]

    async def list_events(self, request: Request, grant: Grant) -> tuple[int, Json | None]:
        token = request.query_params.get("NextToken")
        query = read_next_token(token, needs="after") if token else self._query(request)
        after, before = (
            parse_time(query["after"], "PostedAfter"),
            parse_time(query["before"], "PostedBefore"),
        )
        with self.state.lock:
            found = [
                event
                for event in self.state.refund_events
                if after <= parse_time(event["PostedDate"], "PostedDate") <= before
                and _past(event, query.get("last"))
            ]
        found.sort(key=lambda e: (e["PostedDate"], e["AmazonOrderId"]))
        page = found[: query["size"]]
        body: Json = {
            "FinancialEvents": {
                "RefundEventList": page,
                **{name: [] for name in _EMPTY_LISTS},
            }
        }
        if len(found) > query["size"]:
            last = page[-1]
            body["NextToken"] = next_token(
                {**query, "last": [last["PostedDate"], last["AmazonOrderId"]]}
            )
        return 200, {"payload": body}

    def _query(self, request: Request) -> dict[str, Any]:
        q = request.query_params
        if not q.get("PostedAfter"):
            raise invalid("PostedAfter is required.")
        after = parse_time(q["PostedAfter"], "PostedAfter")
        latest = datetime.now(UTC) - timedelta(seconds=self.before_margin())
        raw = q.get("PostedBefore")
        before = parse_time(raw, "PostedBefore") if raw else latest.replace(microsecond=0)
        if before < after:
            raise invalid("PostedBefore must be later than or equal to PostedAfter.")
        if before > latest + timedelta(seconds=1):
            raise invalid("PostedBefore must be at least 2 minutes before the time of the request.")
        size_raw = q.get("MaxResultsPerPage", str(MAX_PAGE))
        try:
            size = int(size_raw)
        except ValueError as exc:
            raise invalid(f"Invalid MaxResultsPerPage: {size_raw}") from exc
        if not 1 <= size <= MAX_PAGE:
            raise invalid("MaxResultsPerPage must be between 1 and 100.")
        return {"after": iso(after), "before": iso(before), "size": size}


def _past(event: Json, last: list[str] | None) -> bool:
    """After the last event a previous page ended with."""
    return last is None or (event["PostedDate"], event["AmazonOrderId"]) > (last[0], last[1])
