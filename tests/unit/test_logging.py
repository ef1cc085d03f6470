"""Log lines an operator's log collector can use: a failure keeps its type and stack."""

from __future__ import annotations

import json
import subprocess
import sys

SCRIPT = """
from orderhub.observability import configure_logging, get_logger
configure_logging(fmt="json")
log = get_logger("t")
try:
    {}["missing"]
except KeyError:
    log.exception("job failed", job_id=7)
"""


def test_a_json_log_line_of_a_failure_carries_its_type_and_stack() -> None:
    run = subprocess.run(
        [sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=60, check=True
    )
    [line] = run.stderr.strip().splitlines()
    entry = json.loads(line)
    assert entry["event"] == "job failed" and entry["job_id"] == 7
    [failure] = entry["exception"]
    assert failure["exc_type"] == "KeyError"
    assert failure["frames"] and failure["frames"][-1]["name"] == "<module>"
