"""Helpers the benchmark scripts share: ports, processes, memory, PostgreSQL, statistics.

Every benchmark measures a raw reference in the same run on the same machine, so the
helpers here are the parts that must behave identically for the hub and the reference.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

__all__ = [
    "BENCH_DIR",
    "REPO",
    "clean_env",
    "cpu_seconds",
    "create_database",
    "free_port",
    "log",
    "orderhub_command",
    "peak_rss_mb",
    "percentiles",
    "pg_transactions",
    "postgres_server",
    "run_json_process",
    "stop_process",
    "wait_http",
]

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent


def log(message: str) -> None:
    """Progress goes to stderr so stdout carries only the result."""
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def orderhub_command() -> str:
    """The `orderhub` command of this interpreter's environment (or on PATH)."""
    executable = Path(sys.executable).with_name("orderhub")
    command = str(executable) if executable.exists() else shutil.which("orderhub")
    if command is None:
        raise RuntimeError("the orderhub command is not installed; pip install -e . first")
    return command


def clean_env() -> dict[str, str]:
    """The environment without ORDERHUB_*: the hub runs on its defaults plus what we set."""
    return {k: v for k, v in os.environ.items() if not k.startswith("ORDERHUB_")}


def free_port(count: int = 1) -> int:
    """A loopback port that was free a moment ago (the servers bind it right after); with
    `count`, the first of that many neighbouring ports that were all free."""
    for _ in range(100):
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            first = int(sock.getsockname()[1])
        with contextlib.ExitStack() as held:
            try:
                for port in range(first + 1, first + count):
                    sock = held.enter_context(socket.socket())
                    sock.bind(("127.0.0.1", port))
            except OSError:
                continue
        return first
    raise RuntimeError(f"found no {count} neighbouring free ports")


def wait_http(url: str, *, process: subprocess.Popen[bytes] | None, timeout: float) -> None:
    """Poll `url` until it answers 2xx; fail early when the server process has died."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"the server behind {url} exited with {process.returncode}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(url, timeout=2.0).is_success:
                return
        time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer within {timeout:.0f} s")


def stop_process(process: subprocess.Popen[bytes], *, grace: float = 20.0) -> None:
    """SIGINT (a server's graceful stop) to this one process, then SIGKILL if it hangs."""
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGINT)
    try:
        process.wait(grace)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(10)


def peak_rss_mb(pid: int) -> float:
    """Peak resident set size (VmHWM) of a live process, in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024, 1)
    raise RuntimeError(f"/proc/{pid}/status has no VmHWM")


def cpu_seconds(pid: int | None = None) -> float:
    """User + system CPU time of a process (all its threads) so far; this one if None."""
    if pid is None:
        usage = os.times()
        return usage.user + usage.system
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def tree_cpu_seconds(pids: Sequence[int]) -> float:
    """CPU seconds of these processes so far (one that has ended counts nothing)."""
    total = 0.0
    for pid in pids:
        try:
            total += cpu_seconds(pid)
        except OSError:
            continue
    return total


def process_tree(pid: int) -> list[int]:
    """A process and every process it started, and they started, still running (Linux)."""
    parents: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # ended meanwhile
        parents.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    tree, pending = [], [pid]
    while pending:
        tree.append(current := pending.pop())
        pending += parents.get(current, [])
    return tree


def machine_ticks() -> tuple[int, int]:
    """(busy, all) CPU ticks of the whole machine so far, every core and process (Linux's
    /proc/stat: idle and waiting for the disk are not busy)."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    return sum(fields) - idle, sum(fields)


def cores_busy(since: tuple[int, int]) -> float:
    """How many of the machine's cores were busy, on average, since `machine_ticks()`
    returned `since`."""
    busy, every = machine_ticks()
    return round((os.cpu_count() or 1) * (busy - since[0]) / max(1, every - since[1]), 2)


