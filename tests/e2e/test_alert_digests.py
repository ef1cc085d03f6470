"""Alerts reach people as digests: over real SMTP (an aiosmtpd server on loopback) and
the seller's webhook, on SQLite and PostgreSQL."""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from orderhub.demo_stack import Stack
from orderhub.domain.order import OrderStatus
from orderhub.services.alerts import alert_list, send_digest
from orderhub.services.hub import Hub
from orderhub.services.pipeline import route
from orderhub.services.sla import scan_sla
from support import make_hub, make_order, wait_until


@dataclass
class Mailbox:
    """What the SMTP server received."""

    port: int = 0
    messages: list[EmailMessage] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(message, EmailMessage)
        self.messages.append(message)
        return "250 OK"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    box = Mailbox(port=free_port())
    controller = Controller(box, hostname="127.0.0.1", port=box.port)
    controller.start()
    yield box
    controller.stop()


def smtp(box: Mailbox, **more: Any) -> dict[str, Any]:
    return {
        "alert_smtp_host": "127.0.0.1",
        "alert_smtp_port": box.port,
        "alert_smtp_starttls": False,
        "alert_smtp_from": "orderhub@shop.example",
        "alert_email_to": ["ops@shop.example"],
        **more,
    }


def body(message: EmailMessage) -> str:
    return str(message.get_content())


@pytest.fixture
def mail_hub(database_url: str, mailbox: Mailbox) -> Iterator[Hub]:
    hub = make_hub(database_url, **smtp(mailbox, alert_digest_window=3600))
    yield hub
    hub.close()


def test_500_orders_held_for_one_unknown_sku_make_one_email_naming_the_count(
    mail_hub: Hub, mailbox: Mailbox
) -> None:
    from orderhub.config import HubConfig, ShopConfig
    from orderhub.services.setup import apply_config

    apply_config(
        mail_hub,
        HubConfig(
            shops=[
                ShopConfig(
                    code="s1",
                    platform="shopify",
                    settings={"base_url": "http://127.0.0.1:9", "shop_domain": "s1.myshopify.com"},
                    secrets={"access_token": "t", "webhook_secret": "s"},
                )
            ]
        ),
    )
    with mail_hub.uow() as uow:
        shop = uow.catalog.shop("s1")
        for i in range(500):
            order = make_order(shop="s1", channel_order_id=str(i), lines=[("SKU-9", i + 1)])
            uow.orders.add(order)
            route(uow, order, shop, stock_window=0.05)
            uow.orders.save(order)
            assert order.status is OrderStatus.HELD
        uow.commit()

    assert send_digest(mail_hub) == 1

    [email] = mailbox.messages
    assert email["Subject"] == "[orderhub] 500 × order_held"
    assert email["To"] == "ops@shop.example"
    text = body(email)
    assert (
        "orders held: unknown_sku (SKU 'SKU-9' is not one of ours and has no mapping; shop s1)"
        in text
    )
    assert "×500; first at" in text
    assert send_digest(mail_hub) == 0
    assert len(mailbox.messages) == 1


@dataclass
class AlertInbox:
    url: str = ""
    received: list[dict[str, Any]] = field(default_factory=list)


@pytest.fixture
def alert_inbox() -> Iterator[AlertInbox]:
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse, Response
    from starlette.routing import Route

    from orderhub.sandbox.server import serve_in_thread

    inbox = AlertInbox()

    async def receive(request: Request) -> Response:
        inbox.received.append(await request.json())
        return JSONResponse({"ok": True})

    server = serve_in_thread(Starlette(routes=[Route("/alerts", receive, methods=["POST"])]))
    inbox.url = f"{server.url}/alerts"
    yield inbox
    server.stop()


def set_ship_by(stack: Stack, order_id: str, ship_by: datetime) -> None:
    with stack.hub.uow() as uow:
        order = uow.orders.get(order_id)
        order.ship_by = ship_by
        uow.orders.save(order)
        uow.commit()


def test_orders_near_and_past_ship_by_at_a_stalled_warehouse_alert_by_webhook_and_email(
    make_stack: Callable[..., Stack], alert_inbox: AlertInbox, mailbox: Mailbox
) -> None:
    # The warehouse accepts orders but ships nothing for an hour.
    stack = make_stack(
        settings={
            "alert_webhook_url": alert_inbox.url,
            "alert_digest_window": 0.5,
            **smtp(mailbox),
        },
        ship_delay=3600,
    )
    shop = stack.shops["SHOP1"]
    placed = [shop.place_order({"lines": [{"sku": "SKU-001", "quantity": q}]}) for q in (1, 2)]

    def pushed() -> list[str]:
        with stack.hub.reader() as uow:
            found = [uow.orders.by_channel_ref("SHOP1", str(p["id"])) for p in placed]
        return [o.id for o in found if o is not None and o.status is OrderStatus.PUSHED]

    wait_until(lambda: len(pushed()) == 2, what="both orders to reach the warehouse")
    soon, late = pushed()
    now = datetime.now(UTC)
    set_ship_by(stack, soon, now + timedelta(hours=2))
    set_ship_by(stack, late, now - timedelta(minutes=30))

    report = scan_sla(stack.hub)

    assert ([o.order_id for o in report.at_risk], [o.order_id for o in report.overdue]) == (
        [soon],
        [late],
    )
    wait_until(lambda: bool(mailbox.messages) and bool(alert_inbox.received), what="the digest")
    [digest] = alert_inbox.received
    assert digest["kind"] == "digest"
    assert sorted(a["key"] for a in digest["alerts"]) == sorted(
        [f"sla_at_risk:{soon}", f"sla_overdue:{late}"]
    )
    [email] = mailbox.messages
    assert email["Subject"] == "[orderhub] 1 × sla_overdue, 1 × sla_at_risk"
    text = body(email)
    assert "must ship by" in text and "in 2.0 h" in text
    assert "missed ship-by" in text
    wait_until(
        lambda: all(r.sent_at is not None for r in alert_list(stack.hub)),
        what="the alerts to be marked sent",
    )
    # Scanning again finds the same orders and alerts no one twice.
    assert scan_sla(stack.hub).alerted == 0
