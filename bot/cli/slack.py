"""``kefu bench slack``: how fast the Slack adapter acknowledges events while the pipeline is busy, and how long
an event takes to become a ``chat.postMessage``, against the loopback fake Slack in one run.

The pipeline is a stand-in that holds each turn ``--work-ms`` (as retrieval and generation would), so the
acknowledgements are measured while turns are queued and running. The fake Slack and the event sender run in a
process of their own, so the figures are kefu's (its adapter, runtime and courier on one event loop), not the
fake's; ``--shared-loop`` puts them on kefu's loop instead.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import statistics
import time
from multiprocessing.connection import Connection
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
    shared_loop: Annotated[
        bool, typer.Option("--shared-loop", help="Run the fake Slack and the sender on kefu's event loop.")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Events/s acknowledged, ack p50/p95/p99 (goal: p99 < 100 ms while busy), event → chat.postMessage p50/p95,
    kefu's CPU time per event."""
    result = asyncio.run(
        run_bench(
            events=events,
            conversations=conversations,
            concurrency=concurrency,
            work_ms=work_ms,
            shared_loop=shared_loop,
        )
    )
    if as_json:
        print_json(result)
        return
    ack, reply = result["ack_ms"], result["reply_ms"]
    typer.echo(
        f"{result['events']} events over {result['conversations']} DMs, {result['concurrency']} in flight, "
        f"each turn {result['work_ms']:g} ms; the fake Slack on {result['fake']}"
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
    typer.echo(
        f"CPU: {result['cpu_ms_per_event']:.2f} ms per event, acknowledged and answered (kefu's process"
        f"{', the fake included' if shared_loop else ''}; steadier than the latencies on a busy machine)"
    )


def _summary(values: list[float]) -> dict[str, float]:
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    return {"p50": statistics.median(values), "p95": cuts[94], "p99": cuts[98], "max": max(values)}


async def run_bench(
    *, events: int, conversations: int, concurrency: int, work_ms: float, shared_loop: bool = False
) -> dict[str, Any]:
    """Run the measurement; returns the JSON shape ``kefu bench slack --json`` prints."""
    from aiohttp import web

    from adapters.slack import SlackAdapter
    from bot.messages import Message, Reply
    from bot.outbound import Channels
    from bot.runtime import Runtime

    async def busy_pipeline(message: Message) -> Reply:
        await asyncio.sleep(work_ms / 1000)
        return Reply(text=f"echo: {message.text}", notice=True)

    load = {"events": events, "conversations": conversations, "concurrency": concurrency, "work_ms": work_ms}
    async with _FakeHost(load, shared_loop=shared_loop) as fake:
        adapter = SlackAdapter(bot_token=fake.bot_token, signing_secret=fake.signing_secret, api_base=fake.base_url)
        channels = Channels()
        channels.add(adapter)
        runtime = Runtime(busy_pipeline, outbound=channels, queue_size=events)
        app = web.Application()
        app.add_routes(adapter.routes())
        runner = web.AppRunner(app, handle_signals=False, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        host, port = runner.addresses[0][:2]
        await adapter.start(runtime.dispatch)
        cpu_started = time.process_time()
        try:
            measured = await fake.run(f"http://{host}:{port}/slack/events")
            cpu_s = time.process_time() - cpu_started
        finally:
            await runtime.stop(drain_timeout_s=5)
            await adapter.stop()
            await runner.cleanup()
    ack = _summary(measured["acks"])
    return {
        **load,
        "fake": "kefu's loop" if shared_loop else "its own process",
        "acks_per_s": events / measured["acked_s"],
        "answers_per_s": events / measured["answered_s"],
        "ack_ms": ack,
        "reply_ms": _summary(measured["replies"]),
        "cpu_ms_per_event": cpu_s * 1000 / events,
        "goal_met": ack["p99"] < 100,
    }


class _FakeHandle:
    """The fake Slack and the event sender, here or in a child process: its tokens, then ``run(events_url)``."""

    def __init__(self, info: dict[str, str], run: Any) -> None:
        self.base_url, self.bot_token, self.signing_secret = info["base_url"], info["bot_token"], info["signing_secret"]
        self.run = run


class _FakeHost:
    """The fake's side of the bench: on this loop (``shared_loop``) or in a spawned process talked to over a pipe."""

    def __init__(self, load: dict[str, Any], *, shared_loop: bool) -> None:
        self.load, self.shared_loop = load, shared_loop
        self._fake: Any = None
        self._process: Any = None
        self._pipe: Connection | None = None

    async def __aenter__(self) -> _FakeHandle:
        if self.shared_loop:
            from adapters.testing.slack import FakeSlack

            self._fake = fake = await FakeSlack().start()

            async def run(events_url: str) -> dict[str, Any]:
                fake.events_url = events_url
                return await _drive(fake, **self.load)

            return _FakeHandle(_tokens(fake), run)
        context = multiprocessing.get_context("spawn")
        self._pipe, child = context.Pipe()
        self._process = context.Process(target=_child, args=(child, self.load), daemon=True)
        self._process.start()
        child.close()
        info = await _receive(self._pipe, timeout_s=60)

        async def run_there(events_url: str) -> dict[str, Any]:
            assert self._pipe is not None
            self._pipe.send(events_url)
            return await _receive(self._pipe, timeout_s=120 + self.load["events"] * self.load["work_ms"] / 1000)

        return _FakeHandle(info, run_there)

    async def __aexit__(self, *exc: object) -> None:
        if self._fake is not None:
            await self._fake.stop()
        if self._process is not None:
            await asyncio.to_thread(self._process.join, 10)
            if self._process.is_alive():
                self._process.kill()
        if self._pipe is not None:
            self._pipe.close()


def _tokens(fake: Any) -> dict[str, str]:
    return {"base_url": fake.base_url, "bot_token": fake.bot_token, "signing_secret": fake.signing_secret}


async def _receive(pipe: Connection, *, timeout_s: float) -> Any:
    """The child's next message; ``RuntimeError`` for its error or when it says nothing in ``timeout_s``."""
    if not await asyncio.to_thread(pipe.poll, timeout_s):
        raise RuntimeError(f"the fake Slack's process said nothing in {timeout_s:.0f} s")
    message = pipe.recv()
    if isinstance(message, dict) and "error" in message:
        raise RuntimeError(f"the fake Slack's process failed: {message['error']}")
    return message


def _child(pipe: Connection, load: dict[str, Any]) -> None:
    """The child process: serve the fake, send its tokens, wait for kefu's events URL, send the events, report."""

    async def main() -> None:
        from adapters.testing.slack import FakeSlack

        async with FakeSlack() as fake:
            pipe.send(_tokens(fake))
            if not await asyncio.to_thread(pipe.poll, 120):
                return
            fake.events_url = pipe.recv()
            pipe.send(await _drive(fake, **load))

    try:
        asyncio.run(main())
    except Exception as error:  # noqa: BLE001 - reported to the parent, which fails the bench with it
        pipe.send({"error": f"{type(error).__name__}: {error}"})
    finally:
        pipe.close()


async def _drive(fake: Any, *, events: int, conversations: int, concurrency: int, work_ms: float) -> dict[str, Any]:
    """Post the events, wait for every answer; ack times, event → answer times (ms), and how long both took (s)."""
    first = time.monotonic()
    acks, sent_at = await _post_events(fake, events=events, conversations=conversations, concurrency=concurrency)
    acked = time.monotonic()
    await fake.wait_until(lambda: len(fake.messages) >= events, timeout=60 + events * work_ms / 1000)
    answered = time.monotonic()
    replies = [(m.at - sent_at[m.body.removeprefix("echo: ")]) * 1000 for m in fake.messages]
    return {"acks": acks, "replies": replies, "acked_s": acked - first, "answered_s": answered - first}


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
