"""A platform's error envelope, translated into the connector error tree.

Gateways answer refusals in a body of their own (`error_response` with `code`,
`sub_code` and a message), often with HTTP 200. Each platform lists which of its codes
mean "slow down" and which mean "our side failed, try again"; everything else is a
refusal a person must look at.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..base import ConnectorError, RateLimited, Rejected, Unavailable

__all__ = ["ErrorCodes"]

_BAN = re.compile(r"(\d+(?:\.\d+)?)\s*more seconds")


@dataclass(frozen=True)
class ErrorCodes:
    """How one platform's error codes map onto retry-later or refused."""

    platform: str
    rate_limited: frozenset[str] = frozenset()
    retryable: frozenset[str] = frozenset()
    rate_limited_prefixes: tuple[str, ...] = ()
    retryable_prefixes: tuple[str, ...] = ()

    def error(
        self,
        code: str,
        message: str,
        *,
        sub_code: str = "",
        status: int | None = None,
        retry_after: float | None = None,
    ) -> ConnectorError:
        """The connector error for this code (and sub code). A refusal keeps the
        platform's message as a person will read it, and its code apart."""
        codes = [c for c in (code, sub_code) if c]
        if _matches(codes, self.rate_limited, self.rate_limited_prefixes):
            ban = _BAN.search(message)
            wait = float(ban.group(1)) if ban else retry_after
            return RateLimited(message, retry_after=wait, status_code=status)
        if _matches(codes, self.retryable, self.retryable_prefixes):
            return Unavailable(f"{message} ({'/'.join(codes)})", status_code=status)
        return Rejected(message, code=sub_code or code, status_code=status)


def _matches(codes: list[str], exact: frozenset[str], prefixes: tuple[str, ...]) -> bool:
    return any(c in exact or (prefixes and c.startswith(prefixes)) for c in codes)
