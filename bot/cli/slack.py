"""``kefu bench slack``: how fast the Slack adapter acknowledges events while the pipeline is busy, and how long
an event takes to become a ``chat.postMessage``, against the loopback fake Slack in one run.

The pipeline is a stand-in that holds each turn ``--work-ms`` (as retrieval and generation would), so the
acknowledgements are measured while turns are queued and running.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from typing import Annotated, Any

import typer

from bot.cli.groups import bench_app
from bot.cli.kit import JsonOption, print_json


@bench_app.command("slack")
def bench_slack(
    events: Annotated[int, typer.Option("--events", min=10, help="Events posted to /slack/events.")] = 400,
    conversations: Annotated[int, typer.Option("--conversations", min=1, help="DMs the events are spread over.")] = 40,
    concurrency: Annotated[int, typer.Option("--concurrency", min=1, help="Events in flight at once.")] = 20,
    work_ms: Annotated[float, typer.Option("--work-ms", min=0, help="Time each turn holds the pipeline.")] = 200,
    as_json: JsonOption = False,
) -> None:
    """Events/s acknowledged, ack p50/p95/p99 (goal: p99 < 100 ms while busy), event → chat.postMessage p50/p95."""
    result = asyncio.run(
        run_bench(events=events, conversations=conversations, concurrency=concurrency, work_ms=work_ms)
    )
    if as_json:
        print_json(result)
        return
    ack, reply = result["ack_ms"], result["reply_ms"]
    typer.echo(
        f"{result['events']} events over {result['conversations']} DMs, {result['concurrency']} in flight, "
        f"each turn {result['work_ms']:g} ms"
    )
    typer.echo(
        f"acknowledged: {result['acks_per_s']:.0f} events/s; ack p50 {ack['p50']:.1f} ms, p95 "
        f"{ack['p95']:.1f} ms, p99 {ack['p99']:.1f} ms, max {ack['max']:.1f} ms "
        f"(goal p99 < 100 ms: {'met' if result['goal_met'] else 'MISSED'})"
    )
    typer.echo(
        f"answered: {result['answers_per_s']:.0f} events/s; event → chat.postMessage p50 "
        f"{reply['p50']:.0f} ms, p95 {reply['p95']:.0f} ms"
    )


def _summary(values: list[float]) -> dict[str, float]:
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    return {"p50": statistics.median(values), "p95": cuts[94], "p99": cuts[98], "max": max(values)}


async def run_bench(*, events: int, conversations: int, concurrency: int, work_ms: float) -> dict[str, Any]:
    """Run the measurement; returns the JSON shape ``kefu bench slack --json`` prints."""
    from aiohttp import web

    from adapters.slack import SlackAdapter
    from adapters.testing.slack import FakeSlack
    from bot.messages import Message, Reply
    from bot.outbound import Channels
    from bot.runtime import Runtime

    async def busy_pipeline(message: Message) -> Reply:
        await asyncio.sleep(work_ms / 1000)
        return Reply(text=f"echo: {message.text}", notice=True)

    async with FakeSlack() as fake:
        adapter = SlackAdapter(bot_token=fake.bot_token, signing_secret=fake.signing_secret, api_base=fake.base_url)
        channels = Channels()
        channels.add(adapter)
        runtime = Runtime(busy_pipeline, outbound=channels, queue_size=events)
        app = web.Application()
        app.add_routes(adapter.routes())
        fake.events_url = await fake.serve(app)
        await adapter.start(runtime.dispatch)
        try:
            acks, sent_at = await _post_events(
                fake, events=events, conversations=conversations, concurrency=concurrency
            )
            acked = time.monotonic()
            await fake.wait_until(lambda: len(fake.messages) >= events, timeout=60 + events * work_ms / 1000)
            answered = time.monotonic()
            replies = [(m.at - sent_at[m.body.removeprefix("echo: ")]) * 1000 for m in fake.messages]
        finally:
            await runtime.stop(drain_timeout_s=5)
            await adapter.stop()
    first = min(sent_at.values())
    ack = _summary(acks)
    return {
        "events": events,
        "conversations": conversations,
        "concurrency": concurrency,
        "work_ms": work_ms,
        "acks_per_s": events / (acked - first),
        "answers_per_s": events / (answered - first),
        "ack_ms": ack,
        "reply_ms": _summary(replies),
        "goal_met": ack["p99"] < 100,
    }


async def _post_events(
    fake: Any, *, events: int, conversations: int, concurrency: int
) -> tuple[list[float], dict[str, float]]:
    """Post ``events`` DMs, ``concurrency`` at a time; the ack times (ms) and when each text was sent."""
    slots = asyncio.Semaphore(concurrency)
    acks: list[float] = []
    sent_at: dict[str, float] = {}

    async def one(n: int) -> None:
        async with slots:
            said = f"m{n}"
            sent_at[said] = time.monotonic()
            delivery = await fake.user(f"U{n % conversations + 1:06d}").says(said)
            if delivery.status != 200:
                raise RuntimeError(f"event {n} was answered {delivery.status}: {delivery.body}")
            acks.append(delivery.elapsed_s * 1000)

    await asyncio.gather(*(one(n) for n in range(events)))
    return acks, sent_at
