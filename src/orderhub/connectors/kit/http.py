"""HTTP for every connector: one client, timeouts, and failures mapped onto the error tree.

When no proxy is configured, `Transport.send` sends each request over connections kept
open per server (`connections`): the platforms sign each call and use no redirects or
client-side auth, and skipping the client's handling of them, of cookies, and httpx's
own connection pool takes about half the CPU off each call. A request of text
parameters, a body of bytes and plain headers (the calls to Qimen, Douyin, 4PX, 精斗云) is
written here as httpx writes it, the same bytes on the wire, without building an
`httpx.Request` (about 60 µs: httpx parses the whole URL again, query and all); any
other is built by httpx. It goes through `httpx.Client` for a platform whose session
lives in cookies (`keep_cookies`: Kingdee), with a proxy in the environment, or with a
client handed in (tests).

`Transport.send` turns what the network and the status line say into the connector
errors the worker understands: a timeout, a refused connection or a 5xx is
`Unavailable`; a 429 is `RateLimited` with its `Retry-After`. What the body says is the
platform's business (see `envelopes`). `Transport.call` runs one remote call with a few
short retries: `Unavailable` with jittered exponential backoff, `RateLimited` when the
platform asks for no more than `max_inline_wait` seconds. Longer waits are the worker's.
"""

from __future__ import annotations

import functools
import http.client
import logging
import random
import re
import ssl
import time
import urllib.request
from collections.abc import Callable, Mapping
from typing import Any, TypeVar
from urllib.parse import quote_plus

import httpx

from orderhub import __version__

from ..base import RateLimited, Unavailable
from .connections import KeptConnections, place
from .retry_after import parse_retry_after

__all__ = ["MAX_INLINE_WAIT", "Transport", "new_client"]

log = logging.getLogger(__name__)

MAX_INLINE_WAIT = 2.0
"""Longest wait (seconds) a call sits out itself instead of raising RateLimited."""

T = TypeVar("T")

_HEADERS = httpx.Headers(
    {
        "User-Agent": f"orderhub/{__version__}",
        "Accept": "*/*",
        "Accept-Encoding": "gzip, deflate",
    }
)


@functools.cache
def _tls() -> ssl.SSLContext:
    """The system's trusted certificates, read once per process: reading them takes
    about 25 ms, and every connection checks servers the same way."""
    return ssl.create_default_context()


def new_client(timeout: float) -> httpx.Client:
    """An httpx client for one platform connection, checking certificates as usual."""
    return httpx.Client(timeout=timeout, verify=_tls())


def _text_query(url: str, params: Any) -> str | None:
    """The query of `params` on `url` as httpx writes it (spaces as `+`, everything else
    percent-encoded), "" for no params; None when it is httpx's to write: values that
    are not text, or a URL with a query already (httpx merges the two)."""
    if not params:
        return ""
    if "?" in url or not isinstance(params, dict):
        return None
    if not all(isinstance(k, str) and isinstance(v, str) for k, v in params.items()):
        return None
    return "&".join(f"{_quoted(key)}={_quoted(value)}" for key, value in params.items())


_AS_IS = re.compile(r"[A-Za-z0-9_.~-]*")


def _quoted(text: str) -> str:
    """`text` as `urlencode` writes it: most values (codes, names, hashes) are left as
    they are by `quote_plus`, and are told apart first, at a fraction of its cost."""
    return text if _AS_IS.fullmatch(text) else quote_plus(text)


def _with_query(url: str, options: dict[str, Any]) -> str:
    """`url` with the call's `params` written as its query, taken out of `options`, when
    they are text (`_text_query`). httpx merges params into a URL by parsing it again,
    about a tenth of the CPU of a call signed in its query (a Qimen delivery order: 1.09
    against 1.22 ms)."""
    query = _text_query(url, options.get("params"))
    if not query:
        return url
    del options["params"]
    return f"{url}?{query}"


_BY_NAME = {name.decode().lower(): (name.decode(), value.decode()) for name, value in _HEADERS.raw}
_SIZED = ("POST", "PUT", "PATCH")


