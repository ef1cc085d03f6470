"""The kit's HTTP: what a connector sends reaches the server as it was given, over the
connection pool or, with a proxy set, through the proxy; failures become the errors the
worker retries on."""

from __future__ import annotations

import gzip
import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from orderhub.connectors.base import RateLimited, Unavailable
from orderhub.connectors.kit.http import Transport
from orderhub.sandbox.server import RunningServer, serve_in_thread


class Recorder:
    """Answers every request with what it received, as JSON (gzipped when asked)."""

    def __init__(self) -> None:
        self.status = 200
        self.extra: list[tuple[bytes, bytes]] = []

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        headers = {k.decode(): v.decode() for k, v in scope["headers"]}
        seen = {
            "method": scope["method"],
            "path": scope["path"],
            "query": scope["query_string"].decode(),
            "headers": headers,
            "body": body.decode(),
        }
        answer = json.dumps(seen).encode()
        out = [(b"content-type", b"application/json"), *self.extra]
        if scope["path"] == "/login":
            out.append((b"set-cookie", b"kdservice-sessionid=s-1; Path=/; HttpOnly"))
        if "gzip" in headers.get("accept-encoding", ""):
            answer = gzip.compress(answer)
            out.append((b"content-encoding", b"gzip"))
        await send({"type": "http.response.start", "status": self.status, "headers": out})
        await send({"type": "http.response.body", "body": answer})


@pytest.fixture
def server() -> Iterator[tuple[Recorder, RunningServer]]:
    recorder = Recorder()
    running = serve_in_thread(recorder)
    yield recorder, running
    running.stop()


@pytest.fixture
def no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.upper(), raising=False)
    monkeypatch.setenv("NO_PROXY", "internal.example")  # names no proxy by itself


def test_a_request_reaches_the_server_as_the_connector_gave_it(
    server: tuple[Recorder, RunningServer], no_proxy: None
) -> None:
    _, running = server
    transport = Transport("Bench", timeout=5)
    assert transport.http is None  # no client: the connection pool alone
    try:
        sent = transport.send(
            "POST",
            f"{running.url}/api/orders",
            what="create",
            params={"method": "deliveryorder.create", "sign": "AB"},
            json={"code": "订单-1"},
            headers={"user-agent": "seller-tool/2", "X-Extra": "1"},
        )
        form = transport.send(
            "POST", f"{running.url}/form", what="form", data={"a": "1", "b": "x y"}
        )
        plain = transport.send("GET", f"{running.url}/plain", what="plain")
    finally:
        transport.close()
    seen = sent.json()
    assert sent.status_code == 200 and sent.request.url.path == "/api/orders"
    assert (seen["method"], seen["path"]) == ("POST", "/api/orders")
    assert seen["query"] == "method=deliveryorder.create&sign=AB"
    assert json.loads(seen["body"]) == {"code": "订单-1"}
    # A header the connector sets replaces the default of the same name, whatever its case.
    assert seen["headers"]["user-agent"] == "seller-tool/2"
    assert seen["headers"]["x-extra"] == "1"
    assert seen["headers"]["content-type"] == "application/json"
    assert form.json()["body"] == "a=1&b=x+y"
    assert form.json()["headers"]["content-type"] == "application/x-www-form-urlencoded"
    # The answer came gzipped, and reads back as the server wrote it.
    assert plain.headers["content-encoding"] == "gzip"
    assert plain.json()["headers"]["user-agent"].startswith("orderhub/")


@pytest.mark.parametrize(
    ("path", "params"),
    [
        # Text values on a URL without a query: written by the kit.
        ("/q", {"a b": "x y+z&w=v", "u": "价格/测试:~*'()!", "empty": "", "p": "%20 kept"}),
        # Anything else is left to httpx: values that are not text, a query on the URL
        # already (its params merged with the call's), params as pairs.
        ("/q", {"n": 3, "yes": True, "none": None}),
        ("/q?a=1&keep=2", {"a": "replaced", "b": "x y"}),
        ("/q", [("a", "1"), ("a", "2")]),
    ],
)
def test_a_query_reaches_the_server_exactly_as_httpx_writes_it(
    server: tuple[Recorder, RunningServer], no_proxy: None, path: str, params: Any
) -> None:
    _, running = server
    transport = Transport("Bench", timeout=5)
    try:
        sent = transport.send("GET", f"{running.url}{path}", what="query", params=params)
    finally:
        transport.close()
    written = httpx.Request("GET", f"{running.url}{path}", params=params).url
    assert sent.json()["query"] == written.query.decode()
    assert sent.request.url == written


