"""Who may call the emulated 账套: a logged-in session, or a request signed with the app.

Two ways in, as K/3 Cloud has them (platform-apis.md §9.1, peers-and-apis.md §5.1):

* `AuthService.ValidateUser` (name and password) or `AuthService.LoginByAppSecret`
  (app id and app secret) answers with the cookies `kdservice-sessionid` and
  `ASP.NET_SessionId`; later calls carry them (or the SDK's `kdservice-sessionid`
  header). A session left idle longer than `session_idle` seconds is gone: a business
  call then answers `MsgCode: 1` ("会话信息已丢失") and the client logs in again.
* Kingdee's own SDKs sign every request instead (no login): `X-Api-Signature` is
  base64(hex(HMAC-SHA256(client secret, "POST\\n" + url-encoded path + "\\n\\nx-api-nonce:"
  + nonce + "\\nx-api-timestamp:" + ts + "\\n"))), `X-Kd-Signature` is
  base64(hex(HMAC-SHA256(app secret, app id + app data))) and `X-Kd-Appdata` is
  base64("acctId,userName,lcid,orgNum"). The app id is `<clientId>_<encoded client
  secret>`; the SDK decodes the second half by XOR with its built-in key, so the
  emulator issues app ids the SDK can decode.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import quote

__all__ = ["AppIdentity", "Sessions", "sign_hex64"]

_SDK_KEY = b"0054f397c6234378b09ca7d3e5debce7"
"""The key Kingdee's SDK XORs the app id's second half with (its default, ROT13 undone)."""


def sign_hex64(key: str, message: str) -> str:
    """base64 of the hex HMAC-SHA256: how both of the SDK's signatures are written."""
    digest = hmac.new(key.encode(), message.encode(), hashlib.sha256).hexdigest()
    return base64.b64encode(digest.encode()).decode()


@dataclass(frozen=True)
class AppIdentity:
    """A third-party app registered on the 账套: its id, secrets and the user it acts as."""

    client_id: str
    client_secret: str
    app_secret: str

    @classmethod
    def new(cls, client_id: str, app_secret: str) -> AppIdentity:
        return cls(client_id, base64.b64encode(secrets.token_bytes(24)).decode(), app_secret)

    @property
    def app_id(self) -> str:
        plain = base64.b64decode(self.client_secret)
        encoded = bytes(b ^ k for b, k in zip(plain, _SDK_KEY, strict=False))
        return f"{self.client_id}_{base64.b64encode(encoded).decode()}"

    def check_signed(
        self, headers: Mapping[str, str], path: str, *, acct_id: str, users: set[str], window: float
    ) -> str | None:
        """Why a signed request is refused, or None when it is good."""
        if headers.get("x-api-clientid", "") != self.client_id:
            return "X-Api-ClientID 不正确"
        if headers.get("x-kd-appkey", "") != self.app_id:
            return "X-Kd-Appkey 不正确"
        stamp, nonce = headers.get("x-api-timestamp", ""), headers.get("x-api-nonce", "")
        try:
            seconds = float(stamp)
        except ValueError:
            return "x-api-timestamp 不正确"
        if seconds > 1e12:
            seconds /= 1000
        if abs(time.time() - seconds) > window:
            return "请求已过期：x-api-timestamp 与服务器时间相差太大"
        wire_path = quote(path, encoding="utf-8").replace("/", "%2F")
        message = f"POST\n{wire_path}\n\nx-api-nonce:{nonce}\nx-api-timestamp:{stamp}\n"
        if not hmac.compare_digest(
            headers.get("x-api-signature", ""), sign_hex64(self.client_secret, message)
        ):
            return "签名验证失败：X-Api-Signature 不正确"
        try:
            data = base64.b64decode(headers.get("x-kd-appdata", ""), validate=True).decode()
        except ValueError:
            return "X-Kd-Appdata 不正确"
        parts = data.split(",")
        if len(parts) < 3 or parts[0] != acct_id or parts[1] not in users:
            return "X-Kd-Appdata 中的账套或用户不存在"
        expected = sign_hex64(self.app_secret, self.app_id + data)
        if not hmac.compare_digest(headers.get("x-kd-signature", ""), expected):
            return "签名验证失败：X-Kd-Signature 不正确"
        return None


@dataclass
class Sessions:
    """Logged-in sessions by id, each with the moment it was last used."""

    idle: float = 1200.0
    _last_used: dict[str, float] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def open(self) -> str:
        sid = secrets.token_hex(16)
        with self._lock:
            self._last_used[sid] = time.monotonic()
        return sid

    def use(self, sid: str) -> bool:
        """Whether the session is alive; using it keeps it alive."""
        now = time.monotonic()
        with self._lock:
            last = self._last_used.get(sid)
            if last is None:
                return False
            if now - last > self.idle:
                del self._last_used[sid]
                return False
            self._last_used[sid] = now
            return True

    def expire_all(self) -> int:
        with self._lock:
            count = len(self._last_used)
            self._last_used.clear()
        return count
