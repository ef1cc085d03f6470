"""An alert says where it went: written to the log only, or also sent by webhook or email."""

from __future__ import annotations

from collections.abc import Sequence

from orderhub.domain.alerts import Alert
from orderhub.services.alerts import LogNotifier, alert_list, raise_alert, send_digest
from orderhub.services.hub import Hub


class Mailbox:
    channel = "email"

    def __init__(self) -> None:
        self.sent: list[list[Alert]] = []

    def send(self, alerts: Sequence[Alert]) -> None:
        self.sent.append(list(alerts))


def test_an_alert_only_logged_says_so_and_one_emailed_says_that(hub: Hub) -> None:
    with hub.uow() as uow:
        raise_alert(uow, Alert("low_stock", "low:SKU-1", "SKU-1 is low"))
        uow.commit()
    assert send_digest(hub) == 1  # no webhook or mail server configured
    [logged] = alert_list(hub)
    assert logged.sent_via == "log" and logged.sent_at is not None

    with hub.uow() as uow:
        raise_alert(uow, Alert("job_dead", "dead:push", "pushes gave up"))
        uow.commit()
    mailbox = Mailbox()
    assert send_digest(hub, via=[LogNotifier(), mailbox]) == 1
    emailed = next(a for a in alert_list(hub) if a.kind == "job_dead")
    assert emailed.sent_via == "log, email" and len(mailbox.sent) == 1
