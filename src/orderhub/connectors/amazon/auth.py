"""Tokens that are kept until shortly before they expire: the LWA access token and the
Restricted Data Token.

An LWA access token lives an hour (`expires_in` 3600). It is fetched once and reused by
every call and thread until `margin` seconds before it expires; when SP-API still says
"The access token you provided has expired." the token is dropped and fetched again,
once. The same holds for an RDT, which lives as long (`expiresIn`).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

__all__ = ["KeptToken"]


class KeptToken:
    """A token from `fetch() -> (token, seconds it lives)`, kept while it is fresh."""

    def __init__(
        self,
        fetch: Callable[[], tuple[str, float]],
        *,
        margin: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._fetch = fetch
        self._margin = margin
        self._clock = clock
        self._lock = threading.Lock()
        self._token: str | None = None
        self._until = 0.0
        self.fetched = 0

    def get(self) -> str:
        """The kept token, or a new one when it is missing or about to expire."""
        with self._lock:
            if self._token is not None and self._clock() < self._until:
                return self._token
            token, lives = self._fetch()
            self.fetched += 1
            self._token = token
            self._until = self._clock() + max(lives - self._margin, lives / 2)
            return token

    def expired(self, token: str) -> None:
        """The platform said `token` expired: the next `get` fetches a new one."""
        with self._lock:
            if self._token == token:
                self._token = None
