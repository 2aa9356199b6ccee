"""The figures of one period and channel, read from the rollups (plus the latest unanswered questions and the
open tickets): the one summary ``/ops``, ``kefu report`` and ``--json`` share."""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from bot.insights.grouping import group_questions
from bot.insights.rollup import bucket_ms, day_of, hour_of
from bot.protocols import Encoder
from bot.sessions.sqlite import Database

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([hdw])\s*$")
_UNIT_S = {"h": 3600, "d": 86400, "w": 7 * 86400}
UNANSWERED_SAMPLE = 2000
"""The latest unanswered questions of the period that are grouped (bounds the work of one summary)."""


def parse_period(text: str) -> float:
    """Seconds in a period written ``24h``, ``7d`` or ``2w``; ``ValueError`` with the reason otherwise."""
    found = _DURATION.match(text or "")
    if not found or float(found.group(1)) <= 0:
        raise ValueError(f"period {text!r} is not a number of hours, days or weeks (24h, 7d, 2w)")
    return float(found.group(1)) * _UNIT_S[found.group(2)]


@dataclass(frozen=True, slots=True)
class Period:
    """From ``since`` to ``until`` (Unix seconds, counted by whole hours), one channel or all (None)."""

    since: float
    until: float
    channel: str | None = None

    @classmethod
    def last(cls, seconds: float, *, channel: str | None = None, now: float | None = None) -> Period:
        end = time.time() if now is None else now
        return cls(end - seconds, end, channel or None)

    @property
    def step_hours(self) -> int:
        """The width of one point of the time series: an hour up to two days, a day up to 62 days, else a week."""
        hours = (self.until - self.since) / 3600
        return 1 if hours <= 48 else 24 if hours <= 62 * 24 else 168

    def where(self, *, column: str = "hour") -> tuple[str, list[Any]]:
        """The SQL condition (and its values) selecting the period's rows by ``hour``, ``day`` or ``at``."""
        sql = f"{column} >= ? AND {column} <= ?"
        edges = {"hour": hour_of, "day": day_of}.get(column)
        values: list[Any] = [edges(self.since), edges(self.until)] if edges else [self.since, self.until]
        if self.channel:
            sql += " AND channel = ?"
            values.append(self.channel)
        return sql, values


def percentile(counts: dict[int, int], share: float) -> float | None:
    """The upper edge (ms) of the latency bucket holding the ``share`` quantile of ``counts`` (bucket → turns)."""
    total = sum(counts.values())
    if not total:
        return None
    rank, seen = share * total, 0
    for bucket in sorted(counts):
        seen += counts[bucket]
        if seen >= rank:
            return round(bucket_ms(bucket), 1)
    return round(bucket_ms(max(counts)), 1)


class Insights(Protocol):
    """Where the dashboard's figures come from (the SQLite store now; another store implements the same)."""

    async def summary(self, period: Period) -> dict[str, Any]:
        """Every figure of ``period`` (the JSON of docs/insights.md)."""
        ...


class SqliteInsights:
    """``Insights`` over the store's SQLite ``Database``; unanswered questions grouped by ``encoder`` when given."""

    def __init__(self, db: Database, *, encoder: Encoder | None = None) -> None:
        self.db = db
        self.encoder = encoder

    async def summary(self, period: Period) -> dict[str, Any]:
        return await summarize(self.db, period, encoder=self.encoder)


