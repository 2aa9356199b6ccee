"""``kefu bench telegram``: throughput and added latency of the Telegram adapter against the loopback fake.

The baseline is the same trivial pipeline called directly in the same run; the adapter's cost is what
the real aiogram client, the fake Bot API's HTTP round trips and the outbox add on top of it.
"""

from __future__ import annotations

import asyncio
import functools
import itertools
import json
import statistics
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Annotated, Any

import typer

from bot.cli.groups import bench_app

if TYPE_CHECKING:
    from adapters.telegram import TelegramAdapter
    from adapters.testing.telegram import FakeTelegram
    from bot.messages import Message, Reply


@bench_app.command("telegram")
def bench_telegram(
    updates: Annotated[int, typer.Option("--updates", min=10, help="Updates per throughput run.")] = 300,
    chats: Annotated[int, typer.Option("--chats", min=1, help="Chats the updates are spread over.")] = 30,
    samples: Annotated[int, typer.Option("--samples", min=5, help="One-at-a-time messages for latency.")] = 60,
    burst: Annotated[int, typer.Option("--burst", min=2, help="Replies burst into one chat (rate limit check).")] = 4,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """Updates/s and added latency (p50/p95) through adapter + fake vs the pipeline alone; 1 msg/s per chat."""
    result = asyncio.run(run_bench(updates=updates, chats=chats, samples=samples, burst=burst))
    if as_json:
        typer.echo(json.dumps(result, indent=2))
        return
    base = result["baseline"]
    typer.echo(
        f"baseline (pipeline called directly): {base['updates_per_s']:.0f} updates/s, "
        f"p50 {base['p50_ms']:.3f} ms, p95 {base['p95_ms']:.3f} ms"
    )
    for mode, row in result["modes"].items():
        typer.echo(
            f"{mode:8s}: {row['updates_per_s']:.0f} updates/s ({row['slowdown']:.0f}x slower than baseline); "
            f"end-to-end p50 {row['p50_ms']:.2f} ms, p95 {row['p95_ms']:.2f} ms; added p50 "
            f"{row['added_p50_ms']:.2f} ms, p95 {row['added_p95_ms']:.2f} ms"
        )
    limit = result["rate_limit"]
    typer.echo(
        f"rate limit: {limit['replies']} replies burst into one chat arrived over {limit['span_s']:.2f} s, "
        f"smallest gap {limit['min_gap_s']:.3f} s (limit 1/s: {'held' if limit['held'] else 'BROKEN'})"
    )


async def _answer(message: Message) -> Reply:
    """The trivial pipeline: echo the text."""
    from bot.messages import Reply

    return Reply(text=f"echo: {message.text}")


def _percentiles(values: list[float]) -> tuple[float, float]:
    cuts = statistics.quantiles(values, n=20, method="inclusive")
    return statistics.median(values), cuts[18]


async def run_bench(*, updates: int, chats: int, samples: int, burst: int) -> dict[str, Any]:
    """Run every measurement; returns the JSON shape ``kefu bench telegram --json`` prints."""
    from bot.messages import ConversationRef, Message

    direct: list[float] = []
    started = time.perf_counter()
    for i in range(max(updates, samples)):
        t0 = time.perf_counter()
        await _answer(Message(conversation=ConversationRef("telegram", str(i % chats + 1)), user_id="1", text=f"m{i}"))
        direct.append((time.perf_counter() - t0) * 1000)
    base_rate = len(direct) / (time.perf_counter() - started)
    base_p50, base_p95 = _percentiles(direct)
    modes = {
        mode: await _bench_mode(mode, updates=updates, chats=chats, samples=samples) for mode in ("polling", "webhook")
    }
    for row in modes.values():
        row["added_p50_ms"] = row["p50_ms"] - base_p50
        row["added_p95_ms"] = row["p95_ms"] - base_p95
        row["slowdown"] = base_rate / row["updates_per_s"]
    return {
        "baseline": {"updates_per_s": base_rate, "p50_ms": base_p50, "p95_ms": base_p95},
        "modes": modes,
        "rate_limit": await _bench_rate_limit(burst),
    }


async def _bench_mode(mode: str, *, updates: int, chats: int, samples: int) -> dict[str, Any]:
    """Throughput (updates spread over chats, Telegram's limits lifted) and one-at-a-time latency."""
    from adapters.telegram import RateLimiter

    async with _Running(mode, RateLimiter(per_chat_interval_s=0, global_per_second=10**9)) as (fake, _):
        latencies = []
        for i in range(samples):
            t0 = time.monotonic()
            fake.user(10**6 + i).says(f"latency {i}")
            [reply] = await fake.wait_for_messages(10**6 + i, 1)
            latencies.append((reply.at - t0) * 1000)
        t0 = time.monotonic()
        for i in range(updates):
            fake.user(i % chats + 1).says(f"update {i}")
        for chat in range(1, chats + 1):
            await fake.wait_for_messages(chat, len(range(chat - 1, updates, chats)), timeout=60)
        elapsed = time.monotonic() - t0
    p50, p95 = _percentiles(latencies)
    return {"updates_per_s": updates / elapsed, "p50_ms": p50, "p95_ms": p95}


async def _bench_rate_limit(burst: int) -> dict[str, Any]:
    """A burst of replies into one chat with Telegram's real limits: they must arrive at least 1 s apart."""
    from adapters.telegram import RateLimiter
    from bot.messages import ConversationRef, Reply

    async with _Running("polling", RateLimiter()) as (fake, adapter):
        chat = ConversationRef("telegram", "777")
        await asyncio.gather(*(adapter.send(chat, Reply(text=f"burst {i}")) for i in range(burst)))
        times = [m.at for m in fake.sent_to(777)]
    gaps = [b - a for a, b in itertools.pairwise(times)]
    return {"replies": len(times), "span_s": times[-1] - times[0], "min_gap_s": min(gaps), "held": min(gaps) >= 0.95}


class _Running:
    """Fake Telegram + a started adapter in ``mode`` + a per-chat ordered runtime around ``_answer``."""

    def __init__(self, mode: str, limiter: Any) -> None:
        self.mode = mode
        self.limiter = limiter
        self._stack: list[Callable[[], Awaitable[Any]]] = []

    async def __aenter__(self) -> tuple[FakeTelegram, TelegramAdapter]:
        from aiohttp import web

        from adapters.telegram import WEBHOOK_PATH, TelegramAdapter
        from adapters.testing.telegram import FakeTelegram

        fake = await FakeTelegram().start()
        self._stack.append(fake.stop)
        options: dict[str, Any] = {}
        runner: web.AppRunner | None = None
        if self.mode == "webhook":
            runner = web.AppRunner(web.Application(), handle_signals=False)
            options = {"webhook_secret": "bench-secret"}
        queues: dict[str, asyncio.Queue[Message]] = {}

        async def work(queue: asyncio.Queue[Message]) -> None:
            while True:
                message = await queue.get()
                await adapter.send(message.conversation, await _answer(message))

        async def dispatch(message: Message) -> bool:
            key = message.conversation.conversation_id
            if key not in queues:
                queues[key] = asyncio.Queue()
                task = asyncio.create_task(work(queues[key]))
                self._stack.append(functools.partial(_cancel, task))
            await queues[key].put(message)
            return True

        if runner is not None:
            import socket

            sock = socket.socket()
            sock.bind(("127.0.0.1", 0))
            options["webhook_url"] = f"http://127.0.0.1:{sock.getsockname()[1]}{WEBHOOK_PATH}"
        adapter = TelegramAdapter(
            token=fake.token,
            api_base=fake.base_url,
            mode=self.mode,  # type: ignore[arg-type]
            rate_limiter=self.limiter,
            polling_timeout_s=1,
            **options,
        )
        if runner is not None:
            runner.app.add_routes(adapter.routes())
            await runner.setup()
            await web.SockSite(runner, sock).start()
            self._stack.append(runner.cleanup)
        await adapter.start(dispatch)
        self._stack.append(adapter.stop)
        return fake, adapter

    async def __aexit__(self, *exc: object) -> None:
        while self._stack:
            await self._stack.pop()()


async def _cancel(task: asyncio.Task[None]) -> None:
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
