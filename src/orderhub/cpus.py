"""One CPU per hub process (ORDERHUB_CPU).

A hub process's threads (the web server, the webhook handlers, the worker lanes, the
calls out) take turns on one interpreter lock. Left to the operating system, they run on
whichever core is free, and each turn starts on a core whose caches hold none of the
interpreter's state. On a 2-core machine, one `orderhub serve` took a burst of orders at
5.5 ms of CPU each that way, and at 3.5 ms kept on one core (`bench/pipeline.py`). So
each hub process asks to run on one CPU:

- `auto` (the default): worker process i of `orderhub worker --processes N` takes the
  i-th CPU counted from the last, so that the processes of one unit never share one; any
  other process keeps the CPU it was started on. With one CPU, nothing changes.
- a list (`3`, `0,2-3`): the same choice, among these CPUs only.
- `off`: the operating system moves the process as it likes.

Only Linux lets a process choose; elsewhere the setting changes nothing.
"""

from __future__ import annotations

import os
from contextlib import suppress
from pathlib import Path

from orderhub.domain.errors import ConfigurationError

__all__ = ["choose_cpu", "parse_cpus", "pin_process", "stat_fields"]

_STAT = Path("/proc/self/stat")
_TASKS = Path("/proc/self/task")
_PROCESSOR = 36  # "processor", field 39 of the stat line, counted after the command


def parse_cpus(text: str) -> set[int]:
    """CPU numbers from a list such as `0,2-3`."""
    cpus: set[int] = set()
    for part in text.split(","):
        first, dash, last = part.strip().partition("-")
        if not first.isdigit() or (dash and not last.isdigit()):
            raise ConfigurationError(
                f"ORDERHUB_CPU {text!r} is not auto, off or a list of CPUs such as 0,2-3"
            )
        low, high = int(first), int(last) if dash else int(first)
        if high < low:
            raise ConfigurationError(f"ORDERHUB_CPU {text!r}: {part.strip()} runs backwards")
        cpus.update(range(low, high + 1))
    return cpus


def choose_cpu(
    setting: str, allowed: set[int], *, index: int | None, current: int | None
) -> int | None:
    """The CPU a process should keep to, of those it may use; None to leave it be."""
    setting = setting.strip().lower()
    if setting == "off":
        return None
    if setting == "auto":
        if len(allowed) < 2:
            return None
        candidates = allowed
    else:
        wanted = parse_cpus(setting)
        candidates = wanted & allowed
        if not candidates:
            raise ConfigurationError(
                f"ORDERHUB_CPU {setting}: none of these CPUs is one this process may use "
                f"({_shown(allowed)})"
            )
    if index is not None:
        return sorted(candidates, reverse=True)[index % len(candidates)]
    if current in candidates:
        return current
    return max(candidates)


def pin_process(setting: str, *, index: int | None = None) -> int | None:
    """Keep this process to one CPU as `setting` says; the CPU, or None when left be."""
    if not hasattr(os, "sched_setaffinity"):
        return None
    allowed = set(os.sched_getaffinity(0))
    cpu = choose_cpu(setting, allowed, index=index, current=_current_cpu())
    if cpu is None:
        return None
    # Linux keeps a CPU set per thread: every thread already started is moved too, and
    # threads started later take theirs from the thread that starts them.
    os.sched_setaffinity(0, {cpu})
    with suppress(OSError):
        for task in _TASKS.iterdir():
            with suppress(OSError, ValueError):
                os.sched_setaffinity(int(task.name), {cpu})
    return cpu


def stat_fields(stat: Path) -> list[str]:
    """The fields of a Linux `stat` file after the command, which is in parentheses and
    may hold spaces (the state first); raises OSError when it cannot be read."""
    return stat.read_text().rsplit(")", 1)[-1].split()


def _current_cpu() -> int | None:
    try:
        return int(stat_fields(_STAT)[_PROCESSOR])
    except (OSError, IndexError, ValueError):
        return None


def _shown(cpus: set[int]) -> str:
    return ",".join(str(cpu) for cpu in sorted(cpus))
