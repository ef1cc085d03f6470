"""Connections kept open to each server: a request written to a socket, its answer read
by httptools.

A connector's call to a warehouse or a shop is one small request and one small answer on
a connection kept alive. httpx's own connection pool (httpcore and h11) spends about
0.3 ms of CPU on such a call, and the standard library's `http.client` 0.17–0.22 ms
(it reads the answer a line at a time through a file object made for each answer, and
parses its headers as e-mail); the request written in one `sendall` and the answer read
by httptools (llhttp, in C; uvicorn's parser) take about 0.06 ms on the same machine.
Answers are still `httpx.Response`s, so connectors read them as before. A request comes
either built by httpx (`send`), or written by the kit as httpx would write it
(`send_written`, see `kit.http`): then the `httpx.Request` an answer names is built only
if someone asks for it, since building one parses the whole URL again (about 60 µs).

A connection goes back to the idle list after a full answer, unless the server said it
would close it. An idle connection is used again only if the server has not closed it
meanwhile (its socket has nothing to read) and it has been idle less than `idle_for`
seconds, the time servers commonly keep an idle connection (httpx's default too). A
call that fails closes its connection; the caller decides whether to try again. Network
failures raise `OSError` (`TimeoutError` for a timeout), and an answer that is not
HTTP, or ends early, raises `http.client.HTTPException`, as `http.client` would.
"""

from __future__ import annotations

import functools
import http.client
import re
import select
import socket
import ssl
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import httptools
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


