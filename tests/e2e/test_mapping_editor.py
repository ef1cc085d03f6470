"""A shop's field mapping changed over HTTP: a shop whose order times come without a UTC
offset fails to map, and each payload is kept with an exception naming the field; the
preview of an override shows them mapping and changes nothing; saved as the next
version, the payloads replayed become orders that reach the warehouse."""

from __future__ import annotations

from collections.abc import Callable

import httpx

from orderhub.demo_stack import Stack
from orderhub.services import queries
from orderhub.services.audit import list_entries
from support import api_token, bearer, wait_until

BEIJING_TIME = {"created_at": "2026-12-01 10:00:00"}  # the shop's own app writes it so
FIX = {"fields": {"placed_at": {"type": "china_time"}}}


def test_a_mapping_change_is_previewed_saved_as_a_version_and_the_failed_orders_replayed(
    make_stack: Callable[..., Stack],
) -> None:
    stack = make_stack()
    shop = stack.shops["SHOP1"]
    for _ in range(2):
        shop.place_order(
            {"lines": [{"sku": "SKU-001", "quantity": 1}], "raw_override": BEIJING_TIME}
        )
    shop.place_order({"lines": [{"sku": "SKU-002", "quantity": 1}]})
    wait_until(lambda: len(stack.qimen.orders()) == 1, what="the well-formed order pushed")
    wait_until(
        lambda: sum(e.field == "placed_at" for e in queries.exception_list(stack.hub)) == 2,
        what="two exceptions naming placed_at",
    )
    admin = api_token(stack.hub, "admin")
    url = f"{stack.api.url}/api/v1/shops/SHOP1/mapping"

    shown = httpx.get(url, headers=bearer(admin)).json()
    placed = next(f for f in shown["fields"] if f["field"] == "placed_at")
    assert (placed["path"], placed["type"]) == ("created_at", "datetime")
    assert shown["version"] == 0 and "china_time" in shown["types"]

    broken = httpx.post(
        f"{url}/preview",
        json={"overrides": {"fields": {"placed_at": {"path": "created_at[", "type": "str"}}}},
        headers=bearer(admin),
    )
    assert broken.status_code == 422 and "placed_at" in broken.json()["message"]
    preview = httpx.post(f"{url}/preview", json={"overrides": FIX}, headers=bearer(admin)).json()
    assert (preview["failing_before"], preview["failing_after"]) == (2, 0)
    fixed = [p for p in preview["payloads"] if not p["before"]["ok"]]
    assert {p["after"]["placed_at"] for p in fixed} == {"2026-12-01T02:00:00+00:00"}
    assert all(
        "****" in p["after"]["receiver"]["phone"] for p in fixed if p["after"]["receiver"]["phone"]
    )
    assert len(stack.qimen.orders()) == 1  # a preview changes nothing
    assert httpx.get(url, headers=bearer(admin)).json()["version"] == 0

    operator = api_token(stack.hub, "operator")
    assert httpx.put(url, json={"overrides": FIX}, headers=bearer(operator)).status_code == 403
    saved = httpx.put(url, json={"overrides": FIX}, headers=bearer(admin))
    assert saved.json() == {"shop": "SHOP1", "version": 1}
    replayed = httpx.post(f"{url}/replay", headers=bearer(admin)).json()
    assert replayed == {"replayed": 2, "orders": 2, "still_failing": 0}

    wait_until(lambda: len(stack.qimen.orders()) == 3, what="the replayed orders pushed")
    assert not [e for e in queries.exception_list(stack.hub) if e.field == "placed_at"]
    after = httpx.get(url, headers=bearer(admin)).json()
    assert after["overrides"] == FIX and after["version"] == 1
    assert [h["version"] for h in after["history"]] == [1]
    [entry] = list_entries(stack.hub, action="mapping.save")
    assert entry.before == {"mapping": {}} and entry.after["mapping"] == FIX
