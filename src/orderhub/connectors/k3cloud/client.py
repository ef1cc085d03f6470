"""The only module that talks HTTP to K/3 Cloud: logs in (or signs), posts, reads the status.

Every call is a POST of JSON to `<base>/Kingdee.BOS.WebApi.ServicesStub.<Service>.<Method>
.common.kdsvc`. The ERP answers HTTP 200 whatever happened; the outcome is in
`Result.ResponseStatus` and is mapped onto the connector error tree:

* `MsgCode: 1` (the session lapsed) → log in again and send the call once more;
* `IsSuccess: false` → `Rejected`, each error as "FieldName: Message";
* HTTP 5xx, network errors, timeouts and unreadable bodies → `Unavailable`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Mapping
from decimal import Decimal
from typing import Any
from urllib.parse import quote, urlsplit

from ..base import Rejected, Unavailable
from ..kit.http import Transport
from .consts import MSG_SESSION_LOST, SERVICE

__all__ = ["K3CloudClient", "sdk_client_secret"]

_SDK_KEY = b"0054f397c6234378b09ca7d3e5debce7"


def sdk_client_secret(app_id: str) -> tuple[str, str]:
    """(client id, client secret) from an app id `<clientId>_<encoded secret>`: the second
    half is base64 XORed with the key Kingdee's SDKs carry."""
    client_id, _, encoded = app_id.partition("_")
    try:
        raw = base64.b64decode(encoded, validate=True)
    except ValueError as exc:
        raise ValueError("k3cloud app_id is not <clientId>_<secret> as Kingdee issues it") from exc
    plain = bytes(b ^ k for b, k in zip(raw, _SDK_KEY, strict=False))
    return client_id, base64.b64encode(plain).decode()


def _hex64(key: str, message: str) -> str:
    digest = hmac.new(key.encode(), message.encode(), hashlib.sha256).hexdigest()
    return base64.b64encode(digest.encode()).decode()


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    raise TypeError(f"{type(value).__name__} cannot be sent to K/3 Cloud")


