"""The README is the operator's reference: every setting the hub reads is in it."""

from __future__ import annotations

from pathlib import Path

from orderhub.config import Settings

README = Path(__file__).resolve().parents[2] / "README.md"


def test_every_setting_is_documented_in_the_readme() -> None:
    text = README.read_text(encoding="utf-8")
    missing = [
        f"ORDERHUB_{name.upper()}"
        for name in Settings.model_fields
        if f"`ORDERHUB_{name.upper()}`" not in text
    ]
    assert missing == []
