"""The incremental pull engine every channel uses: windows, pages, and a safe cursor.

Platforms let a client search orders by modified time, within a window no longer than
they allow, one page at a time. Peers miss orders at window and page edges; this engine
is written so that none is missed and none is lost to a crash:

* the span from the cursor to now is cut into windows no longer than `max_window`,
  starting `overlap` before the cursor, and ending `lag` before now (platforms index
  late);
* each window is paged as the platform requires: page numbers upwards, from the last
  page backwards (TOP, PDD: an order modified meanwhile leaves the window, and earlier
  pages shift towards pages not yet read), or by a link to the next page;
* a window whose total changes while it is paged is paged again, since an order that
  left it may have shifted one not yet read onto a page already read; if it keeps
  changing, the window is split, down to windows read in one page;
* a window holding more than `page_cap` results is split in two until it fits;
* the caller stores each window whole before it moves the cursor to the window's end.

Repeats (overlap, re-paging) are harmless: the inbox keeps one copy per order and
modified time.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Protocol

from ..base import PulledOrder

__all__ = [
    "OrderSearch",
    "Page",
    "Paging",
    "PullRules",
    "Searchable",
    "Window",
    "WindowPulled",
    "orders_since",
    "pull_windows",
]


class Paging(StrEnum):
    """How a platform pages through one window's results."""

    FORWARD = "forward"  # page numbers upwards (JD, Douyin)
    BACKWARD = "backward"  # last page first (TOP, PDD)
    LINKED = "linked"  # each page names the next one (Shopify's page_info)


@dataclass(frozen=True)
class Window:
    """A span of modified times, `start <= t <= end` as the platforms search them."""

    start: datetime
    end: datetime

    def halves(self) -> tuple[Window, Window]:
        middle = self.start + (self.end - self.start) / 2
        return Window(self.start, middle), Window(middle, self.end)


@dataclass(frozen=True)
class Page:
    """One page of a search: its orders, the window's total, and the next page's link."""

    orders: Sequence[PulledOrder]
    total: int | None = None
    next: str | None = None


OrderSearch = Callable[[Window, "int | str | None", int], Page]
"""`search(window, page, size)`: page is a number (from `first_page`) or a link."""


@dataclass(frozen=True)
class PullRules:
    """What the platform allows, as settings of the channel."""

    max_window: timedelta
    page_size: int
    paging: Paging
    first_page: int = 1
    overlap: timedelta = timedelta(minutes=2)
    lag: timedelta = timedelta(seconds=0)
    page_cap: int | None = None  # most results one window may page through
    min_window: timedelta = timedelta(seconds=1)
    max_repages: int = 3


@dataclass
class WindowPulled:
    """Every order of one window; once they are stored, the cursor may move to `end`."""

    window: Window
    orders: list[PulledOrder]
    calls: int = 0
    repaged: int = 0
    split: bool = field(default=False)

    @property
    def end(self) -> datetime:
        return self.window.end


class Searchable(Protocol):
    """A channel as the engine sees it: its rules and its search call."""

    @property
    def pull_rules(self) -> PullRules: ...

    def search_orders(self, window: Window, page: int | str | None, size: int) -> Page: ...


def orders_since(channel: Searchable, since: datetime, *, now: datetime) -> Iterator[PulledOrder]:
    """Every order modified from `since` to `now`, window by window (no overlap)."""
    rules = channel.pull_rules
    exact = PullRules(**{**rules.__dict__, "overlap": timedelta(0)})
    for pulled in pull_windows(
        channel.search_orders, exact, cursor=since, now=now, first_start=since
    ):
        yield from pulled.orders


def windows(start: datetime, end: datetime, longest: timedelta) -> Iterator[Window]:
    """Consecutive windows from `start` to `end`, none longer than `longest`."""
    cursor = start
    while cursor < end:
        stop = min(cursor + longest, end)
        yield Window(cursor, stop)
        cursor = stop


def pull_windows(
    search: OrderSearch,
    rules: PullRules,
    *,
    cursor: datetime | None,
    now: datetime,
    first_start: datetime,
) -> Iterator[WindowPulled]:
    """Each window from the cursor (less the overlap) up to `now - lag`, fully paged.

    `first_start` is where a shop with no cursor begins (its platform's history limit).
    """
    start = cursor - rules.overlap if cursor is not None else first_start
    for window in windows(start, now - rules.lag, rules.max_window):
        yield from _pull_window(search, rules, window)


def _pull_window(search: OrderSearch, rules: PullRules, window: Window) -> Iterator[WindowPulled]:
    splittable = window.end - window.start >= 2 * rules.min_window
    result, over_cap = _page_through(search, rules, window, splittable=splittable)
    if not over_cap:
        yield result
        return
    spent = result.calls
    for half in window.halves():
        for part in _pull_window(search, rules, half):
            part.split = True
            part.calls += spent
            spent = 0
            yield part


def _page_through(
    search: OrderSearch, rules: PullRules, window: Window, *, splittable: bool
) -> tuple[WindowPulled, bool]:
    """Every page of the window, paged again while orders move in a way that could hide
    one; (result, True) when the window should be split: it holds more than the cap,
    or it would not hold still."""
    result = WindowPulled(window, [])
    for attempt in range(rules.max_repages + 1):
        p = _one_pass(search, rules, window, splittable=splittable)
        result.calls += p.calls
        result.orders.extend(p.orders)
        result.repaged = attempt
        if p.over_cap:
            return result, True
        if p.steady:
            return result, False
    # Orders keep moving while this window is paged: smaller windows need fewer pages,
    # and a window read in one page cannot hide anything.
    return result, splittable


@dataclass
class _Pass:
    orders: list[PulledOrder]
    calls: int
    steady: bool = True
    over_cap: bool = False


def _one_pass(search: OrderSearch, rules: PullRules, window: Window, *, splittable: bool) -> _Pass:
    size = rules.page_size
    if rules.paging is Paging.LINKED:
        return _linked(search, window, size)
    first = search(window, rules.first_page, size)
    total = first.total if first.total is not None else len(first.orders)
    reachable = total
    if rules.page_cap is not None and total > rules.page_cap:
        if splittable:
            return _Pass(list(first.orders), 1, over_cap=True)
        reachable = rules.page_cap  # a window of a second: page as far as allowed
    last = rules.first_page + max(math.ceil(reachable / size), 1) - 1
    backward = rules.paging is Paging.BACKWARD
    numbers = (
        range(last, rules.first_page, -1) if backward else range(rules.first_page + 1, last + 1)
    )
    p = _Pass(list(first.orders), 1)
    seen_totals = [total]
    for number in numbers:
        page = search(window, number, size)
        p.calls += 1
        p.orders.extend(page.orders)
        if page.total is not None:
            seen_totals.append(page.total)
    if backward and last > rules.first_page:
        # The first page was read first only to learn the total; orders on the page
        # after it may have shifted onto it since, so it is read again last.
        again = search(window, rules.first_page, size)
        p.calls += 1
        p.orders.extend(again.orders)
        if again.total is not None:
            seen_totals.append(again.total)
    # Paging backwards through newest-first results, an order leaving the window only
    # shifts others onto pages not yet read; one arriving late can hide one. Paging
    # forwards through oldest-first results, either can.
    if backward:
        p.steady = max(seen_totals) <= total
    else:
        p.steady = len(set(seen_totals)) == 1
    return p


def _linked(search: OrderSearch, window: Window, size: int) -> _Pass:
    page = search(window, None, size)
    p = _Pass(list(page.orders), 1)
    while page.next:
        page = search(window, page.next, size)
        p.calls += 1
        p.orders.extend(page.orders)
    return p
