"""``kefu bench telegram`` runs end to end and its rate-limit check sees 1 message/s per chat."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from bot.cli.groups import app


@pytest.mark.slow  # a benchmark run
def test_bench_telegram_json() -> None:
    result = CliRunner().invoke(
        app, ["bench", "telegram", "--updates", "10", "--chats", "2", "--samples", "5", "--burst", "2", "--json"]
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert set(data["modes"]) == {"polling", "webhook"}
    for row in data["modes"].values():
        assert row["updates_per_s"] > 0 and row["p95_ms"] >= row["p50_ms"] > 0
        assert row["added_p50_ms"] == row["p50_ms"] - data["baseline"]["p50_ms"]
    assert data["rate_limit"]["replies"] == 2 and data["rate_limit"]["held"] is True
