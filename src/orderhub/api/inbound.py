"""What the shops and nodes send the hub: webhooks and callbacks, verified by the
services by their signatures, not by a person's permissions.

They are the API's busiest routes, so they are served as plain routes in front of the
others: no dependency is resolved and no route is matched before them. The same paths
are declared as API routes too, which is what the OpenAPI document shows; errors go
through the API's own handlers either way.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import FastAPI, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response
from starlette.routing import Route

from orderhub.services.hub import Hub
from orderhub.services.ingest import receive_webhook
from orderhub.services.node_callbacks import receive_node_callback

__all__ = ["BodyReader", "add_inbound", "body_reader"]

BodyReader = Callable[[Request], Awaitable[bytes]]


def body_reader(hub: Hub) -> BodyReader:
    """Reads a request's body, refused with 413 before it is read whole when too large."""

    async def bounded_body(request: Request) -> bytes:
        limit = hub.settings.max_body_bytes
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            raise HTTPException(413, f"the body is larger than {limit} bytes")
        chunks, size = [], 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise HTTPException(413, f"the body is larger than {limit} bytes")
            chunks.append(chunk)
        return b"".join(chunks)

    return bounded_body


def add_inbound(app: FastAPI, hub: Hub, bounded_body: BodyReader) -> None:
    """Serve `POST /webhooks/{shop}` and `POST /callbacks/{node}` ahead of every other route."""

    async def webhook(request: Request) -> Response:
        body = await bounded_body(request)
        shop = request.path_params["shop"]
        received = await run_in_threadpool(receive_webhook, hub, shop, request.headers, body)
        # `code` 0 and `msg` are what Douyin's push waits for; other platforms ignore them.
        return JSONResponse(
            {
                "inbox_id": received.inbox_id,
                "duplicate": not received.new,
                "code": 0,
                "msg": "success",
            }
        )

    async def callback(request: Request) -> Response:
        """Qimen signs in the query string; suppliers sign in `X-Orderhub-*` headers."""
        body = await bounded_body(request)
        signed = dict(request.query_params)
        signed.update(
            {k: v for k, v in request.headers.items() if k.lower().startswith("x-orderhub-")}
        )
        node = request.path_params["node"]
        content, media_type = await run_in_threadpool(
            receive_node_callback, hub, node, signed, body
        )
        return Response(content, media_type=media_type)

    app.router.routes[0:0] = [
        Route("/webhooks/{shop}", webhook, methods=["POST"]),
        Route("/callbacks/{node}", callback, methods=["POST"]),
    ]

    # The same, as the OpenAPI document shows them (the plain routes answer first).
    @app.post(
        "/webhooks/{shop}",
        tags=["inbound"],
        summary="A shop's webhook",
        response_model=dict[str, Any],
    )
    async def shop_webhook(shop: str, request: Request) -> Response:
        """Verified by the shop's signature and stored before it is read; the worker
        processes it. A delivery seen before is answered as a duplicate."""
        return await webhook(request)

    @app.post("/callbacks/{node}", tags=["inbound"], summary="A node's callback")
    async def node_callback(node: str, request: Request) -> Response:
        """Qimen signs in the query string; suppliers sign in `X-Orderhub-*` headers."""
        return await callback(request)
