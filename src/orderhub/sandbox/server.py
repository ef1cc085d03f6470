"""Run an ASGI app with uvicorn on a loopback port, in a thread or in the foreground."""

from __future__ import annotations

import json
import socket
import sys
import threading
import time
from dataclasses import dataclass
from typing import Any

import uvicorn

__all__ = ["RunningServer", "serve_forever", "serve_in_thread"]


@dataclass
class RunningServer:
    """A server started by `serve_in_thread`; `url` has no trailing slash."""

    url: str
    port: int
    _server: uvicorn.Server
    _thread: threading.Thread

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)


def _bind(host: str, port: int) -> socket.socket:
    # IPPROTO_TCP, not 0: asyncio only sets TCP_NODELAY on accepted sockets of a TCP
    # listener, and without it every response waits for the peer's delayed ACK (~40 ms).
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(2048)
    return sock


def serve_in_thread(app: Any, *, host: str = "127.0.0.1", port: int = 0) -> RunningServer:
    """Start `app` in a daemon thread; port 0 picks a free port. Returns once it listens."""
    sock = _bind(host, port)
    actual_port = sock.getsockname()[1]
    config = uvicorn.Config(
        app, log_level="warning", access_log=False, lifespan="on", timeout_keep_alive=30
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name=f"http-{actual_port}", daemon=True
    )
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError(f"server on port {actual_port} did not start")
        time.sleep(0.01)
    return RunningServer(f"http://{host}:{actual_port}", actual_port, server, thread)


def serve_forever(
    app: Any,
    *,
    host: str = "127.0.0.1",
    port: int,
    platform: str = "",
    credentials: dict[str, Any] | None = None,
) -> None:
    """Run `app` in the foreground until interrupted. Once it listens, one line on
    standard output tells a client where and how to connect:
    `ready {"platform": "qimen", "url": "http://127.0.0.1:9000", "credentials": {...}}`."""
    running = serve_in_thread(app, host=host, port=port)
    ready = {"platform": platform, "url": running.url, "credentials": credentials or {}}
    sys.stdout.write("ready " + json.dumps(ready, ensure_ascii=False) + "\n")
    sys.stdout.flush()
    try:
        while running._thread.is_alive():
            running._thread.join(0.5)
    except KeyboardInterrupt:
        running.stop()
