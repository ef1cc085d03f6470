"""Connections kept open to each server, over the standard library's `http.client`.

A connector's call to a warehouse or a shop is one small request and one small answer on
a connection kept alive. httpx's own connection pool (httpcore and h11) spends about
0.3 ms of CPU on such a call beyond what `http.client` spends; at a hundred orders a
second that is a few percent of a core. Answers are still `httpx.Response`s, so
connectors read them as before. A request comes either built by httpx (`send`), or
written by the kit as httpx would write it (`send_written`, see `kit.http`): then the
`httpx.Request` an answer names is built only if someone asks for it, since building one
parses the whole URL again (about 60 µs, a tenth of a call to a warehouse).

A connection goes back to the idle list after a full answer, unless the server said it
would close it. An idle connection is used again only if the server has not closed it
meanwhile (its socket has nothing to read) and it has been idle less than `idle_for`
seconds, the time servers commonly keep an idle connection (httpx's default too). A
call that fails closes its connection; the caller decides whether to try again.
"""

from __future__ import annotations

import functools
import http.client
import select
import ssl
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import httpx

__all__ = ["KeptConnections", "Place", "place"]

_Server = tuple[str, str, int]
"""Scheme, host and port."""

_Header = tuple[bytes, bytes]


@dataclass(frozen=True)
class Place:
    """Where a URL without a query points, as httpx reads it: the server, the path as
    the request line writes it, and the Host header."""

    server: _Server
    path: str
    host: bytes


@functools.lru_cache(maxsize=1024)
def place(url: str) -> Place:
    """`url` read once by httpx (a connector calls the same few URLs again and again)."""
    parsed = httpx.URL(url)
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    return Place((parsed.scheme, parsed.host, port), parsed.raw_path.decode("ascii"), parsed.netloc)


class _Answer(httpx.Response):
    """An answer whose `request` is built by httpx only when asked for."""

    def __init__(
        self,
        status: int,
        *,
        headers: list[_Header],
        content: bytes,
        extensions: dict[str, bytes],
        sent: Callable[[], httpx.Request],
    ) -> None:
        super().__init__(status, headers=headers, content=content, extensions=dict(extensions))
        self._sent = sent

    def _built(self) -> httpx.Request:
        if self._request is None:
            self._request = self._sent()
        return self._request

    @property
    def request(self) -> httpx.Request:
        return self._built()

    @request.setter
    def request(self, value: httpx.Request) -> None:
        self._request = value

    def raise_for_status(self) -> httpx.Response:
        self._built()  # httpx reads the request it names from `_request`
        return super().raise_for_status()


@dataclass
class _Idle:
    connection: http.client.HTTPConnection
    since: float = field(default_factory=time.monotonic)


def _closed_by_server(connection: http.client.HTTPConnection) -> bool:
    """Whether the server has closed an idle connection (or sent what nobody asked
    for): its socket then reads at once. An unused connection never reads."""
    sock = connection.sock
    if sock is None:
        return True
    try:
        if hasattr(select, "poll"):
            poller = select.poll()
            poller.register(sock, select.POLLIN)
            return bool(poller.poll(0))
        return bool(select.select([sock], [], [], 0)[0])
    except (OSError, ValueError):
        return True


class KeptConnections:
    """HTTP/1.1 connections kept per server for the calls of one platform connection;
    safe to use from several threads at once (each call has a connection to itself)."""

    def __init__(
        self,
        *,
        timeout: float,
        tls: ssl.SSLContext,
        most_idle: int = 20,
        idle_for: float = 5.0,
    ) -> None:
        self.timeout = timeout
        self.most_idle = most_idle
        self.idle_for = idle_for
        self._tls = tls
        self._idle: dict[_Server, list[_Idle]] = {}
        self._lock = threading.Lock()
        self._closed = False

    def send(self, request: httpx.Request) -> httpx.Response:
        """Send `request` and read its whole answer. Network failures raise `OSError`
        (`TimeoutError` for a timeout) or `http.client.HTTPException`."""
        url = request.url
        server = (url.scheme, url.host, url.port or (443 if url.scheme == "https" else 80))
        status, headers, body, extensions = self._exchange(
            server,
            request.method,
            url.raw_path.decode("ascii"),
            request.headers.raw,
            request.read(),
        )
        return httpx.Response(
            status, headers=headers, content=body, request=request, extensions=extensions
        )

    def send_written(
        self,
        method: str,
        where: Place,
        target: str,
        headers: Sequence[_Header],
        body: bytes,
        *,
        sent: Callable[[], httpx.Request],
    ) -> httpx.Response:
        """As `send`, for a request written already: `target` is the path and query of
        the request line, `headers` every header in order (Host first); `sent()` builds
        the `httpx.Request` the answer names, when asked."""
        status, answer_headers, answer_body, extensions = self._exchange(
            where.server, method, target, headers, body
        )
        return _Answer(
            status, headers=answer_headers, content=answer_body, extensions=extensions, sent=sent
        )

    def _exchange(
        self, server: _Server, method: str, target: str, headers: Sequence[_Header], body: bytes
    ) -> tuple[int, list[_Header], bytes, dict[str, bytes]]:
        connection = self._take(server)
        try:
            connection.putrequest(method, target, skip_host=True, skip_accept_encoding=True)
            for name, value in headers:
                connection.putheader(name, value)
            connection.endheaders(body or None)
            answer = connection.getresponse()
            content = answer.read()
        except BaseException:
            connection.close()
            raise
        if answer.will_close:
            connection.close()
        else:
            self._give_back(server, connection)
        return (
            answer.status,
            [(k.encode("latin-1"), v.encode("latin-1")) for k, v in answer.getheaders()],
            content,
            {
                "http_version": b"HTTP/1.1" if answer.version == 11 else b"HTTP/1.0",
                "reason_phrase": answer.reason.encode("latin-1", "replace"),
            },
        )

    def close(self) -> None:
        """Close every idle connection; calls in flight close theirs when done."""
        with self._lock:
            self._closed = True
            idle = [kept for kept_list in self._idle.values() for kept in kept_list]
            self._idle.clear()
        for kept in idle:
            kept.connection.close()

    def _take(self, server: _Server) -> http.client.HTTPConnection:
        now = time.monotonic()
        while True:
            with self._lock:
                kept_list = self._idle.get(server)
                kept = kept_list.pop() if kept_list else None
            if kept is None:
                return self._open(server)
            if now - kept.since < self.idle_for and not _closed_by_server(kept.connection):
                return kept.connection
            kept.connection.close()

    def _give_back(self, server: _Server, connection: http.client.HTTPConnection) -> None:
        with self._lock:
            kept_list = self._idle.setdefault(server, [])
            if not self._closed and len(kept_list) < self.most_idle:
                kept_list.append(_Idle(connection))
                return
        connection.close()

    def _open(self, server: _Server) -> http.client.HTTPConnection:
        scheme, host, port = server
        connection: http.client.HTTPConnection
        if scheme == "https":
            connection = http.client.HTTPSConnection(
                host, port, timeout=self.timeout, context=self._tls
            )
        else:
            connection = http.client.HTTPConnection(host, port, timeout=self.timeout)
        connection.connect()
        return connection
