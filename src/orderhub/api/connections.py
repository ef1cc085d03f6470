"""Connections over HTTP: the templates, what is set up, and a real test of each."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, ConfigDict

from orderhub.api.people import principal
from orderhub.config import NodeConfig, ShopConfig
from orderhub.services import connections
from orderhub.services.hub import Hub

__all__ = ["connection_routes"]


class Switch(BaseModel):
    """On or off."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool


def connection_routes(hub: Hub) -> APIRouter:
    """The routes; their permissions are declared in `api.access.ROUTES`."""
    router = APIRouter()

    @router.get("/api/v1/connections", tags=["configuration"])
    def list_connections() -> dict[str, Any]:
        """A template per platform (settings, secrets, the address it calls back), and
        every shop and node with its settings; secrets only say that they are set."""
        return connections.connections(hub)

    @router.put("/api/v1/shops/{code}", tags=["configuration"])
    def configure_shop(code: str, shop: ShopConfig, request: Request) -> dict[str, str]:
        """Add or change a shop; a secret left empty keeps its stored value. The hub's
        configuration file, when it has one, is changed to say the same."""
        if shop.code != code:
            raise HTTPException(400, "the code in the path and the body differ")
        connections.save_shop(hub, principal(request), shop)
        return {"code": code, "status": "saved"}

    @router.put("/api/v1/nodes/{code}", tags=["configuration"])
    def configure_node(code: str, node: NodeConfig, request: Request) -> dict[str, str]:
        """Add or change a warehouse or supplier, as for a shop."""
        if node.code != code:
            raise HTTPException(400, "the code in the path and the body differ")
        connections.save_node(hub, principal(request), node)
        return {"code": code, "status": "saved"}

    @router.put("/api/v1/shops/{code}/sync", tags=["configuration"])
    def set_sync(code: str, switches: dict[str, bool], request: Request) -> dict[str, bool]:
        """Turn parts of the shop's sync on or off: `orders`, `stock`, `tracking`,
        `returns`. Stock switched on is pushed at once."""
        if not principal(request).sees_shop(code):
            raise HTTPException(404, f"no shop {code}")
        return connections.set_sync(hub, code, switches)

    @router.put("/api/v1/shops/{code}/enabled", tags=["configuration"])
    def enable_shop(code: str, switch: Switch, request: Request) -> dict[str, bool]:
        """Switch the whole shop on or off; off, it syncs nothing and loses nothing."""
        if not principal(request).sees_shop(code):
            raise HTTPException(404, f"no shop {code}")
        return {"enabled": connections.set_enabled(hub, "shop", code, switch.enabled)}

    @router.put("/api/v1/nodes/{code}/enabled", tags=["configuration"])
    def enable_node(code: str, switch: Switch) -> dict[str, bool]:
        """Switch a warehouse or supplier on or off; off, it is given no new orders and
        its stock is not offered to the shops."""
        return {"enabled": connections.set_enabled(hub, "node", code, switch.enabled)}

    @router.post("/api/v1/shops/{code}/test", tags=["configuration"])
    async def test_shop(code: str) -> dict[str, Any]:
        """One real, read-only call to the shop's platform with what is stored."""
        return asdict(await run_in_threadpool(connections.test_shop, hub, code))

    @router.post("/api/v1/nodes/{code}/test", tags=["configuration"])
    async def test_node(code: str) -> dict[str, Any]:
        """One real, read-only call to the warehouse or supplier with what is stored."""
        return asdict(await run_in_threadpool(connections.test_node, hub, code))

    @router.post("/api/v1/erps/{code}/test", tags=["configuration"])
    async def test_erp(code: str) -> dict[str, Any]:
        """Sign in to the ERP with what is stored and make one read-only query."""
        return asdict(await run_in_threadpool(connections.test_erp, hub, code))

    return router
