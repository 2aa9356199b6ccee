"""``kefu bench dialogue``: what memory, actions and the SQLite store cost per turn, against the stateless pipeline.

Whole-turn latency on a shared CPU is noisy, so the report also gives the time each turn spent loading and
saving its session (measured inside the turn) and its share of the turn.

Both runs send the same scripted multi-turn conversations (order lookup in two turns, a policy question and a
follow-up, in English and Chinese), ``conversations`` at a time, over the same loaded engines.
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.app import open_dialogue
from bot.messages import ConversationRef, Message, Reply

if TYPE_CHECKING:
    from bot.actions.base import OrderBackend
    from bot.config import Settings
    from bot.pipeline import Pipeline

SCRIPTS = (
    ("where is my order?", "100234", "Can I return clothes I bought?", "and for shoes?"),
    ("我的快递到哪了", "100241", "衣服可以退货吗？", "那鞋子呢？"),
)


async def _drive(
    handle: Callable[[Message], Awaitable[Reply | None]], conversations: int, rounds: int, *, session_ms: list[float]
) -> list[float]:
    """Per-turn latencies (ms) of ``conversations`` concurrent scripted conversations, ``rounds`` times each.

    The time each reply spent loading and saving its session is appended to ``session_ms``.
    """
    latencies: list[float] = []

    async def one(n: int) -> None:
        script = SCRIPTS[n % len(SCRIPTS)]
        for round_ in range(rounds):
            ref = ConversationRef("bench", f"{n}-{round_}")
            for text in script:
                started = time.perf_counter()
                reply = await handle(Message(ref, f"user-{n}", text=text))
                latencies.append((time.perf_counter() - started) * 1000)
                if reply is not None and "session" in reply.timings_ms:
                    session_ms.append(reply.timings_ms["session"])

    await asyncio.gather(*(one(n) for n in range(conversations)))
    return latencies


def _summary(latencies: list[float], seconds: float) -> dict[str, float]:
    ordered = sorted(latencies)
    return {
        "turns": len(latencies),
        "turns_per_s": round(len(latencies) / seconds, 1),
        "mean_ms": round(statistics.fmean(latencies), 2),
        "p50_ms": round(ordered[len(ordered) // 2], 2),
        "p95_ms": round(ordered[int(len(ordered) * 0.95) - 1], 2),
    }


async def bench_dialogue(
    settings: Settings,
    make_pipeline: Callable[[OrderBackend], Pipeline],
    *,
    conversations: int = 16,
    rounds: int = 3,
    repeats: int = 3,
) -> dict[str, Any]:
    """Stateless ``pipeline.handle`` (baseline) vs ``Conversations.handle`` over it with a fresh SQLite store.

    The two alternate ``repeats`` times after a warm-up and each keeps its fastest run, so that load from other
    processes on a shared machine does not land on one side only. The pipeline (``make_pipeline(actions)``) is
    built once, over the order backend, and its engines are closed at the end.
    """
    runs: dict[str, list[dict[str, float]]] = {"stateless": [], "conversations_sqlite": []}
    with tempfile.TemporaryDirectory() as folder:
        store = settings.store.model_copy(update={"url": None})
        isolated = settings.model_copy(update={"data_dir": Path(folder), "store": store})
        dialogue = await open_dialogue(isolated, pipeline=make_pipeline)
        pipeline = dialogue.pipeline
        try:
            handlers = {"stateless": pipeline.handle, "conversations_sqlite": dialogue.conversations.handle}
            session_ms: list[float] = []
            for handle in handlers.values():
                await _drive(handle, conversations, 1, session_ms=[])  # warm-up: thread pools, lazy tokenizers
            for _ in range(repeats):
                for name, handle in handlers.items():
                    encoder = pipeline.engines.batchers[0].stats
                    batches, items = encoder.batches, encoder.items
                    started = time.perf_counter()
                    latencies = await _drive(handle, conversations, rounds, session_ms=session_ms)
                    result = _summary(latencies, time.perf_counter() - started)
                    result["encoder_batch_mean"] = round((encoder.items - items) / (encoder.batches - batches), 2)
                    runs[name].append(result)
        finally:
            await dialogue.aclose()
            await pipeline.engines.aclose()
    report: dict[str, Any] = {"conversations": conversations, "rounds": rounds, "repeats": repeats}
    for name, results in runs.items():
        report[name] = max(results, key=lambda result: result["turns_per_s"])
    base, stateful = report["stateless"], report["conversations_sqlite"]
    report["throughput_ratio"] = round(stateful["turns_per_s"] / base["turns_per_s"], 3)
    report["added_mean_ms"] = round(stateful["mean_ms"] - base["mean_ms"], 2)
    report["session_mean_ms"] = round(statistics.fmean(session_ms), 2)
    report["session_p95_ms"] = round(sorted(session_ms)[int(len(session_ms) * 0.95) - 1], 2)
    report["session_share"] = round(statistics.fmean(session_ms) / stateful["mean_ms"], 4)
    return report
