"""A Kingdee K/3 Cloud (金蝶云星空) 账套 behind its WebAPI, over real HTTP.

Sources: platform-apis.md §9, peers-and-apis.md §5.1, and Kingdee's Python SDK
(`kingdee.cdp.webapi.sdk`, which works against this emulator unchanged).

Wire: `POST /k3cloud/Kingdee.BOS.WebApi.ServicesStub.<Service>.<Method>.common.kdsvc`
with a JSON body, either the SDK's named form (`{"formid": …, "data": {…} | "<json>"}`,
`{"data": {…}}` for ExecuteBillQuery, `{"formid", "opNumber", "data"}` for
ExcuteOperation) or the older `{"parameters": [arg, …]}`. Logins are
`AuthService.ValidateUser` and `AuthService.LoginByAppSecret` (see `auth.py`); a tenant
may refuse password logins (`password_login=False`), as public-cloud tenants opened after
2022-11-29 do. Business answers are HTTP 200 whatever happened (`operations.py`).

What is UNCONFIRMED is a setting or said so here: the answer to a bad signature (a
ResponseStatus error, MsgCode 0), the session-lost wording ("会话信息已丢失，请重新登录").

Control (never faulted): `/_sandbox/bills/{form}`, `/_sandbox/base`,
`/_sandbox/sessions/expire`, `/_sandbox/hold`, `/_sandbox/faults`, `/_sandbox/stats`.
"""

from __future__ import annotations

import asyncio
import json
import random
from collections import Counter
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from orderhub.sandbox.faults import FaultMiddleware, Faults

from .auth import AppIdentity, Sessions
from .control import control_routes
from .forms import CUSTOMER, MATERIAL, SUPPLIER, form_named
from .operations import OPERATIONS, failure
from .state import ErpError, Ledger, Refused

__all__ = ["K3CloudEmulator"]

_SUFFIX = ".common.kdsvc"
_SESSION_LOST = "会话信息已丢失，请重新登录"


def _json(body: Any) -> Response:
    return Response(
        json.dumps(body, ensure_ascii=False, default=str),
        media_type="application/json; charset=utf-8",
    )


