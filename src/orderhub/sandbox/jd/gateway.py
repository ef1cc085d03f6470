"""`/routerjson`: JOS's one gateway, with its system parameters, signature and envelopes.

A call carries `method, app_key, access_token, timestamp, format=json, v=2.0,
360buy_param_json, sign` in the query string or a form body (both are read; the Go SDK
sends GET, the Java SDK a form POST). The gateway checks them in this order and refuses
in `error_response`, HTTP 200, before any handler runs: app_key, method, sign,
timestamp, v/format, access_token, `360buy_param_json`.
"""

from __future__ import annotations

import hmac
import json
import threading
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timezone
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from .methods import Handler
from .wire import JdFailure, envelope_key, error_body, jd_sign, json_response, parse_time

__all__ = ["Credentials", "Gateway"]

REQUIRED = ("method", "app_key", "timestamp", "v")


@dataclass
class Credentials:
    """What a caller must present; `access_token` can be replaced (expired) at run time."""

    app_key: str
    app_secret: str
    access_token: str
    revoked: set[str] = field(default_factory=set)


class Gateway:
    """Checks a call, runs its handler, and wraps the reply."""

    def __init__(
        self,
        credentials: Credentials,
        handlers: Mapping[str, Handler],
        *,
        zone: timezone,
        timestamp_window: float,
        codes: Mapping[str, str],
    ) -> None:
        self.credentials = credentials
        self.handlers = dict(handlers)
        self.zone = zone
        self.timestamp_window = timestamp_window
        self.codes = codes
        self.calls: Counter[str] = Counter()
        self.refused: Counter[str] = Counter()
        self._lock = threading.Lock()

    async def handle(self, request: Request) -> Response:
        params: dict[str, str] = dict(request.query_params)
        if request.method == "POST":
            form = await request.form()
            params.update({key: value for key, value in form.items() if isinstance(value, str)})
        method = params.get("method", "")
        with self._lock:
            self.calls[method or "(none)"] += 1
        try:
            business = self._check(params)
            handler = self.handlers[method]
            body = await handler(business)
        except JdFailure as failure:
            with self._lock:
                self.refused[failure.role] += 1
            return json_response(self.failure_body(failure))
        return json_response({envelope_key(method): {"code": "0", **body}})

    def failure_body(self, failure: JdFailure) -> dict[str, Any]:
        return error_body(self.codes[failure.role], failure.zh_desc, failure.en_desc)

    def _check(self, params: Mapping[str, str]) -> dict[str, Any]:
        creds = self.credentials
        for name in REQUIRED:
            if not params.get(name):
                raise JdFailure(
                    "missing_param", f"缺少系统参数 {name}", f"missing parameter {name}"
                )
        if params["app_key"] != creds.app_key:
            raise JdFailure("app_key", f"key={params['app_key']} 信息无效", "Invalid app_key")
        if params["method"] not in self.handlers:
            raise JdFailure("method", "不存在的方法名", "Invalid Method")
        expected = jd_sign(params, creds.app_secret)
        if not hmac.compare_digest(params.get("sign", "").upper().encode(), expected.encode()):
            raise JdFailure("signature", "签名无效", "Invalid signature")
        self._check_time(params["timestamp"])
        if params["v"] != "2.0" or params.get("format", "json") != "json":
            raise JdFailure("version", "不支持的版本或格式", "Unsupported v or format")
        token = params.get("access_token", "")
        if not token or token != creds.access_token or token in creds.revoked:
            raise JdFailure("access_token", "无效access_token", "Invalid access_token")
        raw = params.get("360buy_param_json") or "{}"
        try:
            business = json.loads(raw)
        except ValueError as exc:
            raise JdFailure("param", "360buy_param_json 不是合法的JSON", "invalid JSON") from exc
        if not isinstance(business, dict):
            raise JdFailure("param", "360buy_param_json 必须是JSON对象", "not a JSON object")
        return business

    def _check_time(self, text: str) -> None:
        try:
            sent = parse_time(text, self.zone)
        except ValueError as exc:
            raise JdFailure(
                "timestamp", "时间戳格式错误", "timestamp must be yyyy-MM-dd HH:mm:ss"
            ) from exc
        if self.timestamp_window <= 0:
            return
        skew = abs((sent - datetime.now(UTC)).total_seconds())
        if skew > self.timestamp_window:
            raise JdFailure(
                "timestamp", "时间戳与服务器时间相差过大", "timestamp is outside the allowed window"
            )

    def stats(self) -> dict[str, Any]:
        with self._lock:
            return {"calls": dict(self.calls), "refused": dict(self.refused)}
