"""How a request proves it comes from the shop's REST API key.

WooCommerce accepts HTTP Basic (`consumer_key:consumer_secret`) only over HTTPS; a server
that drops the Authorization header takes the pair as `consumer_key` and `consumer_secret`
query parameters instead. Over plain HTTP it wants OAuth 1.0a "one-legged": every query
parameter plus `oauth_consumer_key`, `oauth_timestamp`, `oauth_nonce` and
`oauth_signature_method`, each percent-encoded (RFC 3986), sorted by key, joined
`k=v&…`; the base string `METHOD&enc(url)&enc(params)` signed with HMAC-SHA256 keyed
`consumer_secret&`, base64 (woocommerce `includes/class-wc-rest-authentication.php`).
The official clients choose the same way by the store URL's scheme.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from collections.abc import Callable, Mapping
from urllib.parse import quote

import httpx

__all__ = ["AUTH_MODES", "Credentials", "oauth_params", "signature_base"]


def _enc(text: str) -> str:
    """PHP's rawurlencode: everything but A-Z a-z 0-9 - _ . ~ percent-encoded."""
    return quote(text, safe="")


def signature_base(method: str, url: str, params: Mapping[str, str]) -> str:
    """The OAuth 1.0a base string WooCommerce signs, without `oauth_signature`."""
    pairs = sorted((_enc(k), _enc(v)) for k, v in params.items() if k != "oauth_signature")
    joined = "&".join(f"{k}={v}" for k, v in pairs)
    return f"{method.upper()}&{_enc(url)}&{_enc(joined)}"


def oauth_params(
    method: str,
    url: str,
    params: Mapping[str, str],
    *,
    key: str,
    secret: str,
    clock: Callable[[], float] = time.time,
) -> dict[str, str]:
    """`params` with the OAuth parameters and signature added, ready for the query."""
    signed = dict(params)
    signed.update(
        oauth_consumer_key=key,
        oauth_timestamp=str(int(clock())),
        oauth_nonce=secrets.token_hex(16),
        oauth_signature_method="HMAC-SHA256",
    )
    base = signature_base(method, url, signed)
    digest = hmac.new(f"{secret}&".encode(), base.encode(), hashlib.sha256).digest()
    signed["oauth_signature"] = base64.b64encode(digest).decode()
    return signed


AUTH_MODES = ("auto", "basic", "query", "oauth1")
"""`auto` picks by the store URL's scheme, as the official clients do: Basic over HTTPS,
OAuth 1.0a over HTTP. `query` is for servers that drop the Authorization header."""


class Credentials:
    """A REST API key, applied to each request the way the store requires."""

    def __init__(self, key: str, secret: str, *, mode: str = "auto") -> None:
        if mode not in AUTH_MODES:
            raise ValueError(f"WooCommerce setting 'auth' must be one of {', '.join(AUTH_MODES)}.")
        self.key = key
        self._secret = secret
        self.mode = mode

    def __repr__(self) -> str:
        return f"Credentials(key={self.key[:6]!r}…, mode={self.mode!r})"

    def apply(
        self, method: str, url: str, params: Mapping[str, str]
    ) -> tuple[dict[str, str], httpx.BasicAuth | None]:
        """(query parameters, Basic auth or None) for one request to `url`."""
        mode = self.mode
        if mode == "auto":
            mode = "basic" if url.startswith("https://") else "oauth1"
        if mode == "oauth1":
            return oauth_params(method, url, params, key=self.key, secret=self._secret), None
        if mode == "query":
            return {**params, "consumer_key": self.key, "consumer_secret": self._secret}, None
        return dict(params), httpx.BasicAuth(self.key, self._secret)
