"""``kefu bench slack`` runs end to end against the fake and reports every event acknowledged and answered."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from bot.cli.groups import app

SMALL = ("--events", "20", "--conversations", "4", "--concurrency", "5", "--work-ms", "20", "--json")


def bench(*options: str) -> dict:
    result = CliRunner().invoke(app, ["bench", "slack", *SMALL, *options])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def check(data: dict) -> None:
    assert data["events"] == 20 and data["acks_per_s"] > 0 and data["answers_per_s"] > 0
    for summary in (data["ack_ms"], data["reply_ms"]):
        assert 0 < summary["p50"] <= summary["p95"] <= summary["p99"] <= summary["max"]
    assert data["reply_ms"]["p50"] >= 20, "an answer waits for its turn's work"
    assert data["goal_met"] == (data["ack_ms"]["p99"] < 100)
    assert data["cpu_ms_per_event"] > 0


def test_bench_slack_json_with_the_fake_on_kefus_loop() -> None:
    data = bench("--shared-loop")
    check(data)
    assert data["fake"] == "kefu's loop"


@pytest.mark.slow
def test_bench_slack_json_with_the_fake_in_its_own_process() -> None:
    data = bench()
    check(data)
    assert data["fake"] == "its own process"
