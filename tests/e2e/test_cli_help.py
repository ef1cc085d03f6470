"""What `orderhub` says about itself: its version and the platforms it can connect."""

from __future__ import annotations

import os
import subprocess
import sys
from importlib.metadata import version

from orderhub.connectors.registry import CHANNEL_PLATFORMS, NODE_PLATFORMS


def _orderhub(*args: str) -> subprocess.CompletedProcess[str]:
    # PYTHONPATH is passed on, so a source tree other than the installed one is what runs.
    source = {"PYTHONPATH": os.environ["PYTHONPATH"]} if "PYTHONPATH" in os.environ else {}
    return subprocess.run(
        [sys.executable, "-c", "from orderhub.cli import main; main()", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={"COLUMNS": "200", "PATH": "/usr/bin:/bin", **source},
    )


def test_version_prints_the_installed_version() -> None:
    result = _orderhub("--version")
    assert result.returncode == 0
    assert result.stdout.strip() == f"orderhub {version('orderhub')}"


def test_help_names_every_platform_a_shop_or_node_can_be_on() -> None:
    result = _orderhub("--help")
    assert result.returncode == 0
    for platform in CHANNEL_PLATFORMS | NODE_PLATFORMS:
        assert platform in result.stdout
