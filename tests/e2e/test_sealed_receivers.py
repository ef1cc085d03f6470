"""Receivers the marketplace sealed, end to end.

The hub keeps what the platform sent (an OAID, or ciphertexts) and never a guess. The
warehouse gets the seal and prints the label through the platform's own decrypt call, so
the parcel reaches the buyer although the hub never held their name. A person allowed to
see personal data gets it through the same call; each such opening is counted per shop
and audited, and a shop's daily limit is kept.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from orderhub.demo_stack import MARKET_CODES, Stack
from orderhub.services import queries
from orderhub.services.audit import list_entries
from orderhub.services.setup import apply_config
from orderhub.services.sync import pull_orders
from support import api_token, bearer, wait_until

NAME, PHONE = "欧阳娜娜", "13912345678"
DECRYPT_CALLS = {
    "taobao": "top.oaid.decrypt",
    "pdd": "pdd.open.decrypt.batch",
    "douyin": "order.batchDecrypt",
    "jd": "jingdong.jos.order.oaid.decrypt",
}


def place(stack: Stack, platform: str) -> tuple[Any, str, str]:
    """A paid order for a known buyer on the platform, pulled into the hub."""
    code = MARKET_CODES[platform]
    shop = stack.marketplaces[code]
    receiver = {"name": NAME, "mobile": PHONE, "phone": PHONE}
    lines = [{"sku": "SKU-001", "quantity": 1}]
    order_id = shop.place_order({"lines": lines, "receiver": receiver})
    pull_orders(stack.hub, code)
    return shop, code, order_id


def hub_order_id(stack: Stack, channel_order_id: str) -> str:
    wait_until(lambda: _known(stack, channel_order_id), what=f"{channel_order_id} in the hub")
    return queries.find_order_id(stack.hub, channel_order_id)


def _known(stack: Stack, channel_order_id: str) -> bool:
    try:
        queries.find_order_id(stack.hub, channel_order_id)
    except Exception:
        return False
    return True


@pytest.mark.parametrize("platform", sorted(DECRYPT_CALLS))
def test_the_warehouse_prints_a_sealed_receiver_through_the_platform(
    make_stack: Callable[..., Stack], platform: str
) -> None:
    stack = make_stack(shops=0, marketplaces=(platform,))
    shop, _, order_id = place(stack, platform)
    wait_until(
        lambda: any(o["status"] == "DELIVERED" for o in stack.qimen.orders().values()),
        what=lambda: f"the parcel labelled and shipped: {stack.qimen.orders()}",
    )
    [parcel] = stack.qimen.orders().values()
    sent = parcel["receiver"]
    assert NAME not in str(sent) and PHONE not in str(sent)
    assert parcel["oaid"] if platform == "taobao" else not parcel["oaid"]
    assert parcel["label"]["name"] == NAME
    assert parcel["label"]["phone"] == PHONE
    assert parcel["label"]["via"] == DECRYPT_CALLS[platform]
    assert shop.stats()["decrypted"] >= 1

    hub_id = hub_order_id(stack, order_id)
    kept = queries.order_view(stack.hub, hub_id, reveal=True)
    assert NAME not in kept.model_dump_json() and PHONE not in kept.model_dump_json()
    assert kept.receiver.sealed


@pytest.mark.parametrize("platform", sorted(DECRYPT_CALLS))
def test_a_reveal_opens_the_seal_through_the_platform_counted_and_audited(
    make_stack: Callable[..., Stack], platform: str
) -> None:
    stack = make_stack(shops=0, marketplaces=(platform,), ship_delay=3600.0)
    shop, code, order_id = place(stack, platform)
    hub_id = hub_order_id(stack, order_id)
    url = f"{stack.api.url}/api/v1/orders/{hub_id}"
    before = shop.stats()["decrypted"]

    masked = httpx.get(url, headers=bearer(api_token(stack.hub, "operator")), timeout=30)
    assert masked.status_code == 200
    assert masked.json()["receiver"]["sealed"] == "(sealed by the platform)"
    assert shop.stats()["decrypted"] == before  # looking is free; only a reveal decrypts
    viewer = httpx.get(url + "?reveal=true", headers=bearer(api_token(stack.hub, "viewer")))
    assert viewer.status_code == 403

    owner = api_token(stack.hub, "owner")
    revealed = httpx.get(url + "?reveal=true", headers=bearer(owner), timeout=30)
    assert revealed.status_code == 200, revealed.text
    assert revealed.json()["receiver"]["name"] == NAME
    assert revealed.json()["receiver"]["phone"] == PHONE
    assert shop.stats()["decrypted"] > before

    [opened] = list_entries(stack.hub, action="pii.decrypt")
    assert opened.target == f"shop:{code}"
    assert hub_id in opened.detail and DECRYPT_CALLS[platform] in opened.detail
    [reveal] = list_entries(stack.hub, action="pii.reveal")
    assert reveal.target == f"order:{hub_id}" and DECRYPT_CALLS[platform] in reveal.detail
    stored = queries.order_view(stack.hub, hub_id, reveal=True)
    assert NAME not in stored.model_dump_json()  # shown, never kept


def test_a_shop_past_its_daily_decrypt_limit_is_refused_and_nothing_is_opened(
    make_stack: Callable[..., Stack],
) -> None:
    stack = make_stack(shops=0, marketplaces=("pdd",), ship_delay=3600.0)
    config = stack.hub_config
    [shop_config] = config.shops
    limited = shop_config.model_copy(
        update={"settings": {**shop_config.settings, "decrypt_daily_limit": 1}}
    )
    apply_config(stack.hub, config.model_copy(update={"shops": [limited]}))
    shop, _, order_id = place(stack, "pdd")
    url = f"{stack.api.url}/api/v1/orders/{hub_order_id(stack, order_id)}?reveal=true"
    owner = bearer(api_token(stack.hub, "owner"))

    assert httpx.get(url, headers=owner, timeout=30).status_code == 200
    used = shop.stats()["decrypted"]
    refused = httpx.get(url, headers=owner, timeout=30)
    assert refused.status_code == 429
    assert "decrypt_daily_limit" in refused.json()["message"]
    assert shop.stats()["decrypted"] == used
    assert len(list_entries(stack.hub, action="pii.decrypt")) == 1


def test_a_platform_that_will_not_open_the_seal_is_a_clear_refusal(
    make_stack: Callable[..., Stack],
) -> None:
    stack = make_stack(shops=0, marketplaces=("douyin",), ship_delay=3600.0)
    shop, _, order_id = place(stack, "douyin")
    url = f"{stack.api.url}/api/v1/orders/{hub_order_id(stack, order_id)}?reveal=true"
    shop.configure(decrypt_quota=0)
    refused = httpx.get(url, headers=bearer(api_token(stack.hub, "owner")), timeout=30)
    assert refused.status_code == 502
    assert "douyin would not open the receiver" in refused.json()["message"]
    assert list_entries(stack.hub, action="pii") == []
