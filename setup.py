"""Builds the console (console/, with npm) into the package before it is installed.

`pip install -e .` and `pip install .` both run this, so the hub they install serves its
console. The build is skipped when the built files are newer than every source file;
without npm the hub still installs and its console page says how to build it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
SOURCE = ROOT / "console"
BUILT = ROOT / "src" / "orderhub" / "console" / "dist" / "index.html"


def _newest(folder: Path) -> float:
    paths = [p for p in folder.rglob("*") if p.is_file() and "node_modules" not in p.parts]
    return max((p.stat().st_mtime for p in paths), default=0.0)


def build_console() -> None:
    if not (SOURCE / "package.json").exists():
        return
    if BUILT.exists() and BUILT.stat().st_mtime >= _newest(SOURCE):
        return
    npm = shutil.which("npm")
    if npm is None or os.environ.get("ORDERHUB_SKIP_CONSOLE_BUILD"):
        print("orderhub: npm not found; the console is not built (see README)")
        return
    print("orderhub: building the console with npm (first install: about a minute)")
    installed = SOURCE / "node_modules" / ".package-lock.json"
    locked = (SOURCE / "package-lock.json").stat().st_mtime
    if not installed.exists() or installed.stat().st_mtime < locked:
        subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=SOURCE, check=True)
    subprocess.run([npm, "run", "build"], cwd=SOURCE, check=True)


class BuildWithConsole(build_py):
    """The usual build, with the console built first."""

    def run(self) -> None:
        build_console()
        super().run()


setup(cmdclass={"build_py": BuildWithConsole})
