"""`orderhub serve` says where it listens and what each shop and warehouse must be given,
and registers the shop's webhooks once, however often it starts."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import yaml

from orderhub.sandbox.server import serve_in_thread
from orderhub.sandbox.shopify import ShopifyEmulator
from support import TEST_KEYS, offline_config

CLI = "from orderhub.cli import main; main()"
TOPICS = ("orders/create", "orders/updated", "orders/cancelled", "refunds/create")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _serve_once(tmp_path: Path, port: int, public: str | None) -> list[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ORDERHUB_")}
    env.update(
        ORDERHUB_DATABASE_URL=f"sqlite:///{tmp_path / 'hub.db'}",
        ORDERHUB_ENCRYPTION_KEYS=TEST_KEYS,
        ORDERHUB_CONFIG=str(tmp_path / "hub.yaml"),
        ORDERHUB_LOG_LEVEL="warning",
    )
    if public:
        env["ORDERHUB_PUBLIC_URL"] = public
    process = subprocess.Popen(
        [sys.executable, "-c", CLI, "serve", "--port", str(port), "--no-worker"],
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
        env=env,
    )
    lines: list[str] = []
    try:
        assert process.stderr is not None
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            line = process.stderr.readline()
            if not line:
                break
            lines.append(line.strip())
            if line.startswith("no user exists yet"):
                break
    finally:
        process.terminate()
        process.wait(20)
    return lines


def test_serve_prints_its_addresses_and_registers_each_topic_once(tmp_path: Path) -> None:
    shop = ShopifyEmulator(shop_domain="s1.myshopify.com")
    server = serve_in_thread(shop.app)
    try:
        config = offline_config(
            shop_url=server.url,
            shop_domain=shop.shop_domain,
            access_token=shop.access_token,
            webhook_secret=shop.client_secret,
        )
        (tmp_path / "hub.yaml").write_text(yaml.safe_dump(config))
        port = _free_port()
        public = "https://orders.example.com"

        unset = _serve_once(tmp_path, port, None)
        first = _serve_once(tmp_path, port, public)
        second = _serve_once(tmp_path, port, public)
        subscribed = {topic: len(shop.state.subscriptions(topic)) for topic in TOPICS}
    finally:
        server.stop()
        shop.close()

    assert (
        unset[0]
        == f"orderhub listening on http://127.0.0.1:{port} (API documentation at http://127.0.0.1:{port}/docs)"
    )
    assert any("set ORDERHUB_PUBLIC_URL to register them" in line for line in unset)
    shop_line = next(line for line in first if line.startswith("shop SHOP1"))
    assert shop_line == (
        f"shop SHOP1 (shopify): webhooks to {public}/webhooks/SHOP1 for "
        f"{', '.join(TOPICS)}: registered"
    )
    assert f"node WH1 (qimen): callbacks to {public}/callbacks/WH1" in " ".join(first)
    assert any(line.startswith("no user exists yet") and "set-up code" in line for line in first)
    assert any(line.endswith(": registered") for line in second)
    assert subscribed == dict.fromkeys(TOPICS, 1)
