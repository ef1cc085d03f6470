"""What stands before every SP-API operation: the token, then the operation's quota.

A call without a token Amazon issued, or with one that expired, is 403 `Unauthorized`;
an RDT works only for the resources it names, and createRestrictedDataToken takes only
an LWA access token. A call past its quota is 429 `QuotaExceeded`. Every answer,
refusals included, carries `x-amzn-RequestId` and the operation's
`x-amzn-RateLimit-Limit`; anything a handler cannot read is 400 `InvalidInput`.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import Response

from .quota import Quotas
from .tokens import DENIED, Grant, TokenBook
from .wire import ApiError, Json, errors_body, invalid, respond

__all__ = ["Gate", "Handler", "read_json"]

log = logging.getLogger(__name__)
Handler = Callable[[Request, Grant], Awaitable[tuple[int, Json | None]]]
QUOTA_EXCEEDED = "You exceeded your quota for the requested resource."


async def read_json(request: Request) -> Json:
    """The request's JSON object; InvalidInput otherwise."""
    try:
        data = json.loads(await request.body() or b"{}")
    except (ValueError, UnicodeDecodeError) as exc:
        raise invalid("The request body is not valid JSON.") from exc
    if not isinstance(data, dict):
        raise invalid("The request body must be a JSON object.")
    return data


@dataclass
class Gate:
    """Wraps handlers with the token check and the operation's token bucket."""

    tokens: TokenBook
    quotas: Quotas

    def guard(
        self, operation: str, handler: Handler, *, rdt: bool = True
    ) -> Callable[[Request], Awaitable[Response]]:
        """An endpoint for `operation`; `rdt=False` refuses Restricted Data Tokens."""

        async def endpoint(request: Request) -> Response:
            limit = self.quotas.rate(operation)
            try:
                grant = self.tokens.check(request.headers.get("x-amz-access-token", ""))
                method, path = request.method, request.url.path
                opened = any(r.covers(method, path) for r in grant.resources)
                if grant.kind == "rdt" and not (rdt and opened):
                    raise ApiError(403, "Unauthorized", DENIED)
                if not self.quotas.admit(operation):
                    raise ApiError(429, "QuotaExceeded", QUOTA_EXCEEDED)
                status, body = await handler(request, grant)
            except ApiError as exc:
                return respond(
                    errors_body(exc.code, exc.message, exc.details), exc.status, limit=limit
                )
            except (KeyError, TypeError, ValueError) as exc:
                log.info("unreadable request to %s", request.url.path, exc_info=True)
                return respond(errors_body("InvalidInput", str(exc)), 400, limit=limit)
            return respond(body, status, limit=limit)

        return endpoint
