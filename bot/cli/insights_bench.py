"""``kefu bench insights``: synthetic turn facts (made for the bench only) grown to each size in one temporary
store; at each size the dashboard's summary over all of them, from the rollups, against the baseline of the same
mix and latency figures scanned from ``turn_facts``. Best of three runs each."""

from __future__ import annotations

import random
import tempfile
import time
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

from bot.insights import rollup
from bot.insights.aggregate import Period, summarize
from bot.insights.facts import TurnFact, digest, unanswered
from bot.sessions.sqlite import Database

SPAN_S = 90 * 86400
_CHANNELS = ("web", "telegram", "slack")
_INTENTS = ("order_status", "shipping", "return_refund", "payment", "product", "greeting", "complaint", "other", "")
_MOVES = (
    ("answer", "passage relevance # >= #"),
    ("act", "order status asked"),
    ("clarify", "low confidence"),
    ("escalate", "no passage good enough for an in-scope question"),
    ("greet", "intent greeting"),
    ("decline", "out of scope"),
    ("escalate", "the shopper asked for a person"),
)
_TOPICS = (
    "gift wrapping",
    "international shipping",
    "a size chart",
    "store pickup",
    "a student discount",
    "pre-orders",
    "the warranty",
    "cash on delivery",
    "bulk orders",
    "a price match",
)
_STAGES = ("understand", "embed", "intent", "retrieve", "decide", "generate", "total")


def synthetic_facts(count: int, *, seed: int, now: float) -> list[tuple[TurnFact, bool]]:
    """``count`` made-up facts over the last 90 days, each with whether it opens a conversation (one in five)."""
    rng = random.Random(seed)
    rows = []
    for _ in range(count):
        move, why = rng.choice(_MOVES)
        fact = TurnFact(
            channel=rng.choice(_CHANNELS),
            conversation=digest(str(rng.randrange(count // 5 + 1))),
            move=move,
            why=why,
            reason=why,
            intent=rng.choice(_INTENTS),
            language=rng.choice(("en", "zh")),
            voice=rng.random() < 0.1,
            photo=rng.random() < 0.05,
            question=f"do you offer {rng.choice(_TOPICS)}?" if unanswered(move, why) else "",
            timings_ms={stage: rng.lognormvariate(3, 1) for stage in _STAGES},
            at=now - rng.random() * SPAN_S,
        )
        rows.append((fact, rng.random() < 0.2))
    return rows


async def _best(work: Callable[[], Awaitable[Any]], runs: int = 3) -> float:
    best = float("inf")
    for _ in range(runs):
        started = time.perf_counter()
        await work()
        best = min(best, time.perf_counter() - started)
    return best * 1000


async def _scan(db: Database, period: Period) -> None:
    """The baseline: the mix and the latency read from every fact of the period."""
    await db.fetch(
        "SELECT intent, move, why, COUNT(*), SUM(opens), SUM(voice), SUM(photo) FROM turn_facts"
        " WHERE at >= ? AND at <= ? GROUP BY intent, move, why",
        (period.since, period.until),
    )
    await db.fetch("SELECT timings FROM turn_facts WHERE at >= ? AND at <= ?", (period.since, period.until))


async def run_bench(sizes: Sequence[int], *, seed: int = 7) -> list[dict[str, Any]]:
    """One row per size: turns, summary_ms, scan_ms, rollup_rows, write_s (time to add that size's new facts)."""
    now = time.time()
    period = Period(now - SPAN_S - 3600, now)
    results: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="kefu-bench-insights-") as folder:
        db = await Database.open(Path(folder) / "insights.sqlite3")
        try:
            async with db.transaction() as c:
                await rollup.setup(c)
            written = 0
            for size in sizes:
                started = time.perf_counter()
                for chunk in range(written, size, 50_000):
                    rows = synthetic_facts(min(50_000, size - chunk), seed=seed + chunk, now=now)
                    async with db.transaction() as c:
                        await rollup.write_many(c, rows)
                written = size
                write_s = time.perf_counter() - started
                summary_ms = await _best(lambda: summarize(db, period, now=now))
                scan_ms = await _best(lambda: _scan(db, period))
                count = (
                    await db.fetch(
                        "SELECT (SELECT COUNT(*) FROM insight_hours) + (SELECT COUNT(*) FROM insight_mix)"
                        " + (SELECT COUNT(*) FROM insight_latency) AS n"
                    )
                )[0]["n"]
                results.append(
                    {
                        "turns": size,
                        "summary_ms": round(summary_ms, 1),
                        "scan_ms": round(scan_ms, 1),
                        "rollup_rows": count,
                        "write_s": round(write_s, 1),
                    }
                )
        finally:
            await db.close()
    return results
