"""A worker lane is woken for the jobs it runs when they fall due before it would wake by
itself, and never misses a job queued while it looks for work."""

from __future__ import annotations

import threading
import time

from orderhub.jobs.lanes import Lane
from orderhub.store.db import heard, notice

STOCK = "stock.push"


def asleep_until(lane: Lane, until: float) -> threading.Thread:
    """The lane asleep in a thread of its own; the thread ends when the lane wakes."""
    lane.begin()
    thread = threading.Thread(target=lane.sleep, args=(until,))
    thread.start()
    deadline = time.monotonic() + 5
    while lane._wakes_at != until:  # asleep
        assert time.monotonic() < deadline
        time.sleep(0.001)
    return thread


def test_a_sleeping_lane_is_woken_only_for_jobs_due_before_it_wakes() -> None:
    lane = Lane("worker-stock-0", [STOCK], 1)
    in_a_minute = time.time() + 60
    sleeper = asleep_until(lane, in_a_minute)
    lane.wake({"node.push": time.time()})  # not its kind
    lane.wake({STOCK: in_a_minute + 1, "node.push": time.time()})  # after it wakes anyway
    sleeper.join(0.2)
    assert sleeper.is_alive()
    lane.wake({STOCK: time.time() + 1})  # due before it would wake
    sleeper.join(5)
    assert not sleeper.is_alive()
    assert lane.begin() is False  # woken to look again, not for a job due now


def test_a_lane_woken_for_a_job_due_now_goes_straight_to_claiming() -> None:
    lane = Lane("worker-batch", ["inbox.process"], 50)
    sleeper = asleep_until(lane, time.time() + 60)
    lane.wake({"inbox.process": time.time()})
    sleeper.join(5)
    assert not sleeper.is_alive()
    assert lane.begin() is True
    assert lane.begin() is False  # told once


def test_a_lane_is_woken_when_the_kinds_or_the_time_are_not_known() -> None:
    for queued in (None, {STOCK: None}):
        lane = Lane("worker-stock-0", [STOCK], 1)
        sleeper = asleep_until(lane, time.time() + 60)
        lane.wake(queued)
        sleeper.join(5)
        assert not sleeper.is_alive()
        assert lane.begin() is False  # it looks first: nothing says the job is due


def test_a_job_queued_while_the_lane_looks_cuts_its_next_sleep_short() -> None:
    lane = Lane("worker-stock-0", [STOCK], 1)
    lane.begin()  # looking: it has read when its next job is due, and found none
    lane.wake({STOCK: time.time() + 3600})
    started = time.monotonic()
    lane.sleep(time.time() + 60)
    assert time.monotonic() - started < 1


def test_a_notice_says_which_kinds_were_queued_and_when_the_first_of_each_is_due() -> None:
    said = notice({"stock.push": 1733400001.25, "node.push": 1733400000.0})
    assert said == "node.push@1733400000.000,stock.push@1733400001.250"
    assert heard(said) == {"node.push": 1733400000.0, "stock.push": 1733400001.25}
    assert heard("inbox.process") == {"inbox.process": None}  # due: not said
    assert heard("stock.push@soon") == {"stock.push": None}
    assert heard("") is None  # any kind
