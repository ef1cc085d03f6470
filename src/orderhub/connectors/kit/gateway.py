"""One call to a "router" gateway: a form POST whose answer is JSON or an error envelope.

TOP, Pinduoduo and JD each expose a single URL taking a method name and signed
parameters. Their success and error bodies differ only in names, so a platform gives a
function that reads its error envelope, and this module does the rest: bounded JSON,
unreadable replies as `Unavailable`, envelopes as the platform's `ErrorCodes` say.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from ..base import Unavailable
from . import bounded_json
from .envelopes import ErrorCodes
from .http import Transport

__all__ = ["ErrorReader", "PlatformError", "post_form"]

PlatformError = tuple[str, str, str]
"""(code, message, sub code) read from an error envelope."""

ErrorReader = Callable[[Mapping[str, Any]], "PlatformError | None"]


def post_form(
    transport: Transport,
    url: str,
    params: Mapping[str, str],
    *,
    what: str,
    errors: ErrorCodes,
    read_error: ErrorReader,
) -> dict[str, Any]:
    """POST `params` as a form; the decoded JSON object, or a connector error."""
    response = transport.send("POST", url, what=what, data=dict(params))
    try:
        body = bounded_json.loads(response.content)
    except ValueError as exc:
        raise Unavailable(
            f"{transport.platform} {what} sent an unreadable reply: {exc}",
            status_code=response.status_code,
        ) from exc
    if not isinstance(body, dict):
        raise Unavailable(f"{transport.platform} {what} sent a reply that is not an object")
    problem = read_error(body)
    if problem is not None:
        code, message, sub_code = problem
        raise errors.error(code, message, sub_code=sub_code, status=response.status_code)
    return body