def _write(
    pool: KeptConnections, verb: str, url: str, options: dict[str, Any]
) -> httpx.Response | None:
    """Send the request httpx would build from these options, written without it, over
    `pool`; None, having sent nothing, for a request this does not write: options other
    than text `params`, a `content` of bytes or text and `headers` of ASCII text, or a
    URL that has a query or fragment already.

    As httpx writes it: Host first, then the kit's headers but those the connector
    names (whatever its case), then the connector's, then Content-Length (first, as 0,
    for an empty POST, PUT or PATCH)."""
    if not options.keys() <= {"params", "content", "headers"} or "?" in url or "#" in url:
        return None
    query = _text_query(url, options.get("params"))
    if query is None:
        return None
    content = options.get("content")
    if content is None or isinstance(content, bytes):
        body = content or b""
    elif isinstance(content, str):
        body = content.encode()
    else:
        return None
    given = options.get("headers") or {}
    if not isinstance(given, Mapping):
        return None
    if not all(
        isinstance(name, str) and isinstance(value, str) and name.isascii() and value.isascii()
        for name, value in given.items()
    ):
        return None
    given_names = {name.lower() for name in given}
    if len(given_names) < len(given):
        return None
    headers = [pair for name, pair in _BY_NAME.items() if name not in given_names]
    headers.extend(given.items())
    names = {name.lower() for name, _ in headers}
    verb = verb.upper()
    where = place(url)
    lines: list[tuple[bytes, bytes]] = []
    if "host" not in names:
        lines.append((b"Host", where.host))
    sized = "content-length" in names or "transfer-encoding" in names
    if not body and not sized and verb in _SIZED:
        lines.append((b"Content-Length", b"0"))
    lines.extend((name.encode(), value.encode()) for name, value in headers)
    if body and "content-length" not in names:
        lines.append((b"Content-Length", str(len(body)).encode()))
    full = f"{url}?{query}" if query else url

    def sent() -> httpx.Request:
        return httpx.Request(verb, full, headers=headers, content=content)

    target = f"{where.path}?{query}" if query else where.path
    return pool.send_written(verb, where, target, lines, body, sent=sent)


def _proxy_set() -> bool:
    """Whether the environment names a proxy (NO_PROXY alone names none)."""
    return any(scheme != "no" for scheme in urllib.request.getproxies())


class Transport:
    """HTTP for one platform connection, with the retry rules above."""

    def __init__(
        self,
        platform: str,
        *,
        timeout: float = 10.0,
        max_retries: int = 2,
        backoff: float = 0.25,
        max_inline_wait: float = MAX_INLINE_WAIT,
        client: httpx.Client | None = None,
        keep_cookies: bool = False,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.platform = platform
        self.timeout = timeout
        self.max_retries = max(max_retries, 0)
        self.backoff = backoff
        self.max_inline_wait = max_inline_wait
        # Without a client handed in, the pool alone serves, unless the session lives in
        # cookies or a proxy is set (the client reads proxies, and the hosts they skip,
        # from the environment).
        self._pool: KeptConnections | None = None
        self.http: httpx.Client | None = client
        self._owns = client is None
        if client is None:
            if keep_cookies or _proxy_set():
                self.http = new_client(timeout)
            else:
                self._pool = KeptConnections(timeout=timeout, tls=_tls())
        self._sleep = sleep
        self._rng = random.Random()

    def send(self, verb: str, url: str, *, what: str, **options: Any) -> httpx.Response:
        """One request; network failures, 429 and 5xx raised as connector errors."""
        try:
            response = self._request(verb, url, options)
        except (httpx.TimeoutException, TimeoutError) as exc:
            raise Unavailable(f"{self.platform} {what} timed out") from exc
        except (httpx.TransportError, OSError, http.client.HTTPException) as exc:
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

    def _request(self, verb: str, url: str, options: dict[str, Any]) -> httpx.Response:
        if self.http is not None:
            return self.http.request(verb, url, timeout=self.timeout, **options)
        assert self._pool is not None
        written = _write(self._pool, verb, url, options)
        if written is not None:
            return written
        url = _with_query(url, options)
        headers = _HEADERS.copy()
        headers.update(options.pop("headers", None) or {})
        return self._pool.send(httpx.Request(verb, url, headers=headers, **options))

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
        if self._owns and self.http is not None:
            self.http.close()
        if self._pool is not None:
            self._pool.close()

    def _delay(self, tries: int) -> float:
        step: float = self.backoff * 2**tries
        return step / 2 + self._rng.uniform(0, step / 2)
