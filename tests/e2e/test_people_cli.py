"""People and tokens from the command line, as the owner sets them up on the server."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from support import TEST_KEYS


def _orderhub(db: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ORDERHUB_")}
    env.update(
        ORDERHUB_DATABASE_URL=f"sqlite:///{db}",
        ORDERHUB_ENCRYPTION_KEYS=TEST_KEYS,
        ORDERHUB_LOG_LEVEL="warning",
    )
    return subprocess.run(
        [sys.executable, "-c", "from orderhub.cli import main; main()", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )


def test_an_owner_adds_a_person_gives_them_a_token_and_revokes_it(tmp_path: Path) -> None:
    db = tmp_path / "hub.db"
    made = _orderhub(db, "users", "create", "li", "--role", "operator")
    assert made.returncode == 0, made.stderr
    password = made.stdout.strip().splitlines()[-1]
    assert len(password) >= 10

    token = _orderhub(db, "tokens", "create", "li", "--expires", "30d", "--name", "scanner")
    assert token.returncode == 0, token.stderr
    secret = token.stdout.strip().splitlines()[-1]
    assert secret.startswith("oh_")

    [listed] = json.loads(_orderhub(db, "tokens", "list", "--json").stdout)
    assert listed["user"] == "li" and listed["name"] == "scanner" and not listed["revoked_at"]
    assert secret not in _orderhub(db, "tokens", "list", "--json").stdout

    assert _orderhub(db, "tokens", "revoke", listed["id"]).returncode == 0
    [revoked] = json.loads(_orderhub(db, "tokens", "list", "--json").stdout)
    assert revoked["revoked_at"]

    audit = json.loads(_orderhub(db, "audit", "list", "--json").stdout)
    assert [e["action"] for e in audit] == ["token.revoke", "token.create", "user.create"]
    assert all(e["actor"].startswith("cli:") for e in audit)
    assert password not in json.dumps(audit) and secret not in json.dumps(audit)


def test_a_password_given_on_standard_input_and_mistakes_in_one_sentence(tmp_path: Path) -> None:
    db = tmp_path / "hub.db"
    given = _orderhub(
        db,
        "users",
        "create",
        "wang",
        "--role",
        "viewer",
        "--password-stdin",
        stdin="a long enough password\n",
    )
    assert given.returncode == 0 and "password" not in given.stdout.lower().split("\n")[-1]
    twice = _orderhub(db, "users", "create", "wang", "--role", "viewer")
    assert twice.returncode == 2
    assert twice.stderr.strip() == "orderhub: a user named 'wang' exists already"
    wrong = _orderhub(db, "users", "create", "zhao", "--role", "boss")
    assert wrong.returncode == 2 and "not a role" in wrong.stderr
    assert "Traceback" not in twice.stderr + wrong.stderr


def test_a_command_that_changes_something_is_audited_and_one_that_looks_is_not(
    tmp_path: Path,
) -> None:
    db = tmp_path / "hub.db"
    rules = tmp_path / "rules.yaml"
    rules.write_text(
        "name: checks\nrules:\n  - name: big\n    when: order.totals.grand_total > 2000.0\n"
        "    action: hold\n    reason: big order\n"
    )
    assert _orderhub(db, "orders", "list").returncode == 0
    assert _orderhub(db, "rules", "list").returncode == 0
    put = _orderhub(db, "rules", "put", str(rules))
    assert put.returncode == 0, put.stderr
    refused = _orderhub(db, "rules", "activate", "no-such-rules")
    assert refused.returncode == 2
    entries = json.loads(_orderhub(db, "audit", "list", "--json").stdout)
    assert [(e["action"], e["target"]) for e in entries] == [("cli rules put", str(rules))]
    assert entries[0]["detail"] == f"orderhub rules put {rules}"
    assert entries[0]["via"] == "cli"
