"""Which command lines change something, so that each one that succeeds is audited.

Audited unless listed here as only looking (or as audited by the service itself): a new
command is recorded by default, never silently left out.
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["audit_action"]

_LOOKS = frozenset(
    {
        ("orders", "list"),
        ("orders", "late"),
        ("exceptions", "list"),
        ("exceptions", "show"),
        ("jobs", "list"),
        ("stock", "show"),
        ("stock", "verify"),
        ("stock", "alerts"),
        ("alerts", "list"),
        ("rules", "list"),
        ("rules", "show"),
        ("suppliers", "scores"),
        ("returns", "list"),
        ("returns", "show"),
        ("schema", "order"),
        ("sandbox", "serve"),
        ("config", "check"),
        ("listings", "unmatched"),
        ("listings", "export"),
        ("audit", "list"),
        ("users", "list"),
        ("tokens", "list"),
        ("keys", "new"),
        # Audited where the change is made, with before and after:
        ("users", "create"),
        ("users", "set"),
        ("tokens", "create"),
        ("tokens", "revoke"),
        ("listings", "import"),
    }
)
_RUNS = frozenset({"demo", "serve", "worker", "map"})
_APPLY_ONLY = frozenset({("stock", "import"), ("stock", "reconcile")})


def audit_action(argv: Sequence[str]) -> str | None:
    """The audit action for a command line that succeeded, or None if it only looked.

    audit_action(["stock", "adjust", "WH1", "SKU-1", "5"]) -> "cli stock adjust"
    """
    words = [a for a in argv if not a.startswith("-")]
    if not words or any(a in ("--help", "--version") for a in argv):
        return None
    if words[0] in _RUNS:
        return None
    pair = (words[0], words[1] if len(words) > 1 else "")
    if pair == ("orders", "show"):
        return None  # a reveal is audited where it is checked, with the person's name
    if pair in _LOOKS:
        return None
    if pair in _APPLY_ONLY and "--apply" not in argv:
        return None
    return "cli " + " ".join(part for part in pair if part)
