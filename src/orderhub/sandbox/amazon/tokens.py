"""Login with Amazon and the Tokens API: who may call, and who may see personal data.

LWA (`POST /auth/o2/token`, a form): `grant_type=refresh_token` with the seller's
refresh token and the app's `client_id`/`client_secret` gives `{"access_token":
"Atza|…", "token_type": "bearer", "expires_in": 3600, "refresh_token": "Atzr|…"}`;
a wrong client is 401 `invalid_client`, a wrong refresh token 400 `invalid_grant`.
The access token goes in `x-amz-access-token`; once it has expired SP-API answers
403 `Unauthorized` "The access token you provided has expired.".

Tokens API (`POST /tokens/2021-03-01/restrictedDataToken`, rate 1/s, burst 10) turns an
access token into a Restricted Data Token (`Atz.sprdt|…`, `expiresIn` 3600) for
`restrictedResources` [{method, path, dataElements}], the only token with which getOrders
and getOrder show `buyerInfo` and the whole `shippingAddress`. A path may name one order
or stand for all (`/orders/v0/orders/{orderId}`). An app without the restricted role
(Direct-to-Consumer Shipping) is refused with 400 `InvalidInput` "Application does not
have access to one or more requested data elements: [...]" (amzn/selling-partner-api-
docs issues #1201, #702).
"""

from __future__ import annotations

import hmac
import re
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from .wire import ApiError, invalid

__all__ = ["DATA_ELEMENTS", "Grant", "Resource", "TokenBook"]

DATA_ELEMENTS = frozenset({"buyerInfo", "shippingAddress", "buyerTaxInformation"})
METHODS = frozenset({"GET", "PUT", "POST", "DELETE", "PATCH"})
EXPIRED = "The access token you provided has expired."
DENIED = "Access to requested resource is denied."
_PLACEHOLDER = re.compile(r"\{[A-Za-z]+\}")


@dataclass(frozen=True)
class Resource:
    """One restricted resource an RDT opens: a method, a path (maybe with `{orderId}`)
    and the personal data elements it shows there."""

    method: str
    path: str
    elements: frozenset[str]

    def covers(self, method: str, path: str) -> bool:
        mine, theirs = self.path.split("/"), path.split("/")
        if method != self.method or len(mine) != len(theirs):
            return False
        return all(
            a == b or (_PLACEHOLDER.fullmatch(a) is not None and b != "")
            for a, b in zip(mine, theirs, strict=True)
        )


@dataclass
class Grant:
    """A token the emulator issued: an LWA access token or an RDT."""

    token: str
    kind: str  # "access" or "rdt"
    expires: float
    resources: tuple[Resource, ...] = ()

    def elements_for(self, method: str, path: str) -> frozenset[str]:
        """The personal data elements this token shows on this call (none for LWA)."""
        found: set[str] = set()
        for resource in self.resources:
            if resource.covers(method, path):
                found |= resource.elements
        return frozenset(found)


@dataclass
class TokenBook:
    """The app's credentials, the seller's refresh token, and every token issued."""

    client_id: str
    client_secret: str
    refresh_token: str
    token_ttl: float = 3600.0
    rdt_ttl: float = 3600.0
    pii_role: bool = True  # the app holds the Direct-to-Consumer Shipping role
    clock: Callable[[], float] = time.time
    issued: dict[str, Grant] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=lambda: {"access": 0, "rdt": 0, "refused": 0})
    lock: threading.Lock = field(default_factory=threading.Lock)

    def lwa(self, form: dict[str, str]) -> tuple[int, dict[str, object]]:
        """The LWA token endpoint: (status, body)."""
        client_ok = _same(form.get("client_id", ""), self.client_id) and _same(
            form.get("client_secret", ""), self.client_secret
        )
        if not client_ok:
            return 401, {
                "error": "invalid_client",
                "error_description": "Client authentication failed",
            }
        grant = form.get("grant_type", "")
        if grant != "refresh_token":
            return 400, {
                "error": "unsupported_grant_type",
                "error_description": f"The authorization grant type is not supported: {grant}",
            }
        if not _same(form.get("refresh_token", ""), self.refresh_token):
            return 400, {
                "error": "invalid_grant",
                "error_description": "The request has an invalid grant parameter : refresh_token",
            }
        token = "Atza|" + secrets.token_urlsafe(24)
        with self.lock:
            self.issued[token] = Grant(token, "access", self.clock() + self.token_ttl)
            self.counts["access"] += 1
        return 200, {
            "access_token": token,
            "refresh_token": self.refresh_token,
            "token_type": "bearer",
            "expires_in": int(self.token_ttl),
        }

    def check(self, token: str) -> Grant:
        """The grant behind `x-amz-access-token`; 403 Unauthorized when unknown or expired."""
        with self.lock:
            grant = self.issued.get(token)
        if grant is None:
            raise ApiError(403, "Unauthorized", DENIED)
        if self.clock() >= grant.expires:
            raise ApiError(403, "Unauthorized", EXPIRED)
        return grant

    def restricted(self, body: object) -> dict[str, object]:
        """createRestrictedDataToken's answer for a request body, or InvalidInput."""
        items = body.get("restrictedResources") if isinstance(body, dict) else None
        if not isinstance(items, list) or not items:
            raise invalid("restrictedResources is required and may not be empty.")
        resources = []
        for item in items:
            if not isinstance(item, dict):
                raise invalid("Each restricted resource must be an object.")
            method = str(item.get("method", "")).upper()
            path = str(item.get("path", ""))
            elements = item.get("dataElements") or []
            if method not in METHODS or not path.startswith("/"):
                raise invalid(f"Invalid restricted resource: {method} {path}")
            if not isinstance(elements, list) or not set(map(str, elements)) <= DATA_ELEMENTS:
                raise invalid(f"Invalid dataElements: {elements}")
            resources.append(Resource(method, path, frozenset(map(str, elements))))
        wanted = sorted(set().union(*(r.elements for r in resources)))
        if wanted and not self.pii_role:
            with self.lock:
                self.counts["refused"] += 1
            named = ", ".join(wanted)
            raise invalid(
                f"Application does not have access to one or more requested data elements: "
                f"[{named}]"
            )
        token = "Atz.sprdt|" + secrets.token_urlsafe(24)
        with self.lock:
            self.issued[token] = Grant(token, "rdt", self.clock() + self.rdt_ttl, tuple(resources))
            self.counts["rdt"] += 1
        return {"restrictedDataToken": token, "expiresIn": int(self.rdt_ttl)}

    def expire_all(self) -> int:
        """Every token issued so far stops working, as if an hour had passed."""
        now = self.clock()
        with self.lock:
            for grant in self.issued.values():
                grant.expires = min(grant.expires, now)
            return len(self.issued)


def _same(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode(), expected.encode())