class K3CloudEmulator:
    """One 账套 with one API user and one registered app."""

    def __init__(
        self,
        acct_id: str = "6540a1b2c3d4e5",
        user_name: str = "orderhub",
        password: str = "Kd@2026sandbox",
        client_id: str = "298765",
        app_secret: str = "a1b2c3d4e5f60718293a4b5c6d7e8f90",
        *,
        lcid: int = 2052,
        session_idle: float = 1200.0,
        password_login: bool = True,
        timestamp_window: float = 600.0,
        seed: int | None = None,
        faults: Faults | None = None,
    ) -> None:
        self.acct_id, self.user_name, self.password, self.lcid = acct_id, user_name, password, lcid
        self.identity = AppIdentity.new(client_id, app_secret)
        self.password_login = password_login
        self.timestamp_window = timestamp_window
        self.sessions = Sessions(idle=session_idle)
        self.ledger = Ledger()
        self.calls: Counter[str] = Counter()
        self.held: set[str] = set()
        self.waiting: Counter[str] = Counter()
        self.faults = faults if faults is not None else Faults(seed=seed, _rng=random.Random(seed))
        self.app = FaultMiddleware(
            Starlette(routes=self._routes()),
            self.faults,
            rate_limited=lambda _: _json(failure([ErpError("访问过于频繁，请稍后再试")])),
            server_error=lambda status: Response("服务器繁忙，请稍后再试", status_code=status),
            malformed_body=b'{"Result":{"ResponseStatus":{"IsSucc',
        )

    @property
    def credentials(self) -> dict[str, Any]:
        return {
            "acct_id": self.acct_id,
            "user_name": self.user_name,
            "password": self.password,
            "app_id": self.identity.app_id,
            "app_secret": self.identity.app_secret,
            "lcid": self.lcid,
        }

    def seed_base(self, form_id: str, code: str, name: str = "") -> None:
        """Audited base data (物料, 客户, 供应商), as if keyed in long ago."""
        with self.ledger.lock:
            if self.ledger.base(form_id, code) is None:
                self.ledger.seed_base(form_id, code, name or code)

    def seed(self, *, materials: list[str], customers: list[str], suppliers: list[str]) -> None:
        for form_id, codes in ((MATERIAL, materials), (CUSTOMER, customers), (SUPPLIER, suppliers)):
            for code in codes:
                self.seed_base(form_id, code)

    def bills(self, form_id: str) -> list[dict[str, Any]]:
        """Every document of a form, for tests and the demo."""
        form = form_named(form_id)
        if form is None:
            raise KeyError(form_id)
        with self.ledger.lock:
            return [
                {
                    "Id": b.id,
                    "Number": b.number,
                    "DocumentStatus": b.status,
                    "CancelStatus": "B" if b.cancelled else "A",
                    "Model": json.loads(json.dumps(b.model, default=str)),
                }
                for b in self.ledger.all(form)
            ]

    def stats(self) -> dict[str, Any]:
        """Calls by operation, documents by form, and calls waiting on a hold."""
        with self.ledger.lock:
            documents = {form: len(bills) for form, bills in self.ledger.bills.items()}
        return {"calls": dict(self.calls), "documents": documents, "waiting": dict(self.waiting)}

    # -- HTTP ----------------------------------------------------------------------

    def _routes(self) -> list[Any]:
        return [
            *control_routes(self),
            Route("/{path:path}", self._endpoint, methods=["POST"]),
        ]

    async def _endpoint(self, request: Request) -> Response:
        path = request.url.path
        tail = path.rsplit("/", 1)[-1]
        if not path.lower().startswith("/k3cloud/") or not tail.endswith(_SUFFIX):
            return Response("404 - 找不到文件或目录。", status_code=404)
        service = tail[: -len(_SUFFIX)]
        try:
            body = json.loads(await request.body() or b"{}")
        except ValueError:
            return _json(failure([ErpError("请求的内容不是合法的 JSON")]))
        if not isinstance(body, dict):
            return _json(failure([ErpError("请求的内容必须是 JSON 对象")]))
        self.calls[service.rsplit(".", 1)[-1]] += 1
        if service.endswith("AuthService.ValidateUser") or service.endswith(
            "AuthService.LoginByAppSecret"
        ):
            return self._login(service.rsplit(".", 1)[-1], body)
        prefix = "Kingdee.BOS.WebApi.ServicesStub.DynamicFormService."
        if not service.startswith(prefix) or service[len(prefix) :].lower() not in OPERATIONS:
            return Response(f"服务 {service} 不存在", status_code=404)
        method = service[len(prefix) :].lower()
        refused = self._authorised(request)
        if refused is not None:
            return _json([[refused]] if method == "executebillquery" else refused)
        await self._wait_if_held(service[len(prefix) :])
        args = _arguments(method, body)
        with self.ledger.lock:
            try:
                answer = OPERATIONS[method](self.ledger, args)
            except Refused as exc:
                answer = failure(exc.errors, msg_code=exc.msg_code)
        return _json(answer)

    async def _wait_if_held(self, operation: str) -> None:
        """A call to a held operation waits until released (to stop a client mid-way)."""
        if operation not in self.held:
            return
        self.waiting[operation] += 1
        try:
            while operation in self.held:
                await asyncio.sleep(0.02)
        finally:
            self.waiting[operation] -= 1

    def _authorised(self, request: Request) -> dict[str, Any] | None:
        """None when the call may go on; otherwise the answer that refuses it."""
        headers = request.headers
        if "x-kd-signature" in headers or "x-api-signature" in headers:
            why = self.identity.check_signed(
                headers,
                request.url.path,
                acct_id=self.acct_id,
                users={self.user_name},
                window=self.timestamp_window,
            )
            return None if why is None else failure([ErpError(why)])
        sid = request.cookies.get("kdservice-sessionid") or headers.get("kdservice-sessionid")
        if sid and self.sessions.use(sid):
            return None
        return failure([ErpError(_SESSION_LOST)], msg_code=1)

    def _login(self, method: str, body: dict[str, Any]) -> Response:
        named = {k.lower(): v for k, v in body.items()}
        params = body.get("parameters")
        if isinstance(params, list):
            keys = ["acctid", "username"]
            keys += ["password"] if method == "ValidateUser" else ["appid", "appsecret"]
            named = dict(zip([*keys, "lcid"], params, strict=False))
        acct, user = str(named.get("acctid", "")), str(named.get("username", ""))
        if method == "ValidateUser":
            good = str(named.get("password", "")) == self.password
            if good and not self.password_login:
                return _json(
                    _login_failed(-5, "当前账套不允许用户名密码登录，请使用第三方系统登录授权")
                )
        else:
            good = str(named.get("appid", "")) == self.identity.app_id and (
                str(named.get("appsecret", "")) == self.identity.app_secret
            )
        if acct != self.acct_id:
            return _json(_login_failed(-1, "数据中心不存在"))
        if user != self.user_name or not good:
            return _json(_login_failed(-1, "用户名或密码错误！"))
        sid = self.sessions.open()
        response = _json(
            {
                "Message": None,
                "MessageCode": "CheckPasswordPolicy",
                "LoginResultType": 1,
                "Context": {
                    "UserLocale": "zh-CN",
                    "DBid": self.acct_id,
                    "SessionId": sid,
                    "UserId": 100008,
                    "UserName": self.user_name,
                    "UserToken": sid,
                    "DataCenterName": "orderhub 模拟账套",
                    "DisplayVersion": "8.2.0",
                },
                "KDSVCSessionId": sid,
                "IsSuccessByAPI": True,
            }
        )
        response.set_cookie("kdservice-sessionid", sid, httponly=True)
        response.set_cookie("ASP.NET_SessionId", sid[:24], httponly=True)
        return response


def _login_failed(kind: int, message: str) -> dict[str, Any]:
    return {"Message": message, "LoginResultType": kind, "Context": None, "IsSuccessByAPI": False}


def _arguments(method: str, body: dict[str, Any]) -> list[Any]:
    """The call's arguments, whichever of the two body forms it came in."""
    params = body.get("parameters")
    if isinstance(params, list):
        return params
    named = {k.lower(): v for k, v in body.items()}
    if method == "executebillquery":
        return [named.get("data", {})]
    if method == "excuteoperation":
        return [named.get("formid", ""), named.get("opnumber", ""), named.get("data", {})]
    return [named.get("formid", ""), named.get("data", {})]