def test_a_session_kept_in_cookies_is_sent_back_only_where_asked_for(
    server: tuple[Recorder, RunningServer], no_proxy: None
) -> None:
    _, running = server
    kingdee = Transport("Kingdee", timeout=5, keep_cookies=True)
    signed = Transport("Bench", timeout=5)
    try:
        for transport in (kingdee, signed):
            transport.send("POST", f"{running.url}/login", what="login")
        after_login = kingdee.send("POST", f"{running.url}/call", what="call").json()
        unsigned = signed.send("POST", f"{running.url}/call", what="call").json()
    finally:
        kingdee.close()
        signed.close()
    assert after_login["headers"]["cookie"] == "kdservice-sessionid=s-1"
    assert "cookie" not in unsigned["headers"]


def test_statuses_and_network_failures_become_the_errors_the_worker_retries_on(
    server: tuple[Recorder, RunningServer], no_proxy: None
) -> None:
    recorder, running = server
    transport = Transport("Bench", timeout=5)
    try:
        recorder.status, recorder.extra = 429, [(b"retry-after", b"3")]
        with pytest.raises(RateLimited) as limited:
            transport.send("GET", f"{running.url}/x", what="list")
        assert limited.value.retry_after == 3
        recorder.status, recorder.extra = 503, []
        with pytest.raises(Unavailable, match="Bench list failed with HTTP 503"):
            transport.send("GET", f"{running.url}/x", what="list")
        recorder.status = 404
        assert transport.send("GET", f"{running.url}/x", what="list").status_code == 404
    finally:
        transport.close()
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    refused = Transport("Bench", timeout=5)
    with pytest.raises(Unavailable, match="could not be reached"):
        refused.send("GET", f"http://127.0.0.1:{port}/x", what="list")
    refused.close()


def test_a_silent_server_times_out_as_unavailable(no_proxy: None) -> None:
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        transport = Transport("Bench", timeout=0.3)
        with pytest.raises(Unavailable, match="timed out"):
            transport.send("GET", f"http://127.0.0.1:{silent.getsockname()[1]}/x", what="list")
        transport.close()


