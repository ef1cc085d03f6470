"""Parcels over HTTP: the trackers' callbacks, the order's parcels, the buyer's page.

The buyer's page needs no sign-in: its link carries an unguessable token, and it shows
the carrier, the number, where the parcel is and its scans, with the receiver's city
shortened and nothing else of theirs. It speaks Chinese or English (`?lang=`, else the
browser's language).
"""

from __future__ import annotations

from html import escape
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import HTMLResponse, Response
from starlette.concurrency import run_in_threadpool

from orderhub.api.people import principal
from orderhub.services.hub import Hub
from orderhub.services.parcel_views import BuyerParcel, buyer_parcel, order_parcels
from orderhub.services.tracking import receive_tracking_callback

__all__ = ["tracking_routes"]

WORDS = {
    "zh": {
        "title": "包裹追踪",
        "carrier": "快递公司",
        "number": "运单号",
        "to": "寄往",
        "none": "快递公司还没有扫描这个包裹，请稍后再看。",
        "statuses": {
            "pending": "等待揽收",
            "info_received": "已下单",
            "in_transit": "运输中",
            "out_for_delivery": "派送中",
            "failed_attempt": "派送未成功",
            "available_for_pickup": "待取件",
            "delivered": "已签收",
            "exception": "异常",
            "returned": "已退回",
        },
    },
    "en": {
        "title": "Track your parcel",
        "carrier": "Carrier",
        "number": "Tracking number",
        "to": "To",
        "none": "The carrier has not scanned this parcel yet; please look again later.",
        "statuses": {
            "pending": "Awaiting pickup",
            "info_received": "Label created",
            "in_transit": "In transit",
            "out_for_delivery": "Out for delivery",
            "failed_attempt": "Delivery attempted",
            "available_for_pickup": "Ready for pickup",
            "delivered": "Delivered",
            "exception": "Exception",
            "returned": "Returned to sender",
        },
    },
}


def _language(request: Request, asked: str | None) -> str:
    if asked in WORDS:
        return str(asked)
    accepted = request.headers.get("accept-language", "").lower()
    return "en" if accepted.startswith("en") else "zh"


def render_parcel_page(found: BuyerParcel, lang: str) -> str:
    words: dict[str, Any] = WORDS[lang]
    statuses: dict[str, str] = words["statuses"]
    p = found.parcel
    rows = "".join(
        f"<li><time>{escape(e['at'][:16].replace('T', ' '))}</time> "
        f"<b>{escape(statuses.get(e['status'], e['status']))}</b> "
        f"{escape(e['description'])}"
        + (f" <span>{escape(e['location'])}</span>" if e["location"] else "")
        + "</li>"
        for e in reversed(found.events)
    )
    timeline = f"<ol>{rows}</ol>" if rows else f"<p>{escape(words['none'])}</p>"
    other = "en" if lang == "zh" else "zh"
    where = f" · {escape(words['to'])}: {escape(found.city)}" if found.city else ""
    number = f"{escape(words['number'])}: {escape(p.tracking_no)}"
    return f"""<!doctype html>
<html lang="{"zh-CN" if lang == "zh" else "en"}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex"><title>{escape(words["title"])}</title>
<style>body{{font-family:-apple-system,"PingFang SC","Microsoft YaHei",sans-serif;max-width:640px;
margin:24px auto;padding:0 16px;color:#303133}}h1{{font-size:20px}}.status{{font-size:22px;
color:#409eff}}ol{{list-style:none;padding:0}}li{{border-left:2px solid #dcdfe6;padding:4px 12px;
margin:0 0 8px}}time{{color:#909399;margin-right:8px}}span{{color:#909399}}</style></head>
<body><h1>{escape(words["title"])}</h1>
<p class="status" data-status="{escape(p.status)}">{escape(statuses.get(p.status, p.status))}</p>
<p>{escape(words["carrier"])}: {escape(p.carrier)} · {number}{where}</p>
{timeline}
<p><a href="?lang={other}">{"English" if other == "en" else "中文"}</a></p>
</body></html>"""


def tracking_routes(hub: Hub, bounded_body: Any) -> APIRouter:
    """The routes; their permissions are declared in `api.access.ROUTES`."""
    router = APIRouter()

    @router.post("/tracking/{tracker}", tags=["inbound"], summary="A parcel tracker's callback")
    async def callback(tracker: str, request: Request) -> Response:
        """Verified by the tracker's signature, stored, and answered as the tracker waits for."""
        body = await bounded_body(request)
        content, media_type = await run_in_threadpool(
            receive_tracking_callback,
            hub,
            tracker,
            dict(request.query_params),
            dict(request.headers),
            body,
        )
        return Response(content, media_type=media_type)

    @router.get("/api/v1/orders/{order_id}/parcels", tags=["orders"])
    def parcels(
        order_id: Annotated[str, Path(min_length=1, max_length=100)], request: Request
    ) -> list[dict[str, Any]]:
        """The order's parcels: where each is, its scans, and the link for the buyer."""
        return order_parcels(hub, order_id, who=principal(request))

    @router.get("/t/{token}", tags=["buyers"], response_class=HTMLResponse)
    def page(
        token: Annotated[str, Path(max_length=100)],
        request: Request,
        lang: Annotated[str | None, Query(max_length=5)] = None,
    ) -> HTMLResponse:
        """The buyer's tracking page: no sign-in, nothing personal but the city."""
        found = buyer_parcel(hub, token)
        return HTMLResponse(
            render_parcel_page(found, _language(request, lang)),
            headers={"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"},
        )

    return router
