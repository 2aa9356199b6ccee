"""The summary of a period checked against counts computed here, straight from the facts that were written."""

from __future__ import annotations

import math
import random
import time
from collections import Counter, defaultdict

import pytest

from bot.insights.aggregate import Period, parse_period, summarize
from bot.insights.facts import TurnFact, digest, unanswered
from bot.insights.rollup import CONVERSATION_GAP_S
from bot.messages import ConversationRef
from bot.sessions.base import Session, Turn
from tests.insights.conftest import DAY, NOW, Store, Written, write_facts


def _expected_opens(written: list[Written]) -> list[bool]:
    last: dict[str, float] = {}
    opens = []
    for w in written:
        previous = last.get(w.conversation)
        opens.append(previous is None or w.fact.at - previous > CONVERSATION_GAP_S)
        last[w.conversation] = w.fact.at
    return opens


def _true_quantile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


async def test_summary_matches_counts_computed_from_the_facts(store: Store) -> None:
    written = await write_facts(store, count=600, seed=3)
    rng = random.Random(5)
    votes: dict[int, bool] = {}
    for i in rng.sample(range(len(written)), 120):
        for _ in range(rng.choice([1, 2])):  # a second press may change the vote
            votes[i] = rng.random() < 0.6
            assert await store.sessions.rate(written[i].conversation, written[i].reply, helpful=votes[i])
    since = (NOW // DAY - 6) * DAY  # a day boundary: hours and days select the same facts
    summary = await summarize(store.db, Period(since, NOW), now=NOW)

    opens = _expected_opens(written)
    inside = [(i, w) for i, w in enumerate(written) if w.fact.at >= since]
    assert summary["totals"]["turns"] == len(inside) > 0
    assert summary["totals"]["conversations"] == sum(opens[i] for i, _ in inside)
    assert summary["totals"]["voice"] == sum(w.fact.voice for _, w in inside)
    assert summary["totals"]["photo"] == sum(w.fact.photo for _, w in inside)
    assert summary["media"]["voice_share"] == round(summary["totals"]["voice"] / len(inside), 4)
    assert summary["totals"]["up"] == sum(1 for i, _ in inside if votes.get(i) is True)
    assert summary["totals"]["down"] == sum(1 for i, _ in inside if votes.get(i) is False)

    by_intent = Counter(w.fact.intent or "none" for _, w in inside)
    assert {i["intent"]: i["turns"] for i in summary["intents"]} == dict(by_intent)
    ups = Counter((w.fact.intent or "none") for i, w in inside if votes.get(i) is True)
    assert {i["intent"]: i["up"] for i in summary["intents"]} == {k: ups.get(k, 0) for k in by_intent}
    by_move = Counter(w.fact.move for _, w in inside)
    assert {m["move"]: m["turns"] for m in summary["moves"]} == dict(by_move)
    whys: dict[str, Counter[str]] = defaultdict(Counter)
    for _, w in inside:
        whys[w.fact.move][w.fact.why] += 1
    assert {m["move"]: {x["why"]: x["turns"] for x in m["why"]} for m in summary["moves"]} == whys
    assert sum(m["share"] for m in summary["moves"]) == pytest.approx(1.0, abs=1e-3)

    for stage in ("embed", "total"):
        figures = next(s for s in summary["latency_ms"] if s["stage"] == stage)
        values = [w.fact.timings_ms[stage] for _, w in inside]
        assert figures["turns"] == len(values)
        for key, share in (("p50", 0.5), ("p95", 0.95)):
            true = _true_quantile(values, share)
            assert true / 1.2 - 0.1 <= figures[key] <= true * 1.2 + 0.1  # a bucket's upper edge, 20 % wide

    missed = [w for _, w in inside if unanswered(w.fact.move, w.fact.why)]
    groups = summary["unanswered"]["groups"]
    assert summary["unanswered"]["sampled"] == len(missed)
    assert sum(g["count"] for g in groups) == len(missed)
    canada = next(g for g in groups if "canada" in g["question"].lower())
    assert canada["count"] == sum(1 for w in missed if "canada" in w.fact.question.lower())
    assert all("13912345678" not in g["question"] for g in groups)  # masked before it was written

    assert sum(p["turns"] for p in summary["timeline"]) == len(inside)
    assert summary["period"]["step_hours"] == 24


async def test_channel_filter_and_a_short_period(store: Store) -> None:
    written = await write_facts(store, count=300, seed=9, days=3)
    summary = await summarize(store.db, Period(NOW - 48 * 3600, NOW, "telegram"), now=NOW)
    first_hour = (NOW - 48 * 3600) // 3600
    inside = [w for w in written if w.fact.channel == "telegram" and w.fact.at // 3600 >= first_hour]
    assert summary["totals"]["turns"] == len(inside) > 0
    assert summary["period"]["step_hours"] == 1
    hourly = Counter(int(w.fact.at // 3600) * 3600 for w in inside)
    assert {p["at"]: p["turns"] for p in summary["timeline"]} == dict(hourly)
    assert summary["channels"] == ["telegram", "web"]


async def test_open_tickets_and_their_waiting_time(store: Store) -> None:
    started = time.time()
    for n in range(3):
        await store.desk.open(
            conversation=ConversationRef("web", f"t{n}"),
            user_id=f"u{n}",
            reason="escalate: x",
            language="en",
            transcript=[Turn("user", "help")],
        )
    await store.desk.take(2, operator="ana")
    summary = await summarize(store.db, Period.last(7 * DAY))
    tickets = summary["tickets"]
    assert (tickets["open"], tickets["taken"]) == (2, 1)
    assert 0 <= tickets["waiting_s"]["max"] <= time.time() - started + 0.1
    assert tickets["waiting_s"]["mean"] <= tickets["waiting_s"]["max"]


async def test_feedback_finds_the_rated_turn_or_the_latest_and_nothing_without_turns(store: Store) -> None:
    written = await write_facts(store, count=40, seed=1)
    w = written[-1]
    assert await store.sessions.rate(w.conversation, "a reply text never stored", helpful=False)
    rows = await store.db.fetch(
        "SELECT rating FROM turn_facts WHERE conversation = ? ORDER BY id DESC LIMIT 1", (digest(w.conversation),)
    )
    assert rows[0]["rating"] == -1
    assert not await store.sessions.rate("web:nobody", "hello", helpful=True)


async def test_forget_removes_a_shoppers_facts_and_purge_old_ones(store: Store) -> None:
    written = await write_facts(store, count=50, seed=2, days=200)
    target = written[0]
    await store.sessions.forget_user(f"user-{target.conversation}")
    left = await store.db.fetch(
        "SELECT COUNT(*) AS n FROM turn_facts WHERE conversation = ?", (digest(target.conversation),)
    )
    assert left[0]["n"] == 0
    await store.sessions.purge(older_than_days=10_000)  # relative to the real clock: NOW is in 2024
    rows = await store.db.fetch("SELECT COUNT(*) AS n FROM turn_facts")
    assert rows[0]["n"] == sum(1 for w in written if w.conversation != target.conversation)
    await store.sessions.purge(older_than_days=1)
    assert (await store.db.fetch("SELECT COUNT(*) AS n FROM turn_facts"))[0]["n"] == 0


async def test_a_store_written_before_insights_gains_the_tables_and_keeps_its_turns(tmp_path) -> None:
    import sqlite3

    from bot.sessions.sqlite import SqliteSessionStore

    path = tmp_path / "old.sqlite3"
    with sqlite3.connect(path) as old:
        old.executescript(
            "CREATE TABLE sessions (conversation TEXT PRIMARY KEY, user_id TEXT NOT NULL DEFAULT '', language TEXT,"
            " handoff TEXT NOT NULL DEFAULT 'bot', ticket_id INTEGER, slots TEXT NOT NULL DEFAULT '{}',"
            " counters TEXT NOT NULL DEFAULT '{}', updated_at REAL NOT NULL);"
            "CREATE TABLE turns (id INTEGER PRIMARY KEY AUTOINCREMENT, conversation TEXT NOT NULL, role TEXT NOT NULL,"
            " text TEXT NOT NULL, intent TEXT, at REAL NOT NULL);"
            "INSERT INTO sessions (conversation, updated_at) VALUES ('web:old', 1.0);"
            "INSERT INTO turns (conversation, role, text, intent, at)"
            " VALUES ('web:old', 'user', 'hi', 'greeting', 1.0);"
        )
    store = await SqliteSessionStore.open(path)
    try:
        session = await store.load("web:old")
        assert [t.text for t in session.history] == ["hi"]
        fact = TurnFact(channel="web", conversation=digest("web:old"), move="greet", at=NOW)
        await store.save(Session(conversation="web:old"), fact=fact)
        summary = await summarize(store.db, Period(NOW - DAY, NOW), now=NOW)
        assert summary["totals"]["turns"] == 1
    finally:
        await store.close()


@pytest.mark.parametrize("text", ["", "7", "-1d", "0h", "3 months", "1.5x", "d7"])
def test_bad_periods_are_refused_with_the_reason(text: str) -> None:
    with pytest.raises(ValueError, match="hours, days or weeks"):
        parse_period(text)


def test_periods_parse() -> None:
    assert parse_period("24h") == parse_period("1d") == DAY
    assert parse_period(" 2w ") == 14 * DAY
