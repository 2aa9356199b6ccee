"""``kefu bench slack`` runs end to end against the fake and reports every event acknowledged and answered."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from bot.cli.groups import app


def test_bench_slack_json() -> None:
    result = CliRunner().invoke(
        app,
        ["bench", "slack", "--events", "20", "--conversations", "4", "--concurrency", "5", "--work-ms", "20", "--json"],
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["events"] == 20 and data["acks_per_s"] > 0 and data["answers_per_s"] > 0
    for summary in (data["ack_ms"], data["reply_ms"]):
        assert 0 < summary["p50"] <= summary["p95"] <= summary["p99"] <= summary["max"]
    assert data["reply_ms"]["p50"] >= 20, "an answer waits for its turn's work"
    assert data["goal_met"] == (data["ack_ms"]["p99"] < 100)