# What http.client refuses to write, refused alike: a method that is not a token, a
# target with spaces or control characters, a header name that is not a token, a value
# that would start a header or a request of its own.
_TOKEN = re.compile(rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_BAD_TARGET = re.compile(r"[\x00-\x20\x7f]")
_BAD_VALUE = re.compile(rb"[\r\n\x00]")

_MOST_HEADERS = 100
_MOST_HEAD_BYTES = 65_536
"""An answer with more headers, or more bytes before its body, is refused (the limits
`http.client` keeps): a server cannot make the hub hold a head without end."""


def _head(method: str, target: str, headers: Sequence[_Header]) -> bytes:
    """The request line and headers, as h11 (httpx's writer) writes them."""
    verb = method.encode("ascii")
    if not _TOKEN.fullmatch(verb) or _BAD_TARGET.search(target):
        raise ValueError(f"{method} {target!r} cannot be written as a request line")
    host: list[bytes] = []  # first, as RFC 9112 asks and h11 writes it
    rest: list[bytes] = []
    for name, value in headers:
        if not _TOKEN.fullmatch(name) or _BAD_VALUE.search(value):
            raise ValueError(f"the header {name!r}: {value!r} cannot be written")
        (host if name.lower() == b"host" else rest).append(b"%s: %s\r\n" % (name, value))
    line = b"%s %s HTTP/1.1\r\n" % (verb, target.encode("ascii"))
    return b"".join((line, *host, *rest, b"\r\n"))


class _Reading:
    """One answer as httptools reads it; its callbacks gather the parts."""

    def __init__(self, *, head_only: bool) -> None:
        self.head_only = head_only  # an answer to HEAD has no body, whatever it says
        self.parser: httptools.HttpResponseParser | None = httptools.HttpResponseParser(self)
        self.status = 0
        self.version = b"HTTP/1.1"
        self.reason = b""
        self.headers: list[_Header] = []
        self.body: list[bytes] = []
        self.head_done = False
        self.complete = False
        self.more = False  # something came after the answer: the connection is not reused
        self.sized = False  # a length or chunks say where the body ends (else: at close)
        self.keep_alive = False

    def on_message_begin(self) -> None:
        if self.complete:
            self.more = True

    def on_status(self, reason: bytes) -> None:
        self.reason += reason

    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers.append((name, value))
        if name.lower() in (b"content-length", b"transfer-encoding"):
            self.sized = True

    def on_headers_complete(self) -> None:
        assert self.parser is not None
        self.head_done = True
        self.status = self.parser.get_status_code()
        self.version = b"HTTP/" + self.parser.get_http_version().encode("ascii")
        self.keep_alive = self.parser.should_keep_alive()  # asked before the parser moves on
        if self.head_only:
            self.complete = True

    def on_body(self, chunk: bytes) -> None:
        self.body.append(chunk)

    def on_message_complete(self) -> None:
        if 100 <= self.status < 200:  # an interim answer: the real one follows
            self.reason, self.headers, self.head_done, self.sized = b"", [], False, False
            return
        self.complete = True

    def feed(self, data: bytes, read: int) -> None:
        assert self.parser is not None
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError as exc:
            raise http.client.HTTPException(f"the answer is not HTTP/1.1 ({exc})") from exc
        if not self.head_done and (len(self.headers) > _MOST_HEADERS or read > _MOST_HEAD_BYTES):
            raise http.client.HTTPException("the answer's head is longer than any server's")

    def ended(self) -> None:
        """The server closed the connection: the end of a body sized by nothing, or an
        answer cut short."""
        if not self.head_done:
            raise http.client.RemoteDisconnected("the server closed the connection unanswered")
        if self.sized:
            raise http.client.IncompleteRead(b"".join(self.body))
        self.complete = True


class _Wire:
    """One connection to a server."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.since = time.monotonic()

    def exchange(self, request: bytes, *, head_only: bool) -> tuple[_Reading, bool]:
        """Write the request, read its answer; the answer, and whether the connection
        may carry another request."""
        self.sock.sendall(request)
        answer = _Reading(head_only=head_only)
        read = 0
        try:
            while not answer.complete:
                data = self.sock.recv(65_536)
                if not data:
                    answer.ended()
                    return answer, False
                read += len(data)
                answer.feed(data, read)
        finally:
            answer.parser = None  # the parser and the answer hold each other
        reusable = answer.keep_alive and not answer.more and not head_only
        return answer, reusable

    def closed_by_server(self) -> bool:
        """Whether the server has closed this idle connection (or sent what nobody asked
        for): its socket then reads at once. An unused connection never reads."""
        try:
            if hasattr(select, "poll"):
                poller = select.poll()
                poller.register(self.sock, select.POLLIN)
                return bool(poller.poll(0))
            return bool(select.select([self.sock], [], [], 0)[0])
        except (OSError, ValueError):
            return True

    def close(self) -> None:
        self.sock.close()


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
        self._idle: dict[_Server, list[_Wire]] = {}
        self._lock = threading.Lock()
        self._closed = False

    def send(self, request: httpx.Request) -> httpx.Response:
        """Send `request` and read its whole answer."""
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
        request = _head(method, target, headers) + body
        wire = self._take(server)
        try:
            answer, reusable = wire.exchange(request, head_only=method.upper() == "HEAD")
        except BaseException:
            wire.close()
            raise
        if reusable:
            self._give_back(server, wire)
        else:
            wire.close()
        return (
            answer.status,
            answer.headers,
            b"".join(answer.body),
            {"http_version": answer.version, "reason_phrase": answer.reason},
        )

    def close(self) -> None:
        """Close every idle connection; calls in flight close theirs when done."""
        with self._lock:
            self._closed = True
            idle = [wire for wires in self._idle.values() for wire in wires]
            self._idle.clear()
        for wire in idle:
            wire.close()

    def _take(self, server: _Server) -> _Wire:
        now = time.monotonic()
        while True:
            with self._lock:
                wires = self._idle.get(server)
                wire = wires.pop() if wires else None
            if wire is None:
                return self._open(server)
            if now - wire.since < self.idle_for and not wire.closed_by_server():
                return wire
            wire.close()

    def _give_back(self, server: _Server, wire: _Wire) -> None:
        wire.since = time.monotonic()
        with self._lock:
            wires = self._idle.setdefault(server, [])
            if not self._closed and len(wires) < self.most_idle:
                wires.append(wire)
                return
        wire.close()

    def _open(self, server: _Server) -> _Wire:
        scheme, host, port = server
        sock = socket.create_connection((host, port), timeout=self.timeout)
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if scheme == "https":
                sock = self._tls.wrap_socket(sock, server_hostname=host)
        except BaseException:
            sock.close()
            raise
        return _Wire(sock)
