"""Sampling a server process with py-spy while a benchmark phase runs, and summing it up.

Two samplers run side by side on the same process, because each answers one question:

* `--gil`: only the thread holding the interpreter lock, so the shares say where the
  Python CPU goes (the hub runs on one interpreter lock, so this is its ceiling);
* `--idle --threads`: every thread, waiting or not, so the shares per kind of thread
  say what the workers and request threads are waiting on.

py-spy runs `--nonblocking` (it never pauses the process); the figures of a profiled
run are still a little lower than an unprofiled one's.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

from _common import stop_process

__all__ = ["Profiler", "summarize_cpu", "summarize_threads"]

_THREAD = re.compile(r"^thread \(\d+\): (.*)$")
THREAD_GROUPS = (
    ("worker-listen", "job listener (LISTEN/NOTIFY)"),
    ("worker-batch", "batch lane (database-only jobs)"),
    ("worker-", "call lanes (jobs that call out)"),
    ("AnyIO worker thread", "request threads (webhook handlers)"),
    ("MainThread", "event loop (HTTP)"),
)


class Profiler:
    """Both samplers on `pid` from construction until `stop()`."""

    def __init__(self, pid: int, stem: Path) -> None:
        executable = Path(sys.executable).with_name("py-spy")
        command = str(executable) if executable.exists() else shutil.which("py-spy")
        if command is None:
            raise RuntimeError("--profile needs py-spy: .venv/bin/pip install py-spy")
        self.cpu_file = stem.with_name(stem.name + "-gil.txt")
        self.threads_file = stem.with_name(stem.name + "-threads.txt")
        base = [command, "record", "--pid", str(pid), "--rate", "100", "--nonblocking"]
        runs = [
            ["--gil", "--format", "raw", "--output", str(self.cpu_file)],
            ["--idle", "--threads", "--format", "raw", "--output", str(self.threads_file)],
        ]
        self.processes = [
            subprocess.Popen(
                [*base, *options],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            for options in runs
        ]
        time.sleep(1.0)

    def stop(self) -> dict[str, Any]:
        for process in self.processes:
            stop_process(process, grace=60)
        return {
            "cpu": summarize_cpu(self.cpu_file),
            "threads": summarize_threads(self.threads_file),
        }


def _frame(raw: str) -> str:
    """`func (…/site-packages/pkg/mod.py:12)` → `func (pkg/mod.py)`; lines merged."""
    match = re.match(r"^(.*) \((.*?)(?::\d+)?\)$", raw)
    if not match:
        return raw
    name, path = match.groups()
    for marker in ("site-packages/", "/src/", "/lib/python3.11/"):
        if marker in path:
            path = path.split(marker, 1)[1]
            break
    return f"{name} ({path})"


def _stacks(path: Path) -> list[tuple[list[str], int]]:
    """(frames, samples) per line of py-spy's collapsed ("raw") output."""
    rows = []
    if path.exists():
        for line in path.read_text(errors="replace").splitlines():
            stack, _, count = line.rpartition(" ")
            if stack and count.isdigit():
                rows.append((stack.split(";"), int(count)))
    return rows


def _shares(counter: Counter[str], total: int, top: int, only_hub: bool) -> list[list[Any]]:
    rows = [
        [frame, round(100 * n / total, 1)]
        for frame, n in counter.most_common()
        if not only_hub or "orderhub/" in frame
    ]
    return rows[:top]


def summarize_cpu(path: Path, top: int = 20) -> dict[str, Any]:
    """Where the interpreter lock was held: self time per function, inclusive time per
    orderhub function, as percentages of all samples."""
    own: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    total = 0
    for raw_frames, count in _stacks(path):
        frames = [_frame(f) for f in raw_frames]
        total += count
        own[frames[-1]] += count
        for frame in set(frames):
            inclusive[frame] += count
    if not total:
        return {"file": str(path), "samples": 0}
    return {
        "file": str(path),
        "samples": total,
        "self_pct": _shares(own, total, top, only_hub=False),
        "inclusive_orderhub_pct": _shares(inclusive, total, top, only_hub=True),
    }


def summarize_threads(path: Path, top: int = 8) -> dict[str, Any]:
    """Per kind of thread, what its time went to: the innermost two orderhub frames and
    the frame actually sampled, as percentages of that kind's samples."""
    groups: dict[str, Counter[str]] = defaultdict(Counter)
    for raw_frames, count in _stacks(path):
        match = _THREAD.match(raw_frames[0])
        name = match.group(1) if match else raw_frames[0]
        label = next((label for prefix, label in THREAD_GROUPS if name.startswith(prefix)), "")
        if not label:
            continue
        frames = [_frame(f) for f in raw_frames[1:]]
        hub_frames = [f for f in frames if "orderhub/" in f][-2:]
        where = " > ".join(hub_frames) or "(outside orderhub)"
        groups[label][f"{where} || {frames[-1] if frames else '?'}"] += count
    return {
        "file": str(path),
        **{
            label: _shares(counter, sum(counter.values()), top, only_hub=False)
            for label, counter in groups.items()
        },
    }
