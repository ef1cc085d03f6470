"""A Kingdee 金蝶云星辰 (JDY) tenant behind its V2 open API, over real HTTP.

Wire, from public integration pages (UNCONFIRMED where no official page was found):

* `GET /jdyconnector/app_management/kingdee_auth_token?app_key=&app_signature=` signed
  with the `X-Api-*` headers; `app_signature` is base64(hex(HMAC-SHA256(app secret,
  app key))). Answers `{"errcode": 0, "description": …, "data": {"app-token": …,
  "domain": …}}`.
* `GET|POST /jdy/v2/scm/sal_order` and `/jdy/v2/scm/sal_out_bound`, signed, with the
  `app-token` header and `X-GW-Router-Addr` (the tenant's domain). Lists take `page`,
  `page_size`, `search` (matched against bill_no and remark: UNCONFIRMED), `bill_status`.
* Every answer is HTTP 200 with `errcode` (0 = success) and `description`; the error codes
  used here (`1001` signature, `1002` token, `2001` data) are UNCONFIRMED.

Control (never faulted): `/_sandbox/bills/{form}`, `/_sandbox/base`,
`/_sandbox/faults`, `/_sandbox/stats`.
"""

from __future__ import annotations

import hmac
import json
import secrets
import threading
import time
from collections import Counter
from datetime import date
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from orderhub.sandbox.faults import FaultMiddleware, Faults

from .signing import hex64, sign_message

__all__ = ["FORMS", "JdyEmulator"]

FORMS = {"sal_order": "XSDD", "sal_out_bound": "XSCK"}
"""The documents served, with the prefix of the numbers the tenant gives them."""

E_SIGNATURE, E_TOKEN, E_DATA = 1001, 1002, 2001


def _answer(errcode: int, description: str, data: Any = None) -> Response:
    body = {"errcode": errcode, "description": description, "data": data}
    return Response(
        json.dumps(body, ensure_ascii=False, default=str),
        media_type="application/json; charset=utf-8",
    )


class Refused(Exception):
    """The tenant says no, with its code and words."""

    def __init__(self, errcode: int, description: str) -> None:
        super().__init__(description)
        self.errcode, self.description = errcode, description


