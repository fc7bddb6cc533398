"""Digests and surge alerts as the service sends them: written by the NoticeService into
the outbox, then sent by the one sender (the Deliverer) to the fake Bot API."""

from __future__ import annotations

from bot.alerts.deliver import Deliverer, DeliveryPolicy
from bot.alerts.senders import Sender
from bot.digests.service import NoticeService
from tests.fakes.alert_world import translate


class SendingNotices:
    """A NoticeService whose `tick` also sends what it queued."""

    def __init__(self, service: NoticeService, deliverer: Deliverer) -> None:
        self.service = service
        self.deliverer = deliverer

    async def tick(self) -> int:
        written = await self.service.tick()
        await self.deliverer.drain()
        return written

    def __getattr__(self, name: str):
        return getattr(self.service, name)


def sending_notices(db, sender: Sender, *args, **options) -> SendingNotices:
    deliverer = Deliverer(db, sender, translate,
                          policy=DeliveryPolicy(poll_interval=0.02, retry_base=0.02))
    return SendingNotices(NoticeService(db, *args, on_queued=deliverer.notify, **options),
                          deliverer)
