"""``kefu bench insights`` on small sizes: one row per size, the store grown in between (figures not asserted)."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from bot.cli import app


def test_bench_insights_reports_each_size() -> None:
    result = CliRunner().invoke(app, ["bench", "insights", "--sizes", "3000,1000", "--json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    assert [row["turns"] for row in rows] == [1000, 3000]
    assert all(row["summary_ms"] > 0 and row["scan_ms"] > 0 and row["rollup_rows"] > 0 for row in rows)


def test_bad_sizes_exit_2() -> None:
    for sizes in ("many", "0", ""):
        result = CliRunner().invoke(app, ["bench", "insights", "--sizes", sizes])
        assert result.exit_code == 2 and "error:" in result.output
