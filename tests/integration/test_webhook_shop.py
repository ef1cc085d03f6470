"""A webhook is verified with its shop as the process read it at most
`webhook_shop_seconds` ago, so a busy shop's webhooks are stored without a read of the
configuration. A new webhook secret set in the same process holds for the very next
webhook; set in another process, once that time has passed. On SQLite and PostgreSQL."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import event, func, select

from orderhub.domain.errors import NotFound
from orderhub.services.hub import Hub
from orderhub.services.ingest import BadSignature, receive_webhook
from orderhub.services.setup import apply_config, put_shop
from orderhub.store import tables as t
from support import make_hub, offline_shop, one_warehouse_catalogue, signed_order


def stored(hub: Hub) -> int:
    with hub.db.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(t.inbox)).scalar_one())


@pytest.fixture
def hubs(database_url: str) -> Iterator[tuple[Hub, Hub]]:
    """The API's hub, keeping a webhook's shop 0.3 s, and another process's."""
    api = make_hub(database_url, webhook_shop_seconds=0.3)
    other = make_hub(database_url)
    apply_config(other, one_warehouse_catalogue("S1", "WH1", {"SKU-A": 5}))
    yield api, other
    api.close()
    other.close()


@pytest.mark.parametrize("seconds", [1.0, 0.0])
def test_a_webhook_after_the_first_is_stored_without_reading_its_shop(
    database_url: str, template: dict[str, Any], seconds: float
) -> None:
    hub = make_hub(database_url, webhook_shop_seconds=seconds)
    try:
        apply_config(hub, one_warehouse_catalogue("S1", "WH1", {"SKU-A": 5}))
        receive_webhook(hub, "S1", *signed_order(template, "d-1", "s"))
        asked: list[str] = []

        def note(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
            asked.append(" ".join(statement.split()).lower())

        event.listen(hub.db.engine, "before_cursor_execute", note)
        try:
            receive_webhook(hub, "S1", *signed_order(template, "d-2", "s"))
        finally:
            event.remove(hub.db.engine, "before_cursor_execute", note)
        read = [s for s in asked if "config_versions" in s or "from shops" in s]
        assert stored(hub) == 2
    finally:
        hub.close()
    if seconds:
        assert read == []
    else:
        assert any("config_versions" in s for s in read)


def test_a_new_webhook_secret_holds_at_once_here_and_soon_from_another_process(
    hubs: tuple[Hub, Hub], template: dict[str, Any]
) -> None:
    api, other = hubs
    receive_webhook(api, "S1", *signed_order(template, "d-1", "s"))  # the shop is read and kept

    put_shop(other, offline_shop("S1", secrets={"access_token": "t", "webhook_secret": "new"}))
    time.sleep(0.4)  # longer than the API keeps a webhook's shop
    with pytest.raises(BadSignature):
        receive_webhook(api, "S1", *signed_order(template, "d-2", "s"))
    receive_webhook(api, "S1", *signed_order(template, "d-3", "new"))

    # Set in the API's own process, the secret holds for the very next webhook.
    put_shop(api, offline_shop("S1", secrets={"access_token": "t", "webhook_secret": "newer"}))
    with pytest.raises(BadSignature):
        receive_webhook(api, "S1", *signed_order(template, "d-4", "new"))
    receive_webhook(api, "S1", *signed_order(template, "d-5", "newer"))
    assert stored(api) == 3


def test_a_shop_not_set_up_is_not_remembered_as_missing(
    hubs: tuple[Hub, Hub], template: dict[str, Any]
) -> None:
    api, other = hubs
    with pytest.raises(NotFound, match="S2"):
        receive_webhook(api, "S2", *signed_order(template, "d-1", "s"))
    put_shop(other, offline_shop("S2"))
    receive_webhook(api, "S2", *signed_order(template, "d-2", "s"))
    assert stored(api) == 1
