"""Connections kept open per server: calls share a connection, one the server has closed
is never written to, threads never read each other's answers, and over TLS a server is
trusted only with a certificate the context trusts."""

from __future__ import annotations

import datetime as dt
import http.client
import json
import socket
import ssl
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from orderhub.connectors.kit.connections import KeptConnections


class Echo(BaseHTTPRequestHandler):
    """Answers with the request's path, body and the client port it came from; closes
    the connection after answering, without saying so, when the path asks it to."""

    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        answer = json.dumps(
            {"path": self.path, "body": body.decode(), "port": self.client_address[1]}
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        if self.path == "/bye":
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(answer)
        self.wfile.flush()
        if self.path == "/drop":
            self.close_connection = True

    def log_message(self, format: str, *args: Any) -> None:
        pass


class Server(ThreadingHTTPServer):
    """Counts the connections it has closed, so that a test can wait for a close."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), Echo)
        self.closes = threading.Semaphore(0)

    def shutdown_request(self, request: Any) -> None:
        super().shutdown_request(request)
        self.closes.release()


SERVERS: dict[str, Server] = {}


def _serve(wrap: Callable[[socket.socket], socket.socket] | None = None) -> Iterator[str]:
    running = Server()
    if wrap is not None:
        running.socket = wrap(running.socket)
    thread = threading.Thread(target=running.serve_forever, daemon=True)
    thread.start()
    url = f"{'https' if wrap else 'http'}://localhost:{running.server_address[1]}"
    SERVERS[url] = running
    yield url
    del SERVERS[url]
    running.shutdown()
    running.server_close()


@pytest.fixture
def server() -> Iterator[str]:
    yield from _serve()


def _post(pool: KeptConnections, url: str, body: str = "") -> dict[str, Any]:
    answer = pool.send(httpx.Request("POST", url, content=body.encode()))
    assert answer.status_code == 200
    seen: dict[str, Any] = answer.json()
    return seen


def _plain() -> ssl.SSLContext:
    return ssl.create_default_context()


def test_calls_one_after_another_share_one_connection(server: str) -> None:
    pool = KeptConnections(timeout=5, tls=_plain())
    try:
        ports = {_post(pool, f"{server}/order/{n}", f"o-{n}")["port"] for n in range(5)}
    finally:
        pool.close()
    assert len(ports) == 1


def test_a_connection_the_server_closed_is_not_written_to_again(server: str) -> None:
    pool = KeptConnections(timeout=5, tls=_plain())
    try:
        # The server closes after answering, without a `Connection: close`.
        first = _post(pool, f"{server}/drop", "a")
        assert SERVERS[server].closes.acquire(timeout=5)
        # The next call finds the connection closed and opens another: no error.
        second = _post(pool, f"{server}/order/2", "b")
        # A server that says it will close (`Connection: close`): the next call opens another.
        third = _post(pool, f"{server}/bye", "c")
        assert SERVERS[server].closes.acquire(timeout=5)
        fourth = _post(pool, f"{server}/order/4", "d")
    finally:
        pool.close()
    assert [first["body"], second["body"], third["body"], fourth["body"]] == list("abcd")
    assert first["port"] != second["port"]
    assert third["port"] != fourth["port"]


def test_a_connection_idle_too_long_is_not_used_again(server: str) -> None:
    pool = KeptConnections(timeout=5, tls=_plain(), idle_for=0.0)
    try:
        ports = {_post(pool, f"{server}/order/{n}")["port"] for n in range(3)}
    finally:
        pool.close()
    assert len(ports) == 3


def test_threads_at_once_each_read_their_own_answer(server: str) -> None:
    pool = KeptConnections(timeout=5, tls=_plain())
    answers: dict[str, str] = {}
    errors: list[BaseException] = []

    def calls(thread: int) -> None:
        try:
            for n in range(20):
                seen = _post(pool, f"{server}/t{thread}/n{n}", f"{thread}:{n}")
                answers[seen["path"]] = seen["body"]
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=calls, args=(t,)) for t in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    pool.close()
    assert errors == []
    assert answers == {f"/t{t}/n{n}": f"{t}:{n}" for t in range(8) for n in range(20)}


def test_a_server_that_never_answers_times_out() -> None:
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        pool = KeptConnections(timeout=0.3, tls=_plain())
        with pytest.raises(TimeoutError):
            pool.send(httpx.Request("GET", f"http://127.0.0.1:{silent.getsockname()[1]}/x"))
        pool.close()


def _certificate(directory: Path) -> tuple[Path, Path]:
    """A self-signed certificate for localhost, and its key."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


def test_over_tls_only_a_trusted_certificate_is_accepted(tmp_path: Path) -> None:
    cert_path, key_path = _certificate(tmp_path)
    serving = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    serving.load_cert_chain(cert_path, key_path)
    servers = _serve(lambda sock: serving.wrap_socket(sock, server_side=True))
    url = next(servers)
    try:
        trusting = ssl.create_default_context(cafile=str(cert_path))
        pool = KeptConnections(timeout=5, tls=trusting)
        ports = {_post(pool, f"{url}/order/{n}", "x")["port"] for n in range(3)}
        pool.close()
        assert len(ports) == 1
        wary = KeptConnections(timeout=5, tls=_plain())
        with pytest.raises(ssl.SSLCertVerificationError):
            wary.send(httpx.Request("POST", f"{url}/order/9", content=b"x"))
        wary.close()
    finally:
        next(servers, None)


class Scripted:
    """A server that answers every request on a connection with the next of `answers`
    (bytes sent as they are), and closes the connection after those marked to close."""

    def __init__(self, answers: list[tuple[bytes, bool]]) -> None:
        self.answers = list(answers)
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.connections = 0
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while self.answers:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            with conn:
                while self.answers:
                    pending = b""
                    while b"\r\n\r\n" not in pending:
                        chunk = conn.recv(65536)
                        if not chunk:
                            break
                        pending += chunk
                    if not pending:
                        break
                    answer, close = self.answers.pop(0)
                    conn.sendall(answer)
                    if close:
                        break

    def close(self) -> None:
        self.sock.close()


def _call(pool: KeptConnections, url: str, method: str = "GET") -> httpx.Response:
    return pool.send(httpx.Request(method, url))


def test_answers_chunked_sized_by_close_or_after_an_interim_one_are_read_whole() -> None:
    server = Scripted(
        [
            (
                b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                b"3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n",
                False,
            ),
            (
                b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok",
                False,
            ),
            (b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil the end", True),
            (b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n", False),
        ]
    )
    pool = KeptConnections(timeout=5, tls=_plain())
    try:
        chunked = _call(pool, f"{server.url}/a")
        interim = _call(pool, f"{server.url}/b")
        to_close = _call(pool, f"{server.url}/c")
        after = _call(pool, f"{server.url}/d")
    finally:
        pool.close()
        server.close()
    assert (chunked.status_code, chunked.text) == (200, "abcde")
    assert (interim.status_code, interim.text, interim.reason_phrase) == (201, "ok", "Created")
    assert (to_close.status_code, to_close.text) == (200, "until the end")
    assert to_close.headers["content-type"] == "text/plain"
    assert after.status_code == 404
    # One connection for the first three; the server closed it after the third.
    assert server.connections == 2


@pytest.mark.parametrize(
    ("answer", "refused"),
    [
        (b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort", http.client.IncompleteRead),
        (b"", http.client.RemoteDisconnected),
        (b"SMTP ready\r\n\r\n", http.client.HTTPException),
        (b"HTTP/1.1 200 OK\r\n" + b"X-A: 1\r\n" * 5000, http.client.HTTPException),
    ],
    ids=["cut-short", "no-answer", "not-http", "endless-head"],
)
def test_an_answer_cut_short_or_not_http_is_refused_and_its_connection_dropped(
    answer: bytes, refused: type[Exception]
) -> None:
    server = Scripted([(answer, True), (b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", True)])
    pool = KeptConnections(timeout=5, tls=_plain())
    try:
        with pytest.raises(refused):
            _call(pool, f"{server.url}/a")
        again = _call(pool, f"{server.url}/b")
    finally:
        pool.close()
        server.close()
    assert again.text == "ok"
    assert server.connections == 2


def test_an_answer_to_head_is_not_waited_on_for_the_body_its_length_names() -> None:
    server = Scripted([(b"HTTP/1.1 200 OK\r\nContent-Length: 500\r\n\r\n", False)])
    pool = KeptConnections(timeout=2, tls=_plain())
    try:
        answer = _call(pool, f"{server.url}/a", "HEAD")
    finally:
        pool.close()
        server.close()
    assert (answer.status_code, answer.headers["content-length"], answer.content) == (
        200,
        "500",
        b"",
    )


def test_a_header_that_would_split_the_request_is_refused_before_anything_is_sent() -> None:
    server = Scripted([(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", True)])
    pool = KeptConnections(timeout=5, tls=_plain())
    request = httpx.Request("GET", f"{server.url}/a")
    request.headers = httpx.Headers([(b"X-Seller", b"s-1\r\nX-Admin: yes")])
    try:
        with pytest.raises(ValueError, match="cannot be written"):
            pool.send(request)
    finally:
        pool.close()
        server.close()
    assert server.connections == 0