class K3CloudClient:
    """Calls to one 账套 as one user."""

    def __init__(
        self,
        *,
        base_url: str,
        acct_id: str,
        user_name: str,
        auth: str = "app_secret",
        password: str = "",
        app_id: str = "",
        app_secret: str = "",
        lcid: int = 2052,
        org_num: int = 0,
        transport: Transport,
    ) -> None:
        self.base_url = base_url.rstrip("/") + "/"
        self.acct_id, self.user_name, self.auth = acct_id, user_name, auth
        self.password, self.app_id, self.app_secret = password, app_id, app_secret
        self.lcid, self.org_num = lcid, org_num
        self.transport = transport
        self.logins = 0
        self._logged_in = False

    # -- sessions ------------------------------------------------------------------

    def login(self) -> None:
        """Open a session; its cookies stay in the HTTP client for the calls after."""
        if self.auth == "password":
            method, params = "ValidateUser", [self.acct_id, self.user_name, self.password]
        else:
            method, params = (
                "LoginByAppSecret",
                [
                    self.acct_id,
                    self.user_name,
                    self.app_id,
                    self.app_secret,
                ],
            )
        answer = self._post("AuthService", method, {"parameters": [*params, self.lcid]})
        self.logins += 1
        if not isinstance(answer, dict) or answer.get("LoginResultType") != 1:
            message = answer.get("Message") if isinstance(answer, dict) else None
            raise Rejected(f"k3cloud login as {self.user_name} refused: {message or answer}")
        self._logged_in = True

    def _signed_headers(self, url: str) -> dict[str, str]:
        client_id, client_secret = sdk_client_secret(self.app_id)
        stamp = str(int(time.time()))
        nonce = secrets.token_hex(8)
        path = quote(urlsplit(url).path, encoding="utf-8").replace("/", "%2F")
        message = f"POST\n{path}\n\nx-api-nonce:{nonce}\nx-api-timestamp:{stamp}\n"
        app_data = f"{self.acct_id},{self.user_name},{self.lcid},{self.org_num}"
        return {
            "X-Api-ClientID": client_id,
            "X-Api-Auth-Version": "2.0",
            "x-api-timestamp": stamp,
            "x-api-nonce": nonce,
            "x-api-signheaders": "x-api-timestamp,x-api-nonce",
            "X-Api-Signature": _hex64(client_secret, message),
            "X-Kd-Appkey": self.app_id,
            "X-Kd-Appdata": base64.b64encode(app_data.encode()).decode(),
            "X-Kd-Signature": _hex64(self.app_secret, self.app_id + app_data),
        }

    # -- calls ---------------------------------------------------------------------

    def _post(self, service: str, method: str, body: Mapping[str, Any]) -> Any:
        url = self.base_url + SERVICE.format(service=service, method=method)
        headers = {"Content-Type": "application/json"}
        if self.auth == "signed":
            headers.update(self._signed_headers(url))
        content = json.dumps(body, ensure_ascii=False, default=_plain).encode()

        def attempt() -> Any:
            response = self.transport.send(
                "POST", url, what=method, content=content, headers=headers
            )
            try:
                return response.json()
            except ValueError as exc:
                raise Unavailable(f"k3cloud {method} answered what is not JSON") from exc

        return self.transport.call(attempt, what=method)

    def call(self, method: str, body: Mapping[str, Any]) -> Any:
        """One DynamicFormService call, logged in first and once more if the session lapsed."""
        if self.auth != "signed" and not self._logged_in:
            self.login()
        answer = self._post("DynamicFormService", method, body)
        if _status(answer).get("MsgCode") == MSG_SESSION_LOST and self.auth != "signed":
            self._logged_in = False
            self.login()
            answer = self._post("DynamicFormService", method, body)
        return answer

    def operation(self, method: str, form_id: str, data: Mapping[str, Any]) -> dict[str, Any]:
        """Save, Submit, Audit, UnAudit, …: the `Result` of a call that succeeded."""
        answer = self.call(method, {"formid": form_id, "data": data})
        return _result(answer, f"{method} {form_id}")

    def execute(self, form_id: str, op_number: str, data: Mapping[str, Any]) -> dict[str, Any]:
        """ExcuteOperation (the ERP's spelling): 作废 is op `Cancel`."""
        body = {"formid": form_id, "opNumber": op_number, "data": data}
        return _result(self.call("ExcuteOperation", body), f"{op_number} {form_id}")

    def query(self, spec: Mapping[str, Any]) -> list[list[Any]]:
        """ExecuteBillQuery: rows of values in the order of `FieldKeys`."""
        answer = self.call("ExecuteBillQuery", {"data": spec})
        if not isinstance(answer, list):
            raise Unavailable("k3cloud ExecuteBillQuery answered what is not a list")
        if answer and isinstance(answer[0], list) and answer[0] and isinstance(answer[0][0], dict):
            _result(answer[0][0], f"ExecuteBillQuery {spec.get('FormId')}")
        return [row for row in answer if isinstance(row, list)]


def _status(answer: Any) -> dict[str, Any]:
    if isinstance(answer, list) and answer and isinstance(answer[0], list) and answer[0]:
        answer = answer[0][0]
    if not isinstance(answer, dict):
        return {}
    result = answer.get("Result")
    status = result.get("ResponseStatus") if isinstance(result, dict) else None
    return status if isinstance(status, dict) else {}


def _result(answer: Any, what: str) -> dict[str, Any]:
    if not isinstance(answer, dict) or not isinstance(answer.get("Result"), dict):
        raise Unavailable(f"k3cloud {what} answered an unknown shape")
    status = _status(answer)
    if status and not status.get("IsSuccess", False):
        errors = status.get("Errors") or []
        said = "; ".join(
            f"{e.get('FieldName')}: {e.get('Message')}"
            if e.get("FieldName")
            else str(e.get("Message"))
            for e in errors
            if isinstance(e, dict)
        )
        raise Rejected(f"k3cloud refused {what}: {said or 'no reason given'}")
    result: dict[str, Any] = answer["Result"]
    return result
