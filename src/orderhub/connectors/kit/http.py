"""HTTP for every connector: one client, timeouts, and failures mapped onto the error tree.

`Transport.send` turns what the network and the status line say into the connector
errors the worker understands: a timeout, a refused connection or a 5xx is
`Unavailable`; a 429 is `RateLimited` with its `Retry-After`. What the body says is the
platform's business (see `envelopes`). `Transport.call` runs one remote call with a few
short retries: `Unavailable` with jittered exponential backoff, `RateLimited` when the
platform asks for no more than `max_inline_wait` seconds. Longer waits are the worker's.
"""

from __future__ import annotations

import functools
import logging
import random
import ssl
import time
from collections.abc import Callable
from typing import Any, TypeVar

import httpx

from ..base import RateLimited, Unavailable
from .retry_after import parse_retry_after

__all__ = ["MAX_INLINE_WAIT", "Transport", "new_client"]

log = logging.getLogger(__name__)

MAX_INLINE_WAIT = 2.0
"""Longest wait (seconds) a call sits out itself instead of raising RateLimited."""

T = TypeVar("T")


@functools.cache
def _tls() -> ssl.SSLContext:
    """The system's trusted certificates, read once per process: reading them takes
    about 25 ms, and every connection checks servers the same way."""
    return ssl.create_default_context()


def new_client(timeout: float) -> httpx.Client:
    """An httpx client for one platform connection, checking certificates as usual."""
    return httpx.Client(timeout=timeout, verify=_tls())


class Transport:
    """An httpx client for one platform connection, with the retry rules above."""

    def __init__(
        self,
        platform: str,
        *,
        timeout: float = 10.0,
        max_retries: int = 2,
        backoff: float = 0.25,
        max_inline_wait: float = MAX_INLINE_WAIT,
        client: httpx.Client | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.platform = platform
        self.timeout = timeout
        self.max_retries = max(max_retries, 0)
        self.backoff = backoff
        self.max_inline_wait = max_inline_wait
        self._owns = client is None
        self.http = client if client is not None else new_client(timeout)
        self._sleep = sleep
        self._rng = random.Random()

    def send(self, verb: str, url: str, *, what: str, **options: Any) -> httpx.Response:
        """One request; network failures, 429 and 5xx raised as connector errors."""
        try:
            response = self.http.request(verb, url, timeout=self.timeout, **options)
        except httpx.TimeoutException as exc:
            raise Unavailable(f"{self.platform} {what} timed out") from exc
        except httpx.TransportError as exc:
            raise Unavailable(f"{self.platform} {what} could not be reached ({exc!r})") from exc
        status = response.status_code
        if status == 429:
            raise RateLimited(
                f"{self.platform} {what} was rate limited",
                retry_after=parse_retry_after(response.headers.get("Retry-After")),
                status_code=status,
            )
        if status >= 500:
            raise Unavailable(
                f"{self.platform} {what} failed with HTTP {status}", status_code=status
            )
        return response

    def call(self, attempt: Callable[[], T], *, what: str) -> T:
        """`attempt()` with the short retries described above."""
        tries = 0
        while True:
            try:
                return attempt()
            except RateLimited as exc:
                wait = exc.retry_after
                if tries >= self.max_retries or wait is None or wait > self.max_inline_wait:
                    raise
            except Unavailable as exc:
                if tries >= self.max_retries:
                    raise
                wait = self._delay(tries)
                log.warning(
                    "%s %s failed (%s); retry %d in %.2fs",
                    self.platform,
                    what,
                    exc.message,
                    tries + 1,
                    wait,
                )
            self._sleep(wait)
            tries += 1

    def close(self) -> None:
        """Close the HTTP client if this transport made it."""
        if self._owns:
            self.http.close()

    def _delay(self, tries: int) -> float:
        step: float = self.backoff * 2**tries
        return step / 2 + self._rng.uniform(0, step / 2)
