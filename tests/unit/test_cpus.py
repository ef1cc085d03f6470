"""Which CPU a hub process keeps to (ORDERHUB_CPU)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from orderhub.cpus import choose_cpu, parse_cpus
from orderhub.domain.errors import ConfigurationError

FOUR = {0, 1, 2, 3}


def test_lists_of_cpus_are_read_with_their_ranges() -> None:
    assert parse_cpus("3") == {3}
    assert parse_cpus("0,2-3") == {0, 2, 3}
    assert parse_cpus(" 1 , 4-5 ") == {1, 4, 5}


@pytest.mark.parametrize("text", ["", "a", "1,", "2-", "-1", "3-1", "1.5"])
def test_anything_else_is_refused_in_one_sentence(text: str) -> None:
    with pytest.raises(ConfigurationError, match="ORDERHUB_CPU"):
        parse_cpus(text)


def test_worker_processes_of_one_unit_take_cpus_of_their_own_from_the_last() -> None:
    taken = [choose_cpu("auto", FOUR, index=i, current=0) for i in range(4)]
    assert taken == [3, 2, 1, 0]
    # A fifth process shares, starting again from the last.
    assert choose_cpu("auto", FOUR, index=4, current=0) == 3


def test_any_other_process_keeps_the_cpu_it_started_on() -> None:
    assert choose_cpu("auto", FOUR, index=None, current=2) == 2
    assert choose_cpu("auto", FOUR, index=None, current=None) == 3


def test_a_list_narrows_the_choice_to_the_cpus_it_names_that_may_be_used() -> None:
    assert choose_cpu("1-2,7", FOUR, index=None, current=0) == 2
    assert choose_cpu("1-2,7", FOUR, index=None, current=1) == 1
    assert choose_cpu("0,2", FOUR, index=1, current=3) == 0
    with pytest.raises(ConfigurationError, match="none of these CPUs"):
        choose_cpu("6-7", FOUR, index=None, current=0)


def test_off_or_a_single_cpu_leaves_the_process_be() -> None:
    assert choose_cpu("off", FOUR, index=0, current=1) is None
    assert choose_cpu(" OFF ", FOUR, index=None, current=1) is None
    assert choose_cpu("auto", {5}, index=None, current=5) is None


def test_a_process_asked_to_keep_to_one_cpu_runs_on_that_one_only() -> None:
    # In a process of its own: the test run itself must stay free to use every CPU.
    script = (
        "import os\n"
        "from orderhub.cpus import pin_process\n"
        "cpu = pin_process('auto', index=0)\n"
        "print(cpu, sorted(os.sched_getaffinity(0)))\n"
    )
    shown = (
        subprocess.run(
            [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=60
        )
        .stdout.strip()
        .split(maxsplit=1)
    )
    allowed = sorted(os.sched_getaffinity(0))
    if len(allowed) < 2:
        assert shown == ["None", str(allowed)]
    else:
        assert shown == [str(allowed[-1]), f"[{allowed[-1]}]"]
