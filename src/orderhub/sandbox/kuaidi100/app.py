"""A 快递100 account: parcel subscriptions, signed callbacks, real-time queries.

Source: peers-and-apis.md §5.6 (kuaidi100-api php and java demos).

Wire:
- `POST /poll` (form `schema=json`, `param={company, number, key, parameters:{callbackurl,
  salt, resultv2, phone}}`) subscribes. Answers `{result, returnCode, message}`:
  `200` 提交成功, `501` a duplicate subscription, `600` a key that is not an
  account's, `700` a carrier code 快递100 does not know, `400` data missing. The codes
  other than 200 and 501 are as demos report them (UNCONFIRMED).
- Callbacks: a form POST to `callbackurl` (its query string kept) with `param` (JSON:
  `status` polling|shutdown|abort, `billstatus`, `message`, `autoCheck`, `comOld`,
  `comNew`, `lastResult{message, state, status, condition, ischeck, com, nu, data[]}`,
  scans newest first with `context`, `time`, `ftime`, `areaName`, `status`) and
  `sign = MD5(param + salt)` upper-case hex. Only the body
  `{"result":true,"returnCode":"200","message":"成功"}` is taken as received; anything
  else is sent again, three more times, `retry_interval` apart (35 minutes at 快递100).
- `POST /poll/query.do` (form `customer`, `param={com, num, phone, resultv2}`,
  `sign = MD5(param + key + customer)` upper-case) answers the parcel at once.
- States: 0 在途, 1 揽收, 2 疑难, 3 签收, 4 退签, 5 派件, 6 退回, 7 转投, 8 清关, 14 拒签.

Control (never faulted): `/_sandbox/parcels` (GET), `/_sandbox/parcels/{number}/scan`
(POST `{state, context, area}`), `/_sandbox/parcels/{number}/abort` (POST `{message}`),
`/_sandbox/callbacks` (GET every attempt and its answer), `/_sandbox/faults`.
"""

from __future__ import annotations

import hashlib
import json
import random
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from orderhub.sandbox.faults import FaultMiddleware, Faults, faults_route

__all__ = ["ACK", "STATES", "Kuaidi100Emulator"]

BEIJING = timezone(timedelta(hours=8))
ACK = {"result": True, "returnCode": "200", "message": "成功"}
STATES = {
    "0": "在途",
    "1": "揽收",
    "2": "疑难",
    "3": "签收",
    "4": "退签",
    "5": "派件",
    "6": "退回",
    "7": "转投",
    "8": "清关",
    "14": "拒签",
}
COMPANIES = frozenset(
    {
        "shunfeng",
        "yuantong",
        "zhongtong",
        "shentong",
        "yunda",
        "ems",
        "jd",
        "youzhengguonei",
        "jtexpress",
        "debangkuaidi",
        "dhl",
        "ups",
        "fedex",
        "usps",
    }
)