class JdyEmulator:
    """One tenant with one authorised app."""

    def __init__(
        self,
        client_id: str = "238911",
        client_secret: str = "jdy-sandbox-client-secret-2026",
        app_key: str = "Ab3dE6gH",
        app_secret: str = "jdy-sandbox-app-secret",
        domain: str = "tf.jdy.com",
        *,
        timestamp_window: float = 300.0,
    ) -> None:
        self.client_id, self.client_secret = client_id, client_secret
        self.app_key, self.app_secret, self.domain = app_key, app_secret, domain
        self.window = timestamp_window
        self.tokens: set[str] = set()
        self.materials: set[str] = set()
        self.customers: set[str] = set()
        self.stocks: set[str] = set()
        self._bills: dict[str, list[dict[str, Any]]] = {form: [] for form in FORMS}
        self._lock = threading.Lock()
        self.calls: Counter[str] = Counter()
        self.faults = Faults()
        self.app = FaultMiddleware(Starlette(routes=self._routes()), self.faults)

    @property
    def credentials(self) -> dict[str, str]:
        return {
            "client_id": self.client_id,
            "client_secret": self.client_secret,
            "app_key": self.app_key,
            "app_secret": self.app_secret,
            "domain": self.domain,
        }

    def seed(
        self, *, materials: list[str], customers: list[str], stocks: list[str] | None = None
    ) -> None:
        """Base data as the seller keyed it in: 商品, 客户, 仓库."""
        self.materials.update(materials)
        self.customers.update(customers)
        self.stocks.update(stocks or ["CK001"])

    def bills(self, form: str) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(bill) for bill in self._bills[form]]

    def stats(self) -> dict[str, Any]:
        return {"calls": dict(self.calls), **{f: len(b) for f, b in self._bills.items()}}

    # -- checks --------------------------------------------------------------------

    def _check_signed(self, request: Request) -> None:
        h = request.headers
        if h.get("x-api-clientid", "") != self.client_id:
            raise Refused(E_SIGNATURE, "X-Api-ClientID 不正确")
        stamp, nonce = h.get("x-api-timestamp", ""), h.get("x-api-nonce", "")
        try:
            seconds = float(stamp) / 1000
        except ValueError:
            raise Refused(E_SIGNATURE, "X-Api-TimeStamp 不正确") from None
        if abs(time.time() - seconds) > self.window:
            raise Refused(E_SIGNATURE, "请求已过期：X-Api-TimeStamp 超出有效期")
        query = dict(request.query_params)
        message = sign_message(request.method, request.url.path, query, nonce=nonce, stamp=stamp)
        expected = hex64(self.client_secret, message)
        if not hmac.compare_digest(h.get("x-api-signature", ""), expected):
            raise Refused(E_SIGNATURE, "签名验证失败：X-Api-Signature 不正确")

    def _check_token(self, request: Request) -> None:
        self._check_signed(request)
        if request.headers.get("app-token", "") not in self.tokens:
            raise Refused(E_TOKEN, "app-token 无效或已过期")
        if request.headers.get("x-gw-router-addr", "") != self.domain:
            raise Refused(E_TOKEN, "X-GW-Router-Addr 与账套不符")

    # -- endpoints -----------------------------------------------------------------

    async def _auth_token(self, request: Request) -> Response:
        self.calls["kingdee_auth_token"] += 1
        self._check_signed(request)
        query = request.query_params
        if query.get("app_key") != self.app_key:
            raise Refused(E_TOKEN, "app_key 不存在")
        if query.get("app_signature") != hex64(self.app_secret, self.app_key):
            raise Refused(E_TOKEN, "app_signature 不正确")
        token = secrets.token_hex(16)
        self.tokens.add(token)
        return _answer(0, "成功", {"app-token": token, "domain": self.domain, "uid": 1})

    async def _bills_endpoint(self, request: Request) -> Response:
        form = request.url.path.rsplit("/", 1)[-1]
        self.calls[f"{request.method} {form}"] += 1
        self._check_token(request)
        if request.method == "GET":
            return _answer(0, "成功", self._list(form, request.query_params))
        try:
            body = json.loads(await request.body() or b"{}")
        except ValueError:
            raise Refused(E_DATA, "请求体不是合法的 JSON") from None
        if not isinstance(body, dict):
            raise Refused(E_DATA, "请求体必须是 JSON 对象")
        bill = self._save(form, body)
        return _answer(0, "成功", {"ids": [bill["id"]], "bill_nos": [bill["bill_no"]]})

    def _list(self, form: str, query: Any) -> dict[str, Any]:
        try:
            page = max(int(query.get("page") or 1), 1)
            size = min(max(int(query.get("page_size") or 10), 1), 100)
        except ValueError:
            raise Refused(E_DATA, "page / page_size 必须是整数") from None
        search, status = query.get("search") or "", query.get("bill_status") or ""
        rows = [
            b
            for b in self.bills(form)
            if (not search or search in b["bill_no"] or search in str(b.get("remark") or ""))
            and (not status or b["bill_status"] == status)
        ]
        total_page = max((len(rows) + size - 1) // size, 1)
        chunk = rows[(page - 1) * size : page * size]
        return {
            "count": len(rows),
            "page": page,
            "page_size": size,
            "total_page": total_page,
            "rows": chunk,
        }

    def _save(self, form: str, body: dict[str, Any]) -> dict[str, Any]:
        customer = str(body.get("customer_number") or "")
        if customer not in self.customers:
            raise Refused(E_DATA, f"客户编码 {customer or '(空)'} 不存在")
        lines = body.get("material_entity")
        if not isinstance(lines, list) or not lines:
            raise Refused(E_DATA, "material_entity 不能为空")
        for n, line in enumerate(lines, start=1):
            code = str(line.get("material_number") or "") if isinstance(line, dict) else ""
            if code not in self.materials:
                raise Refused(E_DATA, f"第{n}行 商品编码 {code or '(空)'} 不存在")
            stock = str(line.get("stock_number") or "")
            if stock and stock not in self.stocks:
                raise Refused(E_DATA, f"第{n}行 仓库编码 {stock} 不存在")
            try:
                if float(line.get("qty") or 0) <= 0:
                    raise ValueError
            except (TypeError, ValueError):
                raise Refused(E_DATA, f"第{n}行 qty 必须大于 0") from None
        with self._lock:
            bills = self._bills[form]
            number = str(body.get("bill_no") or "")
            if number and any(b["bill_no"] == number for b in bills):
                raise Refused(E_DATA, f"单据编号 {number} 已存在")
            today = date.today().strftime("%Y%m%d")
            bill = {
                **body,
                "id": str(1_000_000 + len(bills) + 1),
                "bill_no": number or f"{FORMS[form]}-{today}-{len(bills) + 1:05d}",
                "bill_date": body.get("bill_date") or date.today().isoformat(),
                "bill_status": "C",
            }
            bills.append(bill)
        return bill

    # -- control -------------------------------------------------------------------

    async def _control_bills(self, request: Request) -> Response:
        form = request.path_params["form"]
        if form not in FORMS:
            return JSONResponse({"error": f"unknown form {form}"}, status_code=404)
        return JSONResponse(self.bills(form))

    async def _control_base(self, request: Request) -> Response:
        try:
            data = json.loads(await request.body() or b"{}")
            kind, code = str(data["kind"]), str(data["code"])
            target = {"material": self.materials, "customer": self.customers, "stock": self.stocks}
            target[kind].add(code)
        except (ValueError, KeyError, TypeError) as exc:
            return JSONResponse({"error": f"bad base data: {exc}"}, status_code=400)
        return JSONResponse({"ok": True})

    async def _control_faults(self, request: Request) -> Response:
        if request.method == "POST":
            try:
                self.faults.update(json.loads(await request.body() or b"{}"))
            except (KeyError, ValueError, TypeError) as exc:
                return JSONResponse({"error": f"bad fault: {exc}"}, status_code=400)
        return JSONResponse(self.faults.snapshot())

    async def _control_stats(self, _: Request) -> Response:
        return JSONResponse(self.stats())

    def _routes(self) -> list[Route]:
        def refusing(endpoint: Any) -> Any:
            async def wrapped(request: Request) -> Response:
                try:
                    response: Response = await endpoint(request)
                    return response
                except Refused as exc:
                    return _answer(exc.errcode, exc.description)

            return wrapped

        return [
            Route(
                "/jdyconnector/app_management/kingdee_auth_token",
                refusing(self._auth_token),
                methods=["GET"],
            ),
            *(
                Route(
                    f"/jdy/v2/scm/{form}", refusing(self._bills_endpoint), methods=["GET", "POST"]
                )
                for form in FORMS
            ),
            Route("/_sandbox/bills/{form}", self._control_bills, methods=["GET"]),
            Route("/_sandbox/base", self._control_base, methods=["POST"]),
            Route("/_sandbox/faults", self._control_faults, methods=["GET", "POST"]),
            Route("/_sandbox/stats", self._control_stats, methods=["GET"]),
        ]