def percentiles(
    values: Sequence[float], points: Sequence[int] = (50, 95, 99), *, missing: int = 0
) -> dict[str, float | None]:
    """Nearest-rank percentiles rounded to 0.1 ms. `missing` counts samples that never
    completed: they rank above every value, and a percentile that lands on one is None."""
    ordered = sorted(values)
    count = len(ordered) + missing
    result: dict[str, float | None] = {}
    for p in points:
        rank = max(1, math.ceil(p / 100 * count)) if count else 0
        result[f"p{p}"] = round(ordered[rank - 1], 1) if 0 < rank <= len(ordered) else None
    return result


def run_json_process(
    script: str, spec: Mapping[str, Any], workdir: Path, *, timeout: float
) -> dict[str, Any]:
    """Run `bench/<script>` in a process of its own with a JSON spec, return its JSON result.

    A separate process keeps the load generator's CPU out of the servers' interpreters.
    """
    stem = Path(script).stem.lstrip("_")
    spec_file = workdir / f"{stem}-spec-{time.monotonic_ns()}.json"
    out_file = spec_file.with_name(spec_file.name.replace("-spec-", "-out-"))
    spec_file.write_text(json.dumps(spec))
    command = [sys.executable, str(BENCH_DIR / script), str(spec_file), str(out_file)]
    process = subprocess.Popen(command, stdin=subprocess.DEVNULL)
    try:
        code = process.wait(timeout)
    except subprocess.TimeoutExpired:
        stop_process(process, grace=5)
        raise RuntimeError(f"{script} did not finish within {timeout:.0f} s") from None
    if code != 0:
        raise RuntimeError(f"{script} failed with exit code {code}")
    result: dict[str, Any] = json.loads(out_file.read_text())
    spec_file.unlink(missing_ok=True)
    out_file.unlink(missing_ok=True)
    return result


@contextlib.contextmanager
def postgres_server(database: str = "orderhub_bench") -> Iterator[str]:
    """A throwaway PostgreSQL with default settings (fsync on), via scripts/pg; its URL.

    The data directory gets its own temporary folder because, run as root, the server
    runs as the system user orderhub-pg and must be able to reach it; it is stopped and
    removed after.
    """
    env = {k: v for k, v in os.environ.items() if k != "ORDERHUB_PG_OPTIONS"}
    folder = Path(tempfile.mkdtemp(prefix="orderhub-bench-pg."))
    folder.chmod(0o755)
    script = str(REPO / "scripts" / "pg")
    try:
        started = subprocess.run(
            [script, "start", str(folder)],
            env=env,
            check=True,
            capture_output=True,
            text=True,
            timeout=120,
        )
        admin_url = started.stdout.strip().splitlines()[-1]
        engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(text(f"CREATE DATABASE {database}"))
        engine.dispose()
        yield make_url(admin_url).set(database=database).render_as_string(hide_password=False)
    except subprocess.CalledProcessError as exc:
        raise RuntimeError(f"scripts/pg start failed: {exc.stderr.strip()}") from exc
    finally:
        subprocess.run([script, "stop", str(folder)], env=env, check=False, timeout=120)
        shutil.rmtree(folder, ignore_errors=True)


def create_database(url: str, name: str) -> str:
    """A new, empty database on the server of `url`; its URL."""
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f"CREATE DATABASE {name}"))
    engine.dispose()
    return make_url(url).set(database=name).render_as_string(hide_password=False)


def pg_transactions(url: str) -> int:
    """Transactions PostgreSQL has counted in the database of `url` (committed and rolled
    back, `pg_stat_database`). The reading's own is one transaction more, counted after.

    The server counts a session's transactions when the session goes idle, at most once a
    second and otherwise after up to 10 s: read after the clients have been quiet a while.
    """
    import psycopg

    dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(dsn, autocommit=True) as conn:
        row = conn.execute(
            "SELECT xact_commit + xact_rollback FROM pg_stat_database "
            "WHERE datname = current_database()"
        ).fetchone()
    return int(row[0]) if row else 0
