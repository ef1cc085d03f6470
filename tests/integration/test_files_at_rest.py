"""The files orderhub makes on disk: private, where they were asked for, never by accident."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

from support import TEST_KEYS


def _orderhub(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("ORDERHUB_")}
    return subprocess.run(
        [sys.executable, "-c", "from orderhub.cli import main; main()", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**clean, "ORDERHUB_LOG_LEVEL": "warning", **env},
    )


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_new_sqlite_database_and_its_key_file_are_readable_by_their_owner_only(
    tmp_path: Path,
) -> None:
    db = tmp_path / "hub.db"
    done = _orderhub("db", "upgrade", ORDERHUB_DATABASE_URL=f"sqlite:///{db}")
    assert done.returncode == 0, done.stderr
    assert _mode(db) == 0o600
    assert _mode(tmp_path / "hub.db.key") == 0o600
    for suffix in ("-wal", "-shm"):
        companion = tmp_path / f"hub.db{suffix}"
        if companion.exists():
            assert _mode(companion) & 0o077 == 0


def test_a_mistyped_folder_is_refused_and_nothing_is_created(tmp_path: Path) -> None:
    wrong = tmp_path / "no-such-folder" / "hub.db"
    done = _orderhub("orders", "list", ORDERHUB_DATABASE_URL=f"sqlite:///{wrong}")
    assert done.returncode == 2
    assert "does not exist" in done.stderr and "no-such-folder" in done.stderr
    assert "Traceback" not in done.stderr
    assert list(tmp_path.iterdir()) == []


def test_the_key_file_can_live_elsewhere(tmp_path: Path) -> None:
    keys = tmp_path / "keys"
    keys.mkdir()
    db = tmp_path / "hub.db"
    key_file = keys / "orderhub.key"
    env = {"ORDERHUB_DATABASE_URL": f"sqlite:///{db}", "ORDERHUB_KEY_FILE": str(key_file)}
    assert _orderhub("db", "upgrade", **env).returncode == 0
    assert key_file.exists() and _mode(key_file) == 0o600
    assert not (tmp_path / "hub.db.key").exists()
    # The keys given in the environment still win over any file.
    assert _orderhub("db", "upgrade", ORDERHUB_ENCRYPTION_KEYS=TEST_KEYS, **env).returncode == 0
