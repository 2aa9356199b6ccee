"""The kb commands end to end through Typer: build, search, stats, eval retrieval, bench kb."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.cli import app
from tests.kb.conftest import cli_json

runner = CliRunner()


def test_build_search_and_stats(env: Path, small_sources: list[Path], monkeypatch: pytest.MonkeyPatch) -> None:
    out = env / "index"
    built = cli_json(["kb", "build", *map(str, small_sources), "--out", str(out), "--json"])
    assert built["chunks"] == 8 and built["encoder"] == "use-multilingual" and built["index"] == "flat"
    monkeypatch.setenv("KEFU_KB__PATH", str(out))
    found = cli_json(["kb", "search", "who pays return postage", "--k", "2", "--lang", "zh", "--json"])
    assert found["hits"][0]["id"].startswith("faq#") and len(found["hits"]) == 2
    assert {"id", "title", "score", "dense_score", "text", "source"} <= set(found["hits"][0])
    stats = cli_json(["kb", "stats", "--json"])
    assert stats["chunks"] == 8 and stats["sources"] == {"faq.json": 3, "policy.md": 3, "products.csv": 2}
    text = runner.invoke(app, ["kb", "search", "rain boots"])
    assert text.exit_code == 0 and "RB-1#en" in text.output


def test_eval_retrieval_on_configured_sources(
    env: Path, small_sources: list[Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KEFU_KB__PATH", str(small_sources[0].parent))
    questions = env / "q.jsonl"
    rows = [
        {"question": "how many days until my parcel arrives", "language": "en", "relevant": ["ship-time"]},
        {"question": "明天会下雨吗", "language": "zh", "relevant": []},
        {"question": "do you have waterproof boots", "language": "en", "relevant": ["RB-1#en"]},
        {"question": "who won the football match last night", "language": "en", "relevant": []},
    ]
    questions.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), encoding="utf-8")
    report = cli_json(["eval", "retrieval", str(questions), "--json"])
    assert report["questions"] == 2 and report["out_of_scope"] == 2
    assert set(report["modes"]) == {"dense", "bm25", "hybrid", "evidence"}
    assert report["modes"]["hybrid"]["recall@5"] == 1.0
    assert report["threshold"]["min_dense_score"] > 0
    assert len(list((env / "data" / "kb").glob("*/CURRENT"))) == 1  # the sources' own index in the data dir


def test_eval_rejects_labels_the_store_lacks(
    env: Path, small_sources: list[Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KEFU_KB__PATH", str(small_sources[0].parent))
    questions = env / "q.jsonl"
    questions.write_text(json.dumps({"question": "hi", "language": "en", "relevant": ["no-such-id"]}), encoding="utf-8")
    result = runner.invoke(app, ["eval", "retrieval", str(questions)])
    assert result.exit_code == 1 and "no-such-id" in result.output


def test_build_errors_name_the_file(env: Path) -> None:
    broken = env / "faq.csv"
    broken.write_text('question,answer\n"Hours?,9-6\n', encoding="utf-8")
    result = runner.invoke(app, ["kb", "build", str(broken), "--out", str(env / "index")])
    assert result.exit_code == 1 and "faq.csv" in result.output and "not valid CSV" in result.output


def test_bench_kb_tiny(env: Path) -> None:
    report = cli_json(
        ["bench", "kb", "--sizes", "1500", "--queries", "10", "--kinds", "ivf", "--sentences", "16", "--json"]
    )
    (size,) = report["sizes"]
    kinds = [row["kind"] for row in size["indexes"]]
    assert kinds == ["flat", "ivf"] and size["indexes"][0]["recall_at_10"] == 1.0
    assert all(row["p95_ms"] > 0 and row["qps"] > 0 for row in size["indexes"])
    assert report["encoder"]["batched_per_s"] > 0 and report["encoder"]["single_per_s"] > 0
