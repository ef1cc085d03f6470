"""Who is calling: the store's REST API key, checked as `class-wc-rest-authentication.php` does.

* HTTP Basic `consumer_key:consumer_secret`, or the pair as `consumer_key` /
  `consumer_secret` query parameters (which win), for a store served over HTTPS. The
  emulator listens on plain HTTP on loopback but stands for a store behind HTTPS, so it
  takes Basic anyway unless `basic_over_http` is switched off.
* OAuth 1.0a one-legged: `oauth_consumer_key`, `oauth_timestamp` (within 15 minutes),
  `oauth_nonce` (not used before), `oauth_signature_method` (HMAC-SHA1 or HMAC-SHA256)
  and `oauth_signature` over `METHOD&enc(url)&enc(sorted k=v&…)` keyed `secret&`, the URL
  being the one requested.

A wrong secret is 401 `woocommerce_rest_authentication_error`; an unknown key, or no key
at all, leaves the caller anonymous, and the route then answers 401
`woocommerce_rest_cannot_view` (or `_cannot_create`, `_cannot_edit`).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import threading
import time
from collections.abc import Mapping
from urllib.parse import quote

from .wire import WooError

__all__ = ["Authenticator"]

WINDOW = 15 * 60
OAUTH_REQUIRED = (
    "oauth_consumer_key",
    "oauth_timestamp",
    "oauth_nonce",
    "oauth_signature",
    "oauth_signature_method",
)


def _failed(message: str) -> WooError:
    return WooError(401, "woocommerce_rest_authentication_error", message)


def _enc(text: str) -> str:
    return quote(text, safe="")


class Authenticator:
    """One REST API key (read/write) and the nonces it has used."""

    def __init__(self, key: str, secret: str, *, basic_over_http: bool = True) -> None:
        self.key = key
        self.secret = secret
        self.basic_over_http = basic_over_http
        self._nonces: dict[str, float] = {}
        self._lock = threading.Lock()

    def check(
        self,
        method: str,
        url: str,
        query: Mapping[str, str],
        authorization: str | None,
        *,
        https: bool,
    ) -> bool:
        """True for the store's key; False for no key or an unknown one (anonymous);
        WooError 401 for a key with a wrong secret or a bad OAuth signature."""
        if https or self.basic_over_http:
            pair = self._basic_pair(query, authorization)
            if pair is not None:
                key, secret = pair
                if not hmac.compare_digest(key.encode(), self.key.encode()):
                    return self._oauth(method, url, query)
                if not hmac.compare_digest(secret.encode(), self.secret.encode()):
                    raise _failed("Consumer secret is invalid.")
                return True
        return self._oauth(method, url, query)

    @staticmethod
    def _basic_pair(query: Mapping[str, str], authorization: str | None) -> tuple[str, str] | None:
        if query.get("consumer_key") and query.get("consumer_secret"):
            return query["consumer_key"], query["consumer_secret"]
        if authorization and authorization[:6].lower() == "basic ":
            try:
                decoded = base64.b64decode(authorization[6:].strip(), validate=True).decode()
            except (ValueError, UnicodeDecodeError):
                return None
            key, sep, secret = decoded.partition(":")
            if sep and key and secret:
                return key, secret
        return None

    def _oauth(self, method: str, url: str, query: Mapping[str, str]) -> bool:
        present = [name for name in OAUTH_REQUIRED if query.get(name)]
        if not present:
            return False
        missing = [name for name in OAUTH_REQUIRED if name not in present]
        if missing:
            plural = "s" if len(missing) > 1 else ""
            raise WooError(
                401,
                "woocommerce_rest_authentication_missing_parameter",
                f"Missing OAuth parameter{plural} {', '.join(missing)}",
            )
        if not hmac.compare_digest(query["oauth_consumer_key"].encode(), self.key.encode()):
            raise _failed("Consumer key is invalid.")
        algorithm = query["oauth_signature_method"]
        if algorithm not in ("HMAC-SHA1", "HMAC-SHA256"):
            raise _failed("Invalid signature - signature method is invalid.")
        pairs = sorted((_enc(k), _enc(v)) for k, v in query.items() if k != "oauth_signature")
        base = f"{method.upper()}&{_enc(url)}&{_enc('&'.join(f'{k}={v}' for k, v in pairs))}"
        digest = hashlib.sha1 if algorithm == "HMAC-SHA1" else hashlib.sha256
        expected = base64.b64encode(
            hmac.new(f"{self.secret}&".encode(), base.encode(), digest).digest()
        ).decode()
        given = query["oauth_signature"].replace(" ", "+")
        if not hmac.compare_digest(expected.encode(), given.encode()):
            raise _failed("Invalid signature - provided signature does not match.")
        return self._fresh(query["oauth_timestamp"], query["oauth_nonce"])

    def _fresh(self, timestamp: str, nonce: str) -> bool:
        now = time.time()
        try:
            stamp = float(timestamp)
        except ValueError as exc:
            raise _failed("Invalid timestamp.") from exc
        if not now - WINDOW <= stamp <= now + WINDOW:
            raise _failed("Invalid timestamp.")
        with self._lock:
            for old, at in list(self._nonces.items()):
                if at < now - WINDOW:
                    del self._nonces[old]
            if nonce in self._nonces:
                raise _failed("Invalid nonce - nonce has already been used.")
            self._nonces[nonce] = stamp
        return True