async def summarize(
    db: Database, period: Period, *, encoder: Encoder | None = None, now: float | None = None
) -> dict[str, Any]:
    """Every figure of the dashboard for ``period`` (a JSON-able dict; no user ids, questions masked)."""
    where, values = period.where()
    days, day_values = period.where(column="day")
    step = period.step_hours
    timeline = await db.fetch(
        f"SELECT (hour / {step}) * {step} AS b, SUM(turns) AS turns, SUM(conversations) AS conversations,"
        f" SUM(voice) AS voice, SUM(photo) AS photo FROM insight_hours WHERE {where} GROUP BY b ORDER BY b",
        values,
    )
    mix = await db.fetch(
        "SELECT intent, move, why, SUM(turns) AS turns, SUM(up) AS up, SUM(down) AS down FROM insight_mix"
        f" WHERE {days} GROUP BY intent, move, why",
        day_values,
    )
    latency = await db.fetch(f"SELECT stage, counts FROM insight_latency WHERE {days}", day_values)
    channels = await db.fetch("SELECT DISTINCT channel FROM insight_hours ORDER BY channel")
    at_where, at_values = period.where(column="at")
    asked = await db.fetch(
        f"SELECT question FROM turn_facts WHERE unanswered = 1 AND {at_where} ORDER BY at DESC LIMIT ?",
        [*at_values, UNANSWERED_SAMPLE],
    )
    questions = [row["question"] for row in asked]
    groups = await asyncio.to_thread(group_questions, questions, encoder=encoder)
    summary = _figures(mix, timeline)
    summary.update(
        period={"since": period.since, "until": period.until, "channel": period.channel, "step_hours": step},
        channels=[row["channel"] for row in channels],
        timeline=[
            {"at": row["b"] * 3600, "turns": row["turns"], "conversations": row["conversations"]} for row in timeline
        ],
        latency_ms=_latency(latency),
        unanswered={
            "sampled": len(questions),
            "grouping": "encoder" if encoder else "lexical",
            "groups": [group.to_json() for group in groups],
        },
        tickets=await _tickets(db, period.channel, time.time() if now is None else now),
    )
    return summary


def _figures(rows: Sequence[Any], timeline: Sequence[Any]) -> dict[str, Any]:
    """Totals, intent mix, moves and their reasons, 👍/👎 per intent, voice and photo share."""
    totals = {key: sum(point[key] for point in timeline) for key in ("turns", "conversations", "voice", "photo")}
    totals.update(up=sum(row["up"] for row in rows), down=sum(row["down"] for row in rows))
    mixed = sum(row["turns"] for row in rows)
    intents: dict[str, dict[str, int]] = defaultdict(lambda: {"turns": 0, "up": 0, "down": 0})
    moves: dict[str, dict[str, Any]] = defaultdict(lambda: {"turns": 0, "why": defaultdict(int)})
    for row in rows:
        intent = intents[row["intent"] or "none"]
        for key in ("turns", "up", "down"):
            intent[key] += row[key]
        moves[row["move"]]["turns"] += row["turns"]
        moves[row["move"]]["why"][row["why"]] += row["turns"]
    turns = totals["turns"]
    return {
        "mix_turns": mixed,
        "totals": totals,
        "intents": [
            {
                "intent": name,
                "turns": c["turns"],
                "share": _share(c["turns"], mixed),
                "up": c["up"],
                "down": c["down"],
                "helpful": _share(c["up"], c["up"] + c["down"]),
            }
            for name, c in sorted(intents.items(), key=lambda item: -item[1]["turns"])
        ],
        "moves": [
            {
                "move": name,
                "turns": m["turns"],
                "share": _share(m["turns"], mixed),
                "why": [{"why": w, "turns": n} for w, n in sorted(m["why"].items(), key=lambda item: -item[1])],
            }
            for name, m in sorted(moves.items(), key=lambda item: -item[1]["turns"])
        ],
        "media": {"voice_share": _share(totals["voice"], turns), "photo_share": _share(totals["photo"], turns)},
    }


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _latency(rows: Sequence[Any]) -> list[dict[str, Any]]:
    stages: dict[str, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    for row in rows:
        counts = stages[row["stage"]]
        for bucket, n in json.loads(row["counts"]).items():
            counts[int(bucket[1:])] += n
    return [
        {"stage": stage, "turns": sum(counts.values()), "p50": percentile(counts, 0.5), "p95": percentile(counts, 0.95)}
        for stage, counts in sorted(stages.items())
    ]


async def _tickets(db: Database, channel: str | None, now: float) -> dict[str, Any]:
    """Open and taken hand-off tickets (whatever their age) and how long the open ones have waited, in seconds."""
    exists = await db.fetch("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'tickets'")
    if not exists:
        return {"open": 0, "taken": 0, "waiting_s": {"mean": None, "max": None}}
    sql = "SELECT state, opened_at FROM tickets WHERE state IN ('open', 'taken')"
    rows = await db.fetch(sql + (" AND channel = ?" if channel else ""), [channel] if channel else [])
    waits = [now - row["opened_at"] for row in rows if row["state"] == "open"]
    return {
        "open": len(waits),
        "taken": sum(1 for row in rows if row["state"] == "taken"),
        "waiting_s": {
            "mean": round(sum(waits) / len(waits), 1) if waits else None,
            "max": round(max(waits), 1) if waits else None,
        },
    }
