"""Connections kept open to each server, over the standard library's `http.client`.

A connector's call to a warehouse or a shop is one small request and one small answer on
a connection kept alive. httpx's own connection pool (httpcore and h11) spends about
0.3 ms of CPU on such a call beyond what `http.client` spends; at a hundred orders a
second that is a few percent of a core. Requests are still built by httpx (query,
form, JSON and headers written as httpx writes them), and answers are still
`httpx.Response`s, so connectors read them as before.

A connection goes back to the idle list after a full answer, unless the server said it
would close it. An idle connection is used again only if the server has not closed it
meanwhile (its socket has nothing to read) and it has been idle less than `idle_for`
seconds, the time servers commonly keep an idle connection (httpx's default too). A
call that fails closes its connection; the caller decides whether to try again.
"""

from __future__ import annotations

import http.client
import select
import ssl
import threading
import time
from dataclasses import dataclass, field

import httpx

__all__ = ["KeptConnections"]

_Server = tuple[str, str, int]
"""Scheme, host and port."""


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
        connection = self._take(server)
        try:
            connection.putrequest(
                request.method,
                url.raw_path.decode("ascii"),
                skip_host=True,
                skip_accept_encoding=True,
            )
            for name, value in request.headers.raw:
                connection.putheader(name, value)
            connection.endheaders(request.read() or None)
            answer = connection.getresponse()
            body = answer.read()
        except BaseException:
            connection.close()
            raise
        if answer.will_close:
            connection.close()
        else:
            self._give_back(server, connection)
        return httpx.Response(
            answer.status,
            headers=[(k.encode("latin-1"), v.encode("latin-1")) for k, v in answer.getheaders()],
            content=body,
            request=request,
            extensions={
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
