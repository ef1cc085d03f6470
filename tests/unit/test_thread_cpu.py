"""The CPU each kind of thread has used, as /metrics shows it."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry, generate_latest

from orderhub.observability import ThreadCpu

TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _stat(native_id: int | None, user: int, system: int) -> str:
    """A line of /proc/<pid>/task/<id>/stat with these clock ticks of CPU."""
    return f"{native_id} (py thread) S 1 2 3 4 5 6 7 8 9 10 {user} {system} 0"


def _busy(seconds: float) -> None:
    started = time.thread_time()
    while time.thread_time() - started < seconds:
        pass


def test_a_lane_s_cpu_is_counted_under_its_name_and_kept_after_it_ends() -> None:
    meter = ThreadCpu()
    worked = [threading.Event(), threading.Event()]
    done = threading.Event()

    def lane(i: int) -> None:
        _busy(0.3)
        worked[i].set()
        done.wait(10)

    threads = [
        threading.Thread(target=lane, args=(i,), name=f"worker-push-call_{i}") for i in range(2)
    ]
    for thread in threads:
        thread.start()
    for event in worked:
        event.wait(10)
    alive = meter.read()["worker-push-call"]
    done.set()
    for thread in threads:
        thread.join()
    after = meter.read()
    assert 0.55 <= alive < 2.0
    assert after["worker-push-call"] == pytest.approx(alive, abs=0.02)
    assert "MainThread" in after


def test_numbers_and_targets_leave_the_name_of_a_kind_of_thread(tmp_path: Path) -> None:
    names = {
        "worker-push-call_3": "worker-push-call",
        "worker-2": "worker",
        "worker-batch": "worker-batch",
        "AnyIO worker thread": "AnyIO worker thread",
        "Thread-7 (serve)": "Thread",
    }
    stop = threading.Event()
    threads = [threading.Thread(target=stop.wait, name=name) for name in names]
    for thread in threads:
        thread.start()
    try:
        for thread in threads:
            folder = tmp_path / str(thread.native_id)
            folder.mkdir()
            (folder / "stat").write_text(
                f"{thread.native_id} (py thread) S 1 2 3 4 5 6 7 8 9 10 100 50 0"
            )
        seen = ThreadCpu(tmp_path).read()
    finally:
        stop.set()
        for thread in threads:
            thread.join()
    ticks = 150 / TICK
    assert seen == {
        "worker-push-call": ticks,
        "worker": ticks,
        "worker-batch": ticks,
        "AnyIO worker thread": ticks,
        "Thread": ticks,
    }


def test_a_thread_id_used_again_never_makes_the_count_go_down(tmp_path: Path) -> None:
    stop = threading.Event()
    thread = threading.Thread(target=stop.wait, name="worker-batch")
    thread.start()
    try:
        stat = tmp_path / str(thread.native_id) / "stat"
        stat.parent.mkdir()
        meter = ThreadCpu(tmp_path)
        stat.write_text(_stat(thread.native_id, 400, 100))
        first = meter.read()["worker-batch"]
        # The same id, now a new thread that has used less.
        stat.write_text(_stat(thread.native_id, 80, 20))
        second = meter.read()["worker-batch"]
    finally:
        stop.set()
        thread.join()
    assert first == pytest.approx(500 / TICK)
    assert second == pytest.approx(first + 100 / TICK)


def test_without_per_thread_counters_nothing_is_shown(tmp_path: Path) -> None:
    registry = CollectorRegistry()
    registry.register(ThreadCpu(tmp_path / "absent"))
    text = generate_latest(registry).decode()
    assert "orderhub_thread_cpu_seconds_total{" not in text