class Proxy(BaseHTTPRequestHandler):
    """A forward proxy's front door: answers with the request line's target as it came,
    which a proxy is sent whole (absolute form) and a server only as a path."""

    def do_GET(self) -> None:
        answer = json.dumps({"target": self.path, "host": self.headers["Host"]}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def proxy() -> Iterator[str]:
    running = ThreadingHTTPServer(("127.0.0.1", 0), Proxy)
    thread = threading.Thread(target=running.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{running.server_address[1]}"
    running.shutdown()
    running.server_close()


def test_with_a_proxy_set_requests_go_through_it(
    proxy: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HTTP_PROXY", proxy)
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    transport = Transport("Bench", timeout=5)
    try:
        # The shop's address is never dialled: the proxy answers for it.
        seen = transport.send("GET", "http://shop.invalid/orders", what="list").json()
    finally:
        transport.close()
    assert seen == {"target": "http://shop.invalid/orders", "host": "shop.invalid"}


class RawRecorder:
    """Keeps the bytes of each request exactly as they arrived, and answers `ok` (404
    for `GET /missing`)."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.requests: list[bytes] = []
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._talk, args=(conn,), daemon=True).start()

    def _talk(self, conn: socket.socket) -> None:
        with conn:
            pending = b""
            while True:
                while b"\r\n\r\n" not in pending:
                    chunk = conn.recv(65536)
                    if not chunk:
                        return
                    pending += chunk
                head, _, rest = pending.partition(b"\r\n\r\n")
                size = 0
                for line in head.split(b"\r\n")[1:]:
                    name, _, value = line.partition(b":")
                    if name.strip().lower() == b"content-length":
                        size = int(value)
                while len(rest) < size:
                    rest += conn.recv(65536)
                self.requests.append(head + b"\r\n\r\n" + rest[:size])
                pending = rest[size:]
                status = b"404 Not Found" if head.startswith(b"GET /missing") else b"200 OK"
                conn.sendall(b"HTTP/1.1 " + status + b"\r\nContent-Length: 2\r\n\r\nok")

    def close(self) -> None:
        self.sock.close()


@pytest.mark.parametrize(
    ("verb", "path", "options"),
    [
        (
            "POST",
            "/router/qm",
            {
                "params": {
                    "method": "deliveryorder.create",
                    "timestamp": "2026-12-07 10:00:00",
                    "u": "价 /&",
                },
                "content": "<request><code>订单-1</code></request>".encode(),
                "headers": {"Content-Type": "text/xml;charset=utf-8"},
            },
        ),
        ("POST", "/empty", {}),
        ("PUT", "/empty", {"headers": {"X-Seller": "s-1"}}),
        ("GET", "/orders", {"params": {"page": "2", "size": "50"}}),
        ("POST", "/text", {"content": "文字 text", "headers": {"user-agent": "seller-tool/2"}}),
        ("post", "/路径/q", {"params": {}, "headers": {"accept": "application/json"}}),
        ("POST", "/host", {"content": b"x", "headers": {"Host": "api.example.test"}}),
    ],
)
def test_a_request_the_kit_writes_is_byte_for_byte_the_one_httpx_builds(
    no_proxy: None, verb: str, path: str, options: dict[str, Any]
) -> None:
    from orderhub.connectors.kit.http import _HEADERS

    recorder = RawRecorder()
    transport = Transport("Bench", timeout=5)
    by_httpx_itself = httpx.Client(trust_env=False)
    url = f"{recorder.url}{path}"
    try:
        written = transport.send(verb, url, what="written", **dict(options))
        headers = _HEADERS.copy()
        headers.update(options.get("headers") or {})
        built = httpx.Request(
            verb,
            url,
            params=options.get("params"),
            content=options.get("content"),
            headers=headers,
        )
        by_httpx_itself.send(built)
    finally:
        transport.close()
        by_httpx_itself.close()
        recorder.close()
    by_kit, by_httpx = recorder.requests
    assert by_kit == by_httpx
    assert written.status_code == 200 and written.text == "ok"
    # The request the answer names, built when asked for, is the one httpx would build.
    asked = written.request
    assert (asked.method, asked.url, asked.headers.raw) == (
        built.method,
        built.url,
        built.headers.raw,
    )
    assert asked.read() == built.read()


def test_other_requests_are_built_by_httpx_and_reach_the_server_alike(no_proxy: None) -> None:
    recorder = RawRecorder()
    transport = Transport("Bench", timeout=5)
    try:
        transport.send("POST", f"{recorder.url}/json", what="json", json={"a": "订单"})
        transport.send("POST", f"{recorder.url}/form?x=1", what="form", data={"b": "x y"})
        answer = transport.send("GET", f"{recorder.url}/n", what="n", params={"n": 3})
    finally:
        transport.close()
        recorder.close()
    json_call, form_call, numbers = recorder.requests
    assert json_call.startswith(b"POST /json HTTP/1.1\r\nHost: ")
    assert json_call.endswith('{"a":"订单"}'.encode())
    assert form_call.startswith(b"POST /form?x=1 HTTP/1.1\r\n") and form_call.endswith(b"b=x+y")
    assert numbers.startswith(b"GET /n?n=3 HTTP/1.1\r\n")
    assert answer.request.url.query == b"n=3"


def test_an_answer_to_a_written_request_raises_for_its_status_naming_the_request(
    no_proxy: None,
) -> None:
    recorder = RawRecorder()
    transport = Transport("Bench", timeout=5)
    try:
        answer = transport.send("GET", f"{recorder.url}/missing", what="m", params={"a": "1"})
    finally:
        transport.close()
        recorder.close()
    with pytest.raises(httpx.HTTPStatusError) as raised:
        answer.raise_for_status()
    assert raised.value.request.url == httpx.URL(f"{recorder.url}/missing?a=1")
    assert answer.url == httpx.URL(f"{recorder.url}/missing?a=1")


@settings(max_examples=500)
@given(st.dictionaries(st.text(min_size=1), st.text(), min_size=1))
def test_a_query_the_kit_writes_is_the_one_urlencode_writes(params: dict[str, str]) -> None:
    """The codes, names and hashes a signed call sends are mostly left as they are: the
    kit tells those apart itself, and writes every query as `urlencode` (and httpx) do."""
    from orderhub.connectors.kit.http import _text_query

    assert _text_query("http://wms.example/router", params) == urlencode(params)
