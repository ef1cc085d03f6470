"""A Taobao/Tmall shop behind the TOP gateway, over real HTTP.

Sources: platform-apis.md §4 and §11 (bububa/opentaobao metadata for the calls and
`core/client.go` for signing; the TOP error-code table).

Wire: `POST /router/rest` (form-urlencoded; the query string is read too) with `method`,
`app_key`, `session`, `timestamp` (`yyyy-MM-dd HH:mm:ss`, Beijing time, within
`timestamp_window` of the emulator's clock, ±10 min by default: the number is
UNCONFIRMED), `format=json`, `v=2.0`, `sign_method` (`md5`, `hmac`, `hmac-sha256`) and
`sign`. Answers `{"<method less 'taobao.', dots as _>_response": {…, "request_id"}}`;
refusals `{"error_response": {code, msg, sub_code, sub_msg, request_id}}` with HTTP
200: 21/22 method, 23 format, 24/25 signature, 26/27 session, 28/29 app key, 30/31
timestamp, 32/34 version, 40/41 arguments, 15 with `isv.*` for business refusals.
Throttling is code 7 "App Call Limited" with sub code
`accesscontrol.limited-by-app-access-count` and "This ban will last for N more seconds";
server faults are code 10 with an `isp.*` sub code. Nothing is changed by a refused call.

`trades.sold.increment.get` searches `start_modified <= modified <= end_modified`, both
bounds inclusive, at most a day apart, newest first; `page_cap` (UNCONFIRMED, default
none) limits how deep one span may be paged. TOP pushes through its own message client,
not HTTP, so this shop is pulled.

Control (never faulted): `/_sandbox/orders` (GET list, POST place), `/_sandbox/orders/{tid}`,
`/_sandbox/faults`, `/_sandbox/stats`, `/_sandbox/orders/{tid}/settle` (POST: the buyer
confirms receipt; the bill gets the payment and the commission; body `commission_rate`,
`paid`, `at`), `/_sandbox/bills` (GET every bill line).

The bill (`taobao.bill.accounts.get`, `taobao.bill.bills.get`): amounts in fen (the
unit is UNCONFIRMED), refunds negative, a day of `pay_time` (or `biz_time`) per call.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import random
import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from orderhub.sandbox.faults import FaultMiddleware, Faults, faults_route

from .bills import BILL_METHODS, PAYMENT, Bill, settle_trade
from .methods import METHODS, TopError
from .state import BEIJING, ShopState, SubOrder, Trade

__all__ = ["TaobaoEmulator"]

CALLS = {**METHODS, **BILL_METHODS}

SIGN_METHODS = ("md5", "hmac", "hmac-sha256")


def _error(error: TopError, status: int = 200) -> JSONResponse:
    body: dict[str, Any] = {"code": error.code, "msg": error.msg}
    if error.sub_code:
        body.update(sub_code=error.sub_code, sub_msg=error.sub_msg)
    body["request_id"] = uuid.uuid4().hex[:13]
    return JSONResponse({"error_response": body}, status_code=status)


def _limited(retry_after: float) -> Response:
    seconds = max(math.ceil(retry_after), 1)
    return _error(
        TopError(
            7,
            "App Call Limited",
            "accesscontrol.limited-by-app-access-count",
            f"This ban will last for {seconds} more seconds",
        )
    )


def _unavailable(status: int) -> Response:
    return _error(
        TopError(10, "Service Currently Unavailable", "isp.top-remote-unknown-error", "try later"),
        status,
    )


def top_sign(params: Mapping[str, str], secret: str, method: str) -> str:
    """The signature TOP expects; written here from the rule, apart from the hub's."""
    text = "".join(f"{k}{params[k]}" for k in sorted(params) if k != "sign" and params[k])
    key = secret.encode()
    if method == "md5":
        return hashlib.md5(key + text.encode() + key).hexdigest().upper()
    digest = hashlib.md5 if method == "hmac" else hashlib.sha256
    return hmac.new(key, text.encode(), digest).hexdigest().upper()


