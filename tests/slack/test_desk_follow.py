"""The Slack desk as worker mode's front runs it (``follow_posts``): the workers open tickets and add the shoppers'
messages on the Redis desk, and the front's ``resync`` shows them in the hand-off channel, each once, through
restarts, a post begun before a crash, a post Slack refused, and two fronts looking at once."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path

import pytest

from adapters.slack.desk import MESSAGE_EVENT
from adapters.testing.slack import FakeSlack, SentMessage
from bot.app.desk import OneFollower
from bot.handoff.base import TicketState
from bot.handoff.redis import RedisDesk
from bot.sessions.base import Session, Turn
from bot.sessions.redis import RedisConnection, RedisSessionStore
from bot.workers.leases import Leases
from tests.slack.desk_harness import HANDOFF, SHOPPER, Desk, open_desk

ANA = "U0ANA"
Front = Callable[[], AbstractAsyncContextManager[Desk]]


@pytest.fixture
async def worker(redis_url: str) -> AsyncIterator[RedisDesk]:
    """A worker's desk: the Redis desk on its own connection, delivering nothing itself (the front delivers)."""
    connection = await RedisConnection.open(redis_url)
    yield RedisDesk(connection, RedisSessionStore(connection))
    await connection.close()


@pytest.fixture
def front(fake_slack: FakeSlack, tmp_path: Path, redis_url: str) -> Front:
    """Opens the front's desk (each time a fresh process: nothing kept in memory)."""

    @asynccontextmanager
    async def opened() -> AsyncIterator[Desk]:
        running = open_desk(fake_slack, tmp_path, operators=[ANA], redis_url=redis_url, follow_posts=True)
        try:
            yield await anext(running)
        finally:
            await running.aclose()  # type: ignore[attr-defined]

    return opened


async def escalate(worker: RedisDesk) -> int:
    """What a worker does on "I want to talk to a person": the session, then the ticket with the transcript."""
    await worker.sessions.save(Session(conversation=str(SHOPPER), user_id="4242"))
    ticket = await worker.open(
        conversation=SHOPPER,
        user_id="4242",
        reason="escalate: the shopper asked for a person",
        language="en",
        transcript=[Turn("user", "where is parcel 100258?", "order_status"), Turn("user", "a person please", "human")],
    )
    return ticket.id


def card(fake: FakeSlack) -> SentMessage:
    [shown] = [m for m in fake.messages_in(HANDOFF) if m.thread_ts is None and m.ephemeral_to is None]
    return shown


def thread(fake: FakeSlack) -> list[str]:
    """kefu's posts in the ticket's thread (the operators' own messages are Slack's, not kefu's)."""
    return [m.body for m in fake.messages_in(HANDOFF, thread_ts=card(fake).ts) if m.ephemeral_to is None]


async def test_tickets_and_messages_the_workers_add_are_shown_once_each(
    front: Front, worker: RedisDesk, fake_slack: FakeSlack
) -> None:
    async with front() as desk:
        ticket_id = await escalate(worker)
        await desk.front.resync(desk.record)
        assert "a person please" in card(fake_slack).body and thread(fake_slack) == []

        await worker.post(ticket_id, "how long does shipping take?", key="telegram:4242:7:user")
        await worker.post(ticket_id, "3-5 working days.", author="bot", key="telegram:4242:7:bot")
        await worker.post(ticket_id, "how long does shipping take?", key="telegram:4242:7:user")  # the turn again
        for _ in range(2):
            await desk.front.resync(desk.record)
        shown = thread(fake_slack)
        assert len(shown) == 2 and shown[0].endswith("how long does shipping take?") and "3-5" in shown[1]

        assert (await fake_slack.user(ANA).presses(card(fake_slack), "🙋 Take over")).status == 200
        assert "Taken" in card(fake_slack).context[-1]
        await fake_slack.user(ANA).says_in_channel(HANDOFF, "Ana here, checking.", thread_ts=card(fake_slack).ts)
        await desk.front.resync(desk.record)
        assert desk.delivered.texts() == ["A colleague has joined the conversation.", "Ana here, checking."]
        assert len(thread(fake_slack)) == 2, "the operator's reply is not repeated by kefu in the thread"

        await worker.post(ticket_id, "thank you!", key="telegram:4242:8:user")  # not yet seen by the front
        await fake_slack.user(ANA).presses(card(fake_slack), "✅ Resolve")
        assert thread(fake_slack)[-1].endswith("thank you!"), "what the shopper said before the resolve is shown"
        assert "Resolved" in card(fake_slack).context[-1] and card(fake_slack).buttons == []
        await desk.front.resync(desk.record)
        assert len(thread(fake_slack)) == 3 and await desk.links.following() == []
    assert len([c for c in fake_slack.calls_to("chat.postMessage") if "thread_ts" not in c.params]) == 1