def _md5(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest().upper()


def _time(moment: datetime) -> str:
    return moment.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M:%S")


@dataclass
class Parcel:
    company: str
    number: str
    callback_url: str
    salt: str
    phone: str = ""
    status: str = "polling"
    message: str = ""
    scans: list[dict[str, str]] = field(default_factory=list)  # newest first

    @property
    def state(self) -> str:
        return self.scans[0]["state"] if self.scans else "0"

    def result(self) -> dict[str, Any]:
        return {
            "message": "ok",
            "state": self.state,
            "status": "200",
            "condition": "F00",
            "ischeck": "1" if self.state == "3" else "0",
            "com": self.company,
            "nu": self.number,
            "data": [
                {k: v for k, v in scan.items() if k != "state"} | {"status": STATES[scan["state"]]}
                for scan in self.scans
            ],
        }


def _answer(code: str, message: str, *, ok: bool = False) -> JSONResponse:
    return JSONResponse({"result": ok, "returnCode": code, "message": message})


class Kuaidi100Emulator:
    """One 快递100 account: its key and customer id, the parcels it follows."""

    def __init__(
        self,
        key: str = "sandbox-kuaidi100-key",
        customer: str = "SANDBOXCUSTOMER01",
        *,
        retry_interval: float = 35 * 60,
        retries: int = 3,
        seed: int | None = None,
        faults: Faults | None = None,
    ) -> None:
        self.key, self.customer = key, customer
        self.retry_interval, self.retries = retry_interval, retries
        self.parcels: dict[str, Parcel] = {}
        self.attempts: list[dict[str, Any]] = []
        self._lock = threading.RLock()
        self._stopped = threading.Event()
        self._http = httpx.Client(timeout=5.0)
        self.faults = faults if faults is not None else Faults(seed=seed, _rng=random.Random(seed))
        self.app = FaultMiddleware(
            Starlette(routes=self._routes()),
            self.faults,
            malformed_body=b'{"result":true,"returnCode":"2',
            server_error=lambda status: _answer("500", "服务器错误"),
        )

    @property
    def credentials(self) -> dict[str, str]:
        return {"key": self.key, "customer": self.customer}

    # driven from Python (tests, the demo) and from the control routes

    def scan(
        self, number: str, state: str, context: str, *, area: str = "", at: datetime | None = None
    ) -> None:
        """The carrier scanned the parcel: the subscriber is told at once, in the background.
        Scans are written to the second, each after the one before."""
        if state not in STATES:
            raise ValueError(f"state {state!r} is not one of {sorted(STATES)}")
        with self._lock:
            parcel = self.parcels[number]
            moment = (at or datetime.now(UTC)).astimezone(BEIJING).replace(microsecond=0)
            if parcel.scans:
                last = datetime.strptime(parcel.scans[0]["time"], "%Y-%m-%d %H:%M:%S")
                moment = max(moment, last.replace(tzinfo=BEIJING) + timedelta(seconds=1))
            now = _time(moment)
            parcel.scans.insert(
                0, {"context": context, "time": now, "ftime": now, "areaName": area, "state": state}
            )
            if state == "3":
                parcel.status = "shutdown"
            payload = self._payload(parcel)
        self._push(parcel, payload)

    def abort(self, number: str, message: str = "3天查询无记录") -> None:
        """快递100 gave up following the parcel (nothing found, or nothing new for long)."""
        with self._lock:
            parcel = self.parcels[number]
            parcel.status, parcel.message = "abort", message
            payload = self._payload(parcel)
        self._push(parcel, payload)

    def callbacks(self) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(a) for a in self.attempts]

    def stop(self) -> None:
        self._stopped.set()
        self._http.close()

    def _payload(self, parcel: Parcel) -> str:
        body = {
            "status": parcel.status,
            "billstatus": "check" if parcel.status == "shutdown" else "got",
            "message": parcel.message,
            "autoCheck": "0",
            "comOld": "",
            "comNew": "",
            "lastResult": parcel.result(),
        }
        return json.dumps(body, ensure_ascii=False)

    def _push(self, parcel: Parcel, param: str) -> None:
        threading.Thread(
            target=self._deliver, args=(parcel, param), name="kuaidi100-push", daemon=True
        ).start()

    def _deliver(self, parcel: Parcel, param: str) -> None:
        for attempt in range(1 + self.retries):
            if attempt and self._stopped.wait(self.retry_interval):
                return
            with self._lock:  # signed as it is sent, with the subscription's salt then
                form = {"param": param, "sign": _md5(param + parcel.salt)}
            try:
                reply = self._http.post(parcel.callback_url, data=form)
                answer, status = reply.text, reply.status_code
            except httpx.HTTPError as exc:
                answer, status = f"{type(exc).__name__}: {exc}", 0
            except RuntimeError:  # the client was closed: the emulator stopped
                return
            try:
                acknowledged = status == 200 and json.loads(answer) == ACK
            except ValueError:
                acknowledged = False
            with self._lock:
                self.attempts.append(
                    {
                        "number": parcel.number,
                        "state": json.loads(param)["lastResult"]["state"],
                        "attempt": attempt + 1,
                        "status": status,
                        "acknowledged": acknowledged,
                    }
                )
            if acknowledged:
                return

    # the API

    def _routes(self) -> list[Route]:
        return [
            Route("/poll", self._subscribe, methods=["POST"]),
            Route("/poll/query.do", self._query, methods=["POST"]),
            Route("/_sandbox/parcels", self._control_parcels, methods=["GET"]),
            Route("/_sandbox/parcels/{number}/scan", self._control_scan, methods=["POST"]),
            Route("/_sandbox/parcels/{number}/abort", self._control_abort, methods=["POST"]),
            Route("/_sandbox/callbacks", self._control_callbacks, methods=["GET"]),
            faults_route(self.faults),
        ]

    async def _subscribe(self, request: Request) -> Response:
        form = await request.form()
        try:
            param = json.loads(str(form.get("param") or ""))
        except ValueError:
            return _answer("400", "param 不是 JSON")
        if not isinstance(param, dict) or form.get("schema") != "json":
            return _answer("400", "数据不完整")
        if param.get("key") != self.key:
            return _answer("600", "您不是合法的订阅者（即授权Key出错）")
        company, number = str(param.get("company") or ""), str(param.get("number") or "")
        given = param.get("parameters")
        options: dict[str, Any] = given if isinstance(given, dict) else {}
        callback_url = str(options.get("callbackurl") or "")
        if not number or not callback_url:
            return _answer("400", "数据不完整")
        if company not in COMPANIES:
            return _answer("700", f"不支持此快递公司 {company}")
        with self._lock:
            if number in self.parcels and self.parcels[number].status == "polling":
                return _answer("501", "POLL:重复订阅")
            self.parcels[number] = Parcel(
                company=company,
                number=number,
                callback_url=callback_url,
                salt=str(options.get("salt") or ""),
                phone=str(options.get("phone") or ""),
            )
        return _answer("200", "提交成功", ok=True)

    async def _query(self, request: Request) -> Response:
        form = await request.form()
        param_text = str(form.get("param") or "")
        if form.get("customer") != self.customer:
            return _answer("400", "customer 不正确")
        if str(form.get("sign") or "").upper() != _md5(param_text + self.key + self.customer):
            return _answer("400", "签名错误")
        try:
            param = json.loads(param_text)
        except ValueError:
            return _answer("400", "param 不是 JSON")
        with self._lock:
            parcel = self.parcels.get(str(param.get("num") or ""))
            if parcel is None or not parcel.scans:
                return _answer("500", "查询无结果，请隔段时间再查")
            return JSONResponse(parcel.result())

    async def _control_parcels(self, _: Request) -> Response:
        with self._lock:
            return JSONResponse(
                {
                    n: {
                        "company": p.company,
                        "status": p.status,
                        "state": p.state,
                        "phone": p.phone,
                    }
                    for n, p in self.parcels.items()
                }
            )

    async def _control_scan(self, request: Request) -> Response:
        spec = await request.json()
        number = request.path_params["number"]
        if number not in self.parcels:
            return JSONResponse({"error": "not subscribed"}, status_code=404)
        try:
            self.scan(number, str(spec["state"]), str(spec["context"]), area=spec.get("area", ""))
        except (KeyError, ValueError) as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        return JSONResponse({"ok": True}, status_code=201)

    async def _control_abort(self, request: Request) -> Response:
        number = request.path_params["number"]
        if number not in self.parcels:
            return JSONResponse({"error": "not subscribed"}, status_code=404)
        spec = await request.json() if await request.body() else {}
        self.abort(number, str(spec.get("message") or "3天查询无记录"))
        return JSONResponse({"ok": True}, status_code=201)

    async def _control_callbacks(self, _: Request) -> Response:
        return JSONResponse(self.callbacks())
