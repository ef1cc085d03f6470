"""The pull engine against a platform that keeps changing while it is paged.

A fake platform holds orders with modified times and answers searches the way each
paging rule describes (newest first for backward paging, oldest first for forward
paging, keyset links for linked paging). While a pull pages, orders are modified: each
then leaves the window being read. Whatever the stream, every order must arrive in its
final state, and the inbox (a set keyed by order and modified time) must hold no copy
twice.
"""

from __future__ import annotations

import itertools
import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from orderhub.connectors.base import PulledOrder
from orderhub.connectors.kit.pull import Page, Paging, PullRules, Window, pull_windows
from orderhub.connectors.registry import channel_connector

T0 = datetime(2026, 11, 1, tzinfo=UTC)


def _rules(platform: str, settings: dict[str, Any]) -> PullRules:
    """The rules the channel's own connector gives the engine (a page cap set where the
    platform's is not published, so that windows get split too)."""
    channel = channel_connector(platform, {"base_url": "http://127.0.0.1:9", **settings})
    try:
        return channel.pull_rules
    finally:
        channel.close()


CHANNELS = {
    "taobao": _rules(
        "taobao",
        {"app_key": "k", "app_secret": "s", "session": "x", "page_size": 40, "page_cap": 400},
    ),
    "pdd": _rules("pdd", {"client_id": "c", "client_secret": "s", "access_token": "t"}),
    "jd": _rules("jd", {"app_key": "k", "app_secret": "s", "access_token": "t", "page_size": 20}),
    "douyin": _rules(
        "douyin",
        {"app_key": "k", "app_secret": "s", "access_token": "t", "page_size": 30, "page_cap": 300},
    ),
    "shopify": _rules("shopify", {"access_token": "t", "webhook_secret": "s", "page_size": 50}),
}


@dataclass
class FakePlatform:
    """Orders by id with their modified time; `clock` moves on with every call."""

    paging: Paging
    page_cap: int | None
    first_page: int = 1
    orders: dict[str, datetime] = field(default_factory=dict)
    clock: datetime = T0
    churn: float = 0.0
    rng: random.Random = field(default_factory=random.Random)
    calls: int = 0

    def search(self, window: Window, page: int | str | None, size: int) -> Page:
        self.calls += 1
        self.clock += timedelta(milliseconds=10)
        inside = sorted(
            o for o, moment in self.orders.items() if window.start <= moment <= window.end
        )
        if inside and self.rng.random() < self.churn:
            # A buyer or the seller changes an order of this window while it is paged.
            self.orders[self.rng.choice(inside)] = self.clock
        found = sorted(
            (
                (moment, order_id)
                for order_id, moment in self.orders.items()
                if window.start <= moment <= window.end
            ),
            reverse=self.paging is Paging.BACKWARD,
        )
        if self.paging is Paging.LINKED:
            after = str(page or "")
            chosen = [x for x in found if f"{x[0].isoformat()}|{x[1]}" > after][:size]
            following = (
                f"{chosen[-1][0].isoformat()}|{chosen[-1][1]}" if len(chosen) == size else None
            )
            return Page(self._pulled(chosen), next=following)
        assert isinstance(page, int)
        start = (page - self.first_page) * size
        if self.page_cap is not None and start >= self.page_cap:
            raise AssertionError("a page past the platform's cap was asked for")
        return Page(self._pulled(found[start : start + size]), total=len(found))

    @staticmethod
    def _pulled(rows: list[tuple[datetime, str]]) -> list[PulledOrder]:
        return [
            PulledOrder(order_id, moment.isoformat(), {"id": order_id}) for moment, order_id in rows
        ]


def run_pull(
    platform: FakePlatform, rules: PullRules, cursor: datetime | None
) -> tuple[set[tuple[str, str]], datetime | None, int]:
    """Pull up to the platform's clock; store each window, then move the cursor."""
    inbox: set[tuple[str, str]] = set()
    repeats = 0
    for pulled in pull_windows(
        platform.search, rules, cursor=cursor, now=platform.clock, first_start=T0
    ):
        for order in pulled.orders:
            key = (order.channel_order_id, order.updated_at)
            repeats += key in inbox
            inbox.add(key)
        cursor = pulled.end
    return inbox, cursor, repeats


@settings(max_examples=200, deadline=None)
@given(
    channel=st.sampled_from(sorted(CHANNELS)),
    count=st.integers(min_value=0, max_value=600),
    churn=st.sampled_from([0.0, 0.2, 0.6]),
    seed=st.integers(0, 2**16),
)
def test_every_order_arrives_in_its_final_state_through_any_channels_engine(
    channel: str, count: int, churn: float, seed: int
) -> None:
    rules = CHANNELS[channel]
    platform = FakePlatform(
        rules.paging, rules.page_cap, rules.first_page, churn=churn, rng=random.Random(seed)
    )
    spread = random.Random(seed)
    for n in range(count):
        platform.orders[f"o{n}"] = T0 + timedelta(seconds=spread.randint(0, 3 * 24 * 3600))
    platform.clock = T0 + timedelta(days=3, hours=1)

    stored, cursor, _ = run_pull(platform, rules, None)
    platform.churn = 0.0
    platform.clock += timedelta(hours=2)
    later, _, _ = run_pull(platform, rules, cursor)
    stored |= later

    final = {(order_id, moment.isoformat()) for order_id, moment in platform.orders.items()}
    assert final <= stored, sorted(final - stored)[:5]


def test_a_window_over_the_page_cap_is_split_until_each_half_fits() -> None:
    rules = CHANNELS["taobao"]
    platform = FakePlatform(rules.paging, rules.page_cap)
    for n in range(1500):
        platform.orders[f"o{n}"] = T0 + timedelta(seconds=n * 50)
    platform.clock = T0 + timedelta(days=1)
    pulled = list(
        pull_windows(platform.search, rules, cursor=None, now=platform.clock, first_start=T0)
    )
    assert all(part.split for part in pulled)
    assert all(len({o.channel_order_id for o in part.orders}) <= 400 for part in pulled)
    assert {o.channel_order_id for part in pulled for o in part.orders} == set(platform.orders)


def test_windows_are_no_longer_than_the_platform_allows_and_overlap_the_cursor() -> None:
    rules = CHANNELS["pdd"]
    platform = FakePlatform(rules.paging, rules.page_cap)
    platform.clock = now = T0 + timedelta(hours=5)
    cursor = T0 + timedelta(hours=3)
    spans = [
        part.window
        for part in pull_windows(
            platform.search, rules, cursor=cursor, now=platform.clock, first_start=T0
        )
    ]
    assert spans[0].start == cursor - rules.overlap
    assert spans[-1].end == now
    assert all(w.end - w.start <= timedelta(minutes=30) for w in spans)
    assert all(a.end == b.start for a, b in itertools.pairwise(spans))


def test_a_backward_window_reads_its_last_page_first() -> None:
    rules = CHANNELS["pdd"]
    asked: list[int | str | None] = []
    platform = FakePlatform(rules.paging, None)
    for n in range(250):
        platform.orders[f"o{n}"] = T0 + timedelta(seconds=n)
    platform.clock = T0 + timedelta(minutes=20)

    def search(window: Window, page: int | str | None, size: int) -> Page:
        asked.append(page)
        return platform.search(window, page, size)

    list(pull_windows(search, rules, cursor=None, now=platform.clock, first_start=T0))
    assert asked == [1, 3, 2, 1]
