"""Every route × every role, and every way a credential can be wrong, over real HTTP.

The table in `orderhub.api.access.ROUTES` is the single statement of who may call what;
these tests prove the running API keeps to it, and that the table covers every route.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import httpx
import pytest

from orderhub.api.access import OPEN, ROUTES
from orderhub.api.app import create_app
from orderhub.config import HubConfig, SkuConfig
from orderhub.domain.access import ROLE_PERMISSIONS, Permission, Principal, Role
from orderhub.sandbox.server import RunningServer, serve_in_thread
from orderhub.services import accounts
from orderhub.services.hub import Hub
from orderhub.services.ingest import process_inbox, receive_payload
from orderhub.services.setup import apply_config
from support import (
    AUTH_CASES,
    api_token,
    bearer,
    make_hub,
    offline_shop,
    offline_warehouse,
    raw_shopify_order,
)

OWNER = Principal("test-setup", Role.OWNER, via="test")


@pytest.fixture
def hub(database_url: str) -> Iterator[Hub]:
    h = make_hub(database_url)
    apply_config(
        h,
        HubConfig(
            shops=[offline_shop("S1"), offline_shop("S2")],
            nodes=[offline_warehouse("WH1")],
            skus=[SkuConfig(sku="SKU-1")],
        ),
    )
    yield h
    h.close()


def _api_routes(hub: Hub) -> list[tuple[str, str]]:
    """Every route the API serves, as its OpenAPI document lists them."""
    paths = create_app(hub).openapi()["paths"]
    return sorted((method.upper(), path) for path, item in paths.items() for method in item)


def test_every_route_declares_the_permission_it_needs(hub: Hub) -> None:
    # The documentation page and the console's page are the routes the OpenAPI document
    # leaves out.
    assert set(_api_routes(hub)) | {("GET", "/docs"), ("GET", "/")} == set(ROUTES)


_CLIENT = httpx.Client(timeout=30)  # one kept-alive connection for the thousand calls


def _call(api: RunningServer, method: str, path: str, headers: dict[str, str]) -> httpx.Response:
    concrete = path
    for name in ("shop", "node", "code"):
        concrete = concrete.replace("{" + name + "}", "NOPE")
    for name in (
        "order_id",
        "exception_id",
        "return_id",
        "name",
        "token_id",
        "listing_id",
        "buyer_id",
    ):
        concrete = concrete.replace("{" + name + "}", "0")
    concrete = concrete.replace("{job_id}", "0")
    return _CLIENT.request(
        method, f"{api.url}{concrete}", headers=headers, json={} if method != "GET" else None
    )


def _denied(response: httpx.Response) -> bool:
    return response.status_code in (401, 403)


def test_each_role_reaches_exactly_the_routes_its_permissions_allow(
    hub: Hub, api: RunningServer, request: pytest.FixtureRequest
) -> None:
    tokens = {role: api_token(hub, role.value) for role in Role}
    expired_user = "expired-one"
    accounts.create_user(hub, expired_user, "owner", actor=OWNER, password="a test password")
    expired = accounts.create_token(
        hub, expired_user, actor=OWNER, expires_in=timedelta(seconds=-1)
    ).secret
    revoked_token = accounts.create_token(hub, expired_user, actor=OWNER)
    accounts.revoke_token(hub, revoked_token.id, actor=OWNER)
    strangers: dict[str, dict[str, str]] = {
        "no token": {},
        "a made-up token": bearer("oh_made-up"),
        "an expired token": bearer(expired),
        "a revoked token": bearer(revoked_token.secret),
        "not a bearer": {"Authorization": "Basic b3duZXI6cGFzcw=="},
    }
    cases = 0
    failures: list[str] = []
    for (method, path), needed in sorted(ROUTES.items()):
        if path.startswith(("/webhooks", "/callbacks")) or path == "/api/v1/setup":
            continue  # signed or one-time-code routes: tested where their proof is
        for role, token in tokens.items():
            answer = _call(api, method, path, bearer(token))
            cases += 1
            allowed = needed == OPEN or Permission(needed) in ROLE_PERMISSIONS[role]
            if answer.status_code >= 500 or _denied(answer) == allowed:
                failures.append(f"{role.value} {method} {path}: {answer.status_code}")
        for who, headers in strangers.items():
            answer = _call(api, method, path, headers)
            cases += 1
            if answer.status_code >= 500 or (needed != OPEN and answer.status_code != 401):
                failures.append(f"{who} {method} {path}: {answer.status_code}")
    request.config.stash[AUTH_CASES] = request.config.stash.get(AUTH_CASES, 0) + cases
    assert failures == []
    assert cases > 250


def _order_in(hub: Hub, shop: str, number: str) -> str:
    raw = raw_shopify_order(int(number))
    received = receive_payload(hub, shop, raw, source="import")
    order_id = process_inbox(hub, received.inbox_id)
    assert order_id is not None
    return order_id


def test_a_person_limited_to_one_shop_sees_nothing_of_another(hub: Hub, api: RunningServer) -> None:
    mine, theirs = _order_in(hub, "S1", "1001"), _order_in(hub, "S2", "2001")
    token = bearer(api_token(hub, "operator", shops=("S1",)))
    with httpx.Client(base_url=api.url, headers=token) as client:
        listed = client.get("/api/v1/orders")
        other_list = client.get("/api/v1/orders", params={"shop": "S2"})
        own = client.get(f"/api/v1/orders/{mine}")
        other = client.get(f"/api/v1/orders/{theirs}")
    assert [row["id"] for row in listed.json()] == [mine]
    assert other_list.status_code == 403
    assert own.status_code == 200
    assert other.status_code == 404


def test_a_person_limited_to_one_shop_sees_only_its_exceptions(
    hub: Hub, api: RunningServer
) -> None:
    for shop, number in (("S1", 1001), ("S2", 2001)):
        received = receive_payload(
            hub, shop, raw_shopify_order(number, sku="UNKNOWN"), source="import"
        )
        process_inbox(hub, received.inbox_id)
    token = bearer(api_token(hub, "operator", shops=("S1",)))
    owner = bearer(api_token(hub, "owner"))
    with httpx.Client(base_url=api.url) as client:
        everything = client.get("/api/v1/exceptions", headers=owner).json()
        mine = client.get("/api/v1/exceptions", headers=token).json()
        other = client.get("/api/v1/exceptions", params={"shop": "S2"}, headers=token)
        by_id = {
            row["id"]: client.get(f"/api/v1/exceptions/{row['id']}", headers=token).status_code
            for row in everything["items"]
        }
    own = {row["id"] for row in mine["items"]}
    # Both orders are held for the same reasons; one shop's half is all the person sees.
    assert 0 < mine["total"] == len(own) == everything["total"] // 2
    assert other.status_code == 403
    assert {i: 200 if i in own else 404 for i in by_id} == by_id


def test_a_connection_change_is_audited_with_secrets_only_as_changed(
    hub: Hub, api: RunningServer
) -> None:
    admin = bearer(api_token(hub, "admin"))
    node = offline_warehouse("WH1").model_dump(mode="json")
    node["settings"]["base_url"] = "http://127.0.0.1:9/other"
    node["secrets"] = {"app_secret": "new-secret-value"}
    with httpx.Client(base_url=api.url, headers=admin) as client:
        assert client.put("/api/v1/nodes/WH1", json=node).status_code == 200
        entries = client.get("/api/v1/audit", params={"target": "node:WH1"}).json()
        operator = bearer(api_token(hub, "operator"))
        refused = client.put("/api/v1/nodes/WH1", json=node, headers=operator)
    [change] = entries
    assert change["action"] == "node.change"
    assert change["after"]["settings"]["base_url"] == "http://127.0.0.1:9/other"
    assert change["after"]["credentials"] == {"app_secret": "changed"}
    assert "new-secret-value" not in str(entries)
    assert refused.status_code == 403
    with httpx.Client(base_url=api.url, headers=admin) as client:
        denied = client.get("/api/v1/audit", params={"action": "denied"}).json()
    assert [(e["target"], e["actor"].split("-")[0]) for e in denied] == [
        ("PUT /api/v1/nodes/{code}", "operator")
    ]


def test_the_first_owner_is_made_once_with_the_set_up_code(hub: Hub) -> None:
    app = create_app(hub)
    code = app.state.setup_code.value
    assert code
    server = serve_in_thread(app)
    try:
        body = {"name": "boss", "password": "a good long password"}
        wrong = httpx.post(f"{server.url}/api/v1/setup", json={**body, "code": "guess"})
        made = httpx.post(f"{server.url}/api/v1/setup", json={**body, "code": code})
        again = httpx.post(
            f"{server.url}/api/v1/setup", json={**body, "name": "other", "code": code}
        )
    finally:
        server.stop()
    assert wrong.status_code == 403
    assert made.status_code == 201 and made.json()["role"] == "owner"
    assert again.status_code == 403
    assert accounts.authenticate(hub, "boss", "a good long password").role is Role.OWNER
    assert create_app(hub).state.setup_code.value is None
