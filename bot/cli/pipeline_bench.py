"""``kefu bench pipeline``: throughput and per-stage latency with micro-batching on, and off as the baseline."""

from __future__ import annotations

import asyncio
import itertools
import time
from typing import Any

import numpy as np
import yaml

from bot.app import Components, build_pipeline, intents_file
from bot.config import Settings
from bot.messages import ConversationRef, Message

PERCENTILES = (50, 95, 99)


def bench_questions(settings: Settings) -> list[str]:
    """Shopper phrasings to replay: the examples of the configured intents file, every language."""
    data = yaml.safe_load(intents_file(settings).read_text(encoding="utf-8"))
    return [example for intent in data["intents"].values() for example in intent["examples"]]


async def run_load(
    settings: Settings,
    components: Components,
    *,
    questions: list[str],
    messages: int,
    concurrency: int,
    batch_size: int | None,
) -> dict[str, Any]:
    """Send ``messages`` turns from ``concurrency`` simultaneous conversations; timings per stage."""
    pipeline = build_pipeline(settings, components, batch_size=batch_size)
    texts = itertools.cycle(questions)
    jobs = [(n % concurrency, next(texts)) for n in range(messages)]
    timings: dict[str, list[float]] = {}
    queue: asyncio.Queue[tuple[int, str]] = asyncio.Queue()
    for job in jobs:
        queue.put_nowait(job)

    async def conversation_worker() -> None:
        while not queue.empty():
            conversation, text = queue.get_nowait()
            reply = await pipeline.handle(
                Message(conversation=ConversationRef("bench", str(conversation)), user_id="bench", text=text)
            )
            for stage, ms in reply.timings_ms.items():
                timings.setdefault(stage, []).append(ms)

    try:
        await pipeline.handle(Message(conversation=ConversationRef("bench", "warm-up"), user_id="b", text="hello"))
        started = time.perf_counter()
        await asyncio.gather(*(conversation_worker() for _ in range(concurrency)))
        wall = time.perf_counter() - started
    finally:
        await pipeline.engines.aclose()
    return {
        "batch_size": batch_size or settings.pipeline.batch_max_size,
        "messages": messages,
        "concurrency": concurrency,
        "wall_s": round(wall, 3),
        "throughput_msg_s": round(messages / wall, 1),
        "stages_ms": {
            stage: {f"p{p}": round(float(np.percentile(values, p)), 2) for p in PERCENTILES}
            for stage, values in timings.items()
        },
        "mean_batch": {b.name: round(b.stats.mean_size, 2) for b in pipeline.engines.batchers},
    }


async def bench_pipeline(
    settings: Settings, components: Components, *, messages: int, concurrency: int
) -> dict[str, Any]:
    """Both runs on the same loaded engines, batched first, then batch size 1, and their throughput ratio."""
    questions = bench_questions(settings)
    batched = await run_load(
        settings, components, questions=questions, messages=messages, concurrency=concurrency, batch_size=None
    )
    unbatched = await run_load(
        settings, components, questions=questions, messages=messages, concurrency=concurrency, batch_size=1
    )
    return {
        "batched": batched,
        "unbatched": unbatched,
        "throughput_ratio": round(batched["throughput_msg_s"] / unbatched["throughput_msg_s"], 2),
    }


def render_pipeline_report(report: dict[str, Any]) -> None:
    """The report as two tables on the terminal."""
    from rich.console import Console
    from rich.table import Table

    console = Console()
    for mode in ("batched", "unbatched"):
        run = report[mode]
        table = Table(
            title=f"{mode}: batch size {run['batch_size']}, {run['messages']} messages, "
            f"{run['concurrency']} conversations → {run['throughput_msg_s']} msg/s"
        )
        table.add_column("stage")
        for p in PERCENTILES:
            table.add_column(f"p{p} ms", justify="right")
        for stage, values in run["stages_ms"].items():
            table.add_row(stage, *(f"{values[f'p{p}']:.1f}" for p in PERCENTILES))
        console.print(table)
        console.print("mean batch: " + ", ".join(f"{k} {v}" for k, v in run["mean_batch"].items()))
    console.print(f"[bold]throughput batched / unbatched: {report['throughput_ratio']}×[/bold]")