async def test_a_restarted_front_catches_up_without_repeating_anything(
    front: Front, worker: RedisDesk, fake_slack: FakeSlack
) -> None:
    async with front() as desk:
        ticket_id = await escalate(worker)
        await worker.post(ticket_id, "hello?", key="k1")
        await desk.front.resync(desk.record)
        await worker.post(ticket_id, "anyone there?", key="k2")
        await desk.front.resync(desk.record)
    assert len(thread(fake_slack)) == 1, "a message added before the ticket was shown is in its transcript"
    await worker.post(ticket_id, "my parcel is late", key="k3")  # while no front runs
    await worker.take(ticket_id, operator="ana@terminal")  # `kefu handoff take` from a terminal
    await worker.post(ticket_id, "still waiting", key="k4")
    posts = len(fake_slack.calls_to("chat.postMessage"))

    async with front() as desk:
        await desk.front.resync(desk.record)
        await desk.front.resync(desk.record)
        said = ("anyone there?", "my parcel is late", "still waiting")
        shown = thread(fake_slack)
        assert len(shown) == 3 and all(line.endswith(text) for line, text in zip(shown, said, strict=True))
        assert len(fake_slack.calls_to("chat.postMessage")) == posts + 2, "only what was added while down"
        assert card(fake_slack).edits == 1 and "Taken" in card(fake_slack).context[-1]


async def test_a_post_begun_before_a_crash_is_looked_for_in_the_thread_first(
    front: Front, worker: RedisDesk, fake_slack: FakeSlack
) -> None:
    async with front() as desk:
        ticket_id = await escalate(worker)
        await desk.front.resync(desk.record)
        await worker.post(ticket_id, "posted, then kefu died", key="k1")
        await desk.front.resync(desk.record)
        index = len(await worker.messages(ticket_id)) - 1
        await desk.links.mark(ticket_id, f"message:{index}", "begun")  # the crash came before "shown" was noted
        await worker.post(ticket_id, "begun, never posted", key="k2")
        await desk.links.mark(ticket_id, f"message:{index + 1}", "begun")
    async with front() as desk:
        await desk.front.resync(desk.record)
        assert fake_slack.calls_to("conversations.replies"), "the thread was read for the post's metadata"
        shown = thread(fake_slack)
        assert len(shown) == 2 and shown[1].endswith("begun, never posted")
        assert await desk.links.showing(ticket_id, f"message:{index}") == "shown"
        await desk.front.resync(desk.record)
        assert len(thread(fake_slack)) == 2
    posts = [c.params for c in fake_slack.calls_to("chat.postMessage") if c.params.get("thread_ts")]
    assert all(p["metadata"]["event_type"] == MESSAGE_EVENT for p in posts), "each post carries its key"


async def test_a_thread_post_slack_refuses_is_made_at_the_next_look_in_order(
    front: Front, worker: RedisDesk, fake_slack: FakeSlack, caplog: pytest.LogCaptureFixture
) -> None:
    async with front() as desk:
        ticket_id = await escalate(worker)
        await desk.front.resync(desk.record)
        for n in range(3):
            await worker.post(ticket_id, f"message {n}", key=f"k{n}")
        fake_slack.fail_next("chat.postMessage", status=200, error="internal_error")
        await desk.front.resync(desk.record)
        assert thread(fake_slack) == [] and "thread is behind" in caplog.text
        await desk.front.resync(desk.record)
        shown = thread(fake_slack)
        assert len(shown) == 3 and all(line.endswith(f"message {n}") for n, line in enumerate(shown))
        assert (await desk.record.get(ticket_id)).state is TicketState.OPEN


async def test_of_two_fronts_one_at_a_time_follows_and_the_other_takes_over_when_it_stops(
    fake_slack: FakeSlack, tmp_path: Path, redis_url: str, worker: RedisDesk
) -> None:
    """Both fronts look at the desk after every message a worker adds; only the lease holder posts, and when it stops
    (giving the lease up) the other follows at its next look."""
    fronts = [
        open_desk(fake_slack, tmp_path, operators=[ANA], redis_url=redis_url, follow_posts=True) for _ in range(2)
    ]
    first, second = [await anext(running) for running in fronts]
    followers = [
        OneFollower(desk.front, Leases(desk.record.connection, owner=name, lease_s=30, kind="follower"))
        for desk, name in ((first, "front-a"), (second, "front-b"))
    ]
    other = 1  # the front left running at the end (set once the lease holder is known)
    try:
        ticket_id = await escalate(worker)
        for n in range(6):
            await asyncio.gather(*(follower.resync(worker) for follower in followers))
            await worker.post(ticket_id, f"message {n}", key=f"k{n}")
        await asyncio.gather(*(follower.resync(worker) for follower in followers))
        assert len(thread(fake_slack)) == 6 and len(fake_slack.calls_to("chat.postMessage")) == 7
        following = [bool(desk.front._followed) for desk in (first, second)]
        assert sorted(following) == [False, True], "only the front that took the lease followed"
        holder = following.index(True)
        other = 1 - holder

        await followers[holder].aclose()
        await fronts[holder].aclose()  # type: ignore[attr-defined]
        await worker.post(ticket_id, "after the first front stopped", key="k6")
        await followers[other].resync(worker)
        shown = thread(fake_slack)
        assert len(shown) == 7 and shown[-1].endswith("after the first front stopped")
    finally:
        await followers[other].aclose()
        await fronts[other].aclose()  # type: ignore[attr-defined]
