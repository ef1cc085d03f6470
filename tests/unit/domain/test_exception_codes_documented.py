"""The operations guide lists every exception code with what to do and its actions."""

from __future__ import annotations

import re
from pathlib import Path

from orderhub.domain.exceptions_catalog import CATALOG, allowed_actions

GUIDE = Path(__file__).parents[3] / "docs" / "operations.md"


def test_every_code_of_the_catalogue_is_in_the_guide_with_its_hint_and_actions() -> None:
    rows = {}
    for line in GUIDE.read_text(encoding="utf-8").splitlines():
        found = re.fullmatch(r"\| `([a-z_]+)` \| (.+) \| (.+) \|", line)
        if found:
            rows[found.group(1)] = (found.group(2), re.findall(r"`([a-z_]+)`", found.group(3)))
    for code, remedy in CATALOG.items():
        assert code in rows, f"{code} is missing from docs/operations.md"
        assert rows[code] == (remedy.hint, [str(a) for a in allowed_actions(code)]), code
