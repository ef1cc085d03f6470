"""Who may do what: roles, the permissions each grants, and shop scopes.

One table, read by the API's route guard, the console's menus and the command line, so
a page never offers what the API would refuse. A role grants permissions; a person may
further be limited to some shops, and then sees and changes only their orders, stock
and exceptions.

    may(Principal("li", Role.OPERATOR), Permission.EXCEPTIONS_RESOLVE)   -> True
    may(Principal("li", Role.VIEWER), Permission.PII_REVEAL)             -> False
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum

from orderhub.domain.errors import OrderhubError

__all__ = [
    "ROLE_PERMISSIONS",
    "Forbidden",
    "Permission",
    "Principal",
    "Role",
    "may",
    "require",
]


class Role(StrEnum):
    """What a person is there to do."""

    OWNER = "owner"  # everything, including people, tokens and secrets
    ADMIN = "admin"  # connections, mappings, rules, and what an operator does
    OPERATOR = "operator"  # orders, exceptions, stock, returns, suppliers
    FINANCE = "finance"  # reports and reconciliation; reads the rest
    VIEWER = "viewer"  # reads; personal data always masked


class Permission(StrEnum):
    """One thing a route, page or command does; named `<area>.<verb>`."""

    ORDERS_READ = "orders.read"
    ORDERS_WRITE = "orders.write"  # cancel, hold, release, re-route, edit the address
    PII_REVEAL = "pii.reveal"  # see names, phones and addresses in clear (audited)
    EXCEPTIONS_READ = "exceptions.read"
    EXCEPTIONS_RESOLVE = "exceptions.resolve"
    JOBS_READ = "jobs.read"
    JOBS_RETRY = "jobs.retry"
    ALERTS_READ = "alerts.read"
    STOCK_READ = "stock.read"
    STOCK_WRITE = "stock.write"
    RETURNS_READ = "returns.read"
    RETURNS_WRITE = "returns.write"
    SUPPLIERS_READ = "suppliers.read"
    SUPPLIERS_WRITE = "suppliers.write"
    RULES_READ = "rules.read"
    RULES_TEST = "rules.test"  # dry runs read stored orders
    RULES_WRITE = "rules.write"
    LISTINGS_READ = "listings.read"  # listings, the shops' unmapped items, the export
    LISTINGS_WRITE = "listings.write"  # map a shop's codes to our SKUs (spreadsheet import)
    CONNECTIONS_READ = "connections.read"
    CONNECTIONS_WRITE = "connections.write"  # shops and nodes: URLs, secrets, mappings
    SYNC_RUN = "sync.run"  # pull from a shop now
    REPORTS_READ = "reports.read"
    AUDIT_READ = "audit.read"
    USERS_MANAGE = "users.manage"  # people, roles, scopes and tokens
    BUYERS_ERASE = "buyers.erase"  # a buyer's request to be forgotten (PIPL, GDPR)
    FINANCE_RECONCILE = "finance.reconcile"  # run reconciliations, resolve their differences


_READ = frozenset(
    {
        Permission.ORDERS_READ,
        Permission.EXCEPTIONS_READ,
        Permission.JOBS_READ,
        Permission.ALERTS_READ,
        Permission.STOCK_READ,
        Permission.RETURNS_READ,
        Permission.SUPPLIERS_READ,
        Permission.RULES_READ,
        Permission.LISTINGS_READ,
        Permission.CONNECTIONS_READ,
    }
)
_OPERATE = _READ | {
    Permission.ORDERS_WRITE,
    Permission.PII_REVEAL,
    Permission.EXCEPTIONS_RESOLVE,
    Permission.JOBS_RETRY,
    Permission.STOCK_WRITE,
    Permission.RETURNS_WRITE,
    Permission.SUPPLIERS_WRITE,
    Permission.SYNC_RUN,
    Permission.LISTINGS_WRITE,  # as mapping a SKU from the exception queue is
}
_ADMINISTER = _OPERATE | {
    Permission.RULES_TEST,
    Permission.RULES_WRITE,
    Permission.CONNECTIONS_WRITE,
    Permission.REPORTS_READ,
    Permission.AUDIT_READ,
    Permission.BUYERS_ERASE,
    Permission.FINANCE_RECONCILE,
}

ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.OWNER: frozenset(Permission),
    Role.ADMIN: frozenset(_ADMINISTER),
    Role.OPERATOR: frozenset(_OPERATE),
    Role.FINANCE: _READ
    | {Permission.REPORTS_READ, Permission.AUDIT_READ, Permission.FINANCE_RECONCILE},
    Role.VIEWER: _READ,
}


class Forbidden(OrderhubError):
    """The person is known but may not do this (or not for this shop)."""

    def __init__(self, who: str, what: str) -> None:
        super().__init__(f"{who} may not {what}")
        self.who = who
        self.what = what


@dataclass(frozen=True)
class Principal:
    """Who is acting: a person (or their token), with a role and an optional shop scope.

    `shops` empty means every shop. `via` says how they proved it (`password`, `token:ID`,
    `cli`), for the audit log.
    """

    name: str
    role: Role
    shops: frozenset[str] = field(default_factory=frozenset)
    via: str = ""

    @property
    def permissions(self) -> frozenset[Permission]:
        return ROLE_PERMISSIONS[self.role]

    def sees_shop(self, shop: str) -> bool:
        """Whether this principal's scope includes `shop`."""
        return not self.shops or shop in self.shops

    def scope(self, shops: Iterable[str] | None = None) -> frozenset[str] | None:
        """The shops a query must be limited to, or None for every shop."""
        if not self.shops:
            return None if shops is None else frozenset(shops)
        return self.shops if shops is None else self.shops & frozenset(shops)


def may(principal: Principal, permission: Permission, *, shop: str | None = None) -> bool:
    """Whether `principal` holds `permission` (for `shop`, when it is about one)."""
    if permission not in principal.permissions:
        return False
    return shop is None or principal.sees_shop(shop)


def require(principal: Principal, permission: Permission, *, shop: str | None = None) -> None:
    """Raise Forbidden unless `may(...)`."""
    if not may(principal, permission, shop=shop):
        what = permission.value + (f" for shop {shop}" if shop else "")
        raise Forbidden(principal.name, what)