class TaobaoEmulator:
    """One seller's shop: the gateway, its trades and items, and the control routes."""

    def __init__(
        self,
        app_key: str = "sandbox-app-key",
        app_secret: str = "sandbox-app-secret",
        session: str = "sandbox-session",
        *,
        seed: int | None = None,
        timestamp_window: timedelta = timedelta(minutes=10),
        page_cap: int | None = None,
        faults: Faults | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.app_key, self.session = app_key, session
        self._secret = app_secret
        self.timestamp_window = timestamp_window
        self.page_cap = page_cap
        self.faults = faults if faults is not None else Faults(seed=seed, _rng=random.Random(seed))
        self.state = ShopState(seed=seed, clock=clock)
        self._hooks: list[Callable[[], None]] = []
        self.app = FaultMiddleware(
            Starlette(routes=self._routes()),
            self.faults,
            rate_limited=_limited,
            server_error=_unavailable,
            malformed_body=b'{"trades_sold_increment_get_response": {"total_res',
        )

    @property
    def credentials(self) -> dict[str, str]:
        return {"app_key": self.app_key, "app_secret": self._secret, "session": self.session}

    # driven from Python (tests, the demo) and from the control routes

    def seed_items(self, items: list[Mapping[str, Any]]) -> None:
        self.state.seed_items(items)

    def place_order(self, spec: Mapping[str, Any], *, at: datetime | None = None) -> str:
        """A new trade from `{"lines": [{"sku", "quantity", "price"?}], "receiver"?, "paid"?}`."""
        s = self.state
        moment = at or s.clock()
        with s.lock:
            orders = []
            for line in spec.get("lines") or []:
                found = s.sku(str(line["sku"]))
                num_iid, sku_id, price = (
                    (found[0].num_iid, found[1], found[2]) if found else (0, 0, Decimal("19.90"))
                )
                orders.append(
                    SubOrder(
                        oid=s.new_id(),
                        num_iid=num_iid,
                        sku_id=sku_id,
                        outer_iid="",
                        outer_sku_id=str(line["sku"]),
                        title=found[0].title if found else str(line["sku"]),
                        price=Decimal(str(line.get("price") or price)),
                        num=int(line.get("quantity", 1)),
                    )
                )
            paid = bool(spec.get("paid", True))
            tid = s.new_id()
            s.trades[tid] = Trade(
                tid=tid,
                status="WAIT_SELLER_SEND_GOODS" if paid else "WAIT_BUYER_PAY",
                created=moment,
                pay_time=moment if paid else None,
                modified=moment,
                buyer_nick=str(spec.get("buyer_nick") or "tb_buyer"),
                buyer_message=str(spec.get("buyer_message") or ""),
                receiver={**s.random_receiver(), **dict(spec.get("receiver") or {})},
                oaid=s.oaid_for(tid),
                orders=orders,
                post_fee=Decimal(str(spec.get("post_fee", "0"))),
            )
        return str(tid)

    def modify_order(self, tid: str, *, at: datetime | None = None, **changes: Any) -> None:
        """Change a trade (a seller memo, a status) and bump its modified time."""
        with self.state.lock:
            trade = self.state.trades[int(tid)]
            for key, value in changes.items():
                setattr(trade, key, value)
            trade.modified = at or self.state.clock()

    def pay(self, tid: str) -> None:
        now = self.state.clock()
        self.modify_order(tid, status="WAIT_SELLER_SEND_GOODS", pay_time=now, at=now)

    def refund(self, tid: str, *, line_index: int = 0, pending: bool = False) -> None:
        """The buyer's refund of one sub-order. Before shipment the sub-order closes (and
        the trade, once nothing is left); after it, the refund succeeds (or waits)."""
        s = self.state
        with s.lock:
            trade = s.trades[int(tid)]
            order = trade.orders[line_index]
            order.refund_id = s.new_id() % 10**15
            order.refund_status = "WAIT_SELLER_AGREE" if pending else "SUCCESS"
            if not pending:
                order.status = "TRADE_CLOSED"
                if all(o.refund_status == "SUCCESS" for o in trade.orders):
                    trade.status = "TRADE_CLOSED"
                elif trade.consign_time is None:
                    trade.status = "WAIT_SELLER_SEND_GOODS"
            trade.modified = s.clock()

    def settle(
        self,
        tid: str,
        *,
        commission_rate: Decimal | str = "0.05",
        paid: Decimal | str | None = None,
        at: datetime | None = None,
    ) -> list[dict[str, Any]]:
        """The buyer confirmed receipt: the trade is finished and the bill gets its lines."""
        s = self.state
        moment = at or s.clock()
        with s.lock:
            trade = s.trades[int(tid)]
            trade.status = "TRADE_FINISHED"
            trade.modified = moment
            made = settle_trade(
                s,
                trade,
                at=moment,
                commission_rate=Decimal(str(commission_rate)),
                paid=Decimal(str(paid)) if paid is not None else None,
            )
            return [bill.view() for bill in made]

    def add_bill(
        self,
        tid: str,
        amount: Decimal | str,
        *,
        account_id: int = PAYMENT,
        at: datetime | None = None,
    ) -> dict[str, Any]:
        """One more bill line for a trade (known to the shop or not): `amount` in yuan,
        negative for a refund or a deduction."""
        s = self.state
        moment = at or s.clock()
        fen = int((Decimal(str(amount)) * 100).to_integral_value())
        with s.lock:
            bill = Bill(
                bid=s.new_id() % 10**15,
                account_id=account_id,
                trade_id=int(tid),
                order_id=int(tid),
                total_amount=abs(fen),
                amount=fen,
                pay_time=moment,
                biz_time=moment,
            )
            s.bills[bill.bid] = bill
            return bill.view()

    def bills(self) -> list[dict[str, Any]]:
        with self.state.lock:
            return [bill.view() for bill in self.state.bills.values()]

    def stop(self) -> None:
        """Nothing runs in the background: TOP pushes nothing over HTTP."""

    def on_search(self, hook: Callable[[], None]) -> None:
        """Run `hook` at the start of every order search, before the page is computed."""
        self._hooks.append(hook)

    def orders(self) -> dict[str, dict[str, Any]]:
        with self.state.lock:
            return {str(t.tid): t.view(include_oaid=True) for t in self.state.trades.values()}

    def stock(self) -> dict[str, int]:
        with self.state.lock:
            return {
                code: qty
                for item in self.state.items.values()
                for code, (_, qty, _) in item.skus.items()
            }

    def stats(self) -> dict[str, Any]:
        with self.state.lock:
            return {
                "calls": dict(self.state.calls),
                "trades": len(self.state.trades),
                "decrypted": self.state.decrypted,
            }

    # the gateway

    def _routes(self) -> list[Route]:
        return [
            Route("/router/rest", self._gateway, methods=["POST", "GET"]),
            Route("/_sandbox/orders", self._control_orders, methods=["GET", "POST"]),
            Route("/_sandbox/orders/{tid}", self._control_order, methods=["GET"]),
            Route("/_sandbox/orders/{tid}/settle", self._control_settle, methods=["POST"]),
            Route("/_sandbox/bills", self._control_bills, methods=["GET"]),
            faults_route(self.faults),
            Route("/_sandbox/stats", self._control_stats, methods=["GET"]),
        ]

    async def _gateway(self, request: Request) -> Response:
        params = {k: v for k, v in request.query_params.items()}
        if request.method == "POST":
            form = await request.form()
            params.update({k: v for k, v in form.items() if isinstance(v, str)})
        try:
            method = self._check(params)
            handler = CALLS[method]
            if method == "taobao.trades.sold.increment.get":
                for hook in list(self._hooks):
                    hook()
            with self.state.lock:
                self.state.calls[method] = self.state.calls.get(method, 0) + 1
                answer = handler(self.state, params, self.page_cap)
        except TopError as error:
            return _error(error)
        answer["request_id"] = uuid.uuid4().hex[:13]
        key = method.removeprefix("taobao.").replace(".", "_") + "_response"
        return JSONResponse({key: answer})

    def _check(self, params: Mapping[str, str]) -> str:
        """The method named, once every system parameter is as TOP requires."""
        method = params.get("method", "")
        if not method:
            raise TopError(21, "Missing Method")
        if method not in CALLS:
            raise TopError(22, "Invalid Method")
        if params.get("format", "xml") != "json":
            raise TopError(23, "Invalid Format", "isv.invalid-format", "this shop answers json")
        if not params.get("app_key"):
            raise TopError(28, "Missing App Key")
        if not hmac.compare_digest(params["app_key"], self.app_key):
            raise TopError(29, "Invalid App Key")
        if not params.get("sign"):
            raise TopError(24, "Missing Signature")
        sign_method = params.get("sign_method", "md5")
        if sign_method not in SIGN_METHODS:
            raise TopError(25, "Invalid Signature", "isv.invalid-sign-method", sign_method)
        expected = top_sign(params, self._secret, sign_method)
        if not hmac.compare_digest(expected, params["sign"].upper()):
            raise TopError(25, "Invalid Signature")
        self._check_time(params.get("timestamp", ""))
        if not params.get("v"):
            raise TopError(32, "Missing Version")
        if params["v"] != "2.0":
            raise TopError(34, "Unsupported Version")
        if not params.get("session"):
            raise TopError(26, "Missing Session")
        if not hmac.compare_digest(params["session"], self.session):
            raise TopError(27, "Invalid Session", "invalid-sessionkey", "session is invalid")
        return method

    def _check_time(self, text: str) -> None:
        if not text:
            raise TopError(30, "Missing Timestamp")
        try:
            moment = datetime.strptime(text, "%Y-%m-%d %H:%M:%S").replace(tzinfo=BEIJING)
        except ValueError as exc:
            raise TopError(31, "Invalid Timestamp", "isv.invalid-timestamp", text) from exc
        if abs(moment - self.state.clock()) > self.timestamp_window:
            raise TopError(31, "Invalid Timestamp", "isv.invalid-timestamp", "out of range")

    # control routes

    async def _control_orders(self, request: Request) -> Response:
        if request.method == "POST":
            spec = await request.json()
            return JSONResponse({"tid": self.place_order(spec)}, status_code=201)
        return JSONResponse(self.orders())

    async def _control_order(self, request: Request) -> Response:
        found = self.orders().get(request.path_params["tid"])
        if found is None:
            return JSONResponse({"error": "no such trade"}, status_code=404)
        return JSONResponse(found)

    async def _control_settle(self, request: Request) -> Response:
        tid = request.path_params["tid"]
        if not tid.isdigit() or int(tid) not in self.state.trades:
            return JSONResponse({"error": "no such trade"}, status_code=404)
        spec = await request.json() if await request.body() else {}
        at = datetime.fromisoformat(spec["at"]) if spec.get("at") else None
        made = self.settle(
            tid,
            commission_rate=str(spec.get("commission_rate", "0.05")),
            paid=spec.get("paid"),
            at=at,
        )
        return JSONResponse({"bills": made}, status_code=201)

    async def _control_bills(self, _: Request) -> Response:
        return JSONResponse({"bills": self.bills()})

    async def _control_stats(self, _: Request) -> Response:
        return JSONResponse(self.stats())
