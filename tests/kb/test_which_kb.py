"""Which knowledge base a command uses: `--kb`, else KEFU_KB__PATH, else the demo store; none rebuilds another's index.

A second shop (a tea shop, FAQ in Chinese and English) is written in each test, so an answer from it cannot come
from the demo store (a fashion shop).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.cli import app
from bot.config import Settings
from tests.kb.conftest import cli_json

ROOT = Path(__file__).resolve().parents[2]
runner = CliRunner()

TEA_FAQ = [
    {
        "id": "tea-shipping",
        "language": "en",
        "question": "How long does shipping take?",
        "answer": "Our teas leave Hangzhou within 24 hours and arrive in 3-5 days.",
    },
    {
        "id": "tea-returns",
        "language": "en",
        "question": "Who pays the postage for a return?",
        "answer": "Sealed tins can be returned within 7 days; the buyer pays the return postage. "
        "Opened tea cannot be returned.",
    },
    {
        "id": "tea-brewing",
        "language": "en",
        "question": "What water temperature for green tea?",
        "answer": "Brew green tea at 80 °C for two minutes.",
    },
    {
        "id": "tea-shipping-zh",
        "language": "zh",
        "question": "多久发货？几天能到？",
        "answer": "茶叶从杭州发出，24小时内发货，3-5天送达。",
    },
    {
        "id": "tea-returns-zh",
        "language": "zh",
        "question": "退货运费谁出？",
        "answer": "未拆封的茶叶7天内可退，退货运费由买家承担；拆封后不支持退货。",
    },
    {
        "id": "tea-brewing-zh",
        "language": "zh",
        "question": "绿茶用多少度的水泡？",
        "answer": "绿茶用80度的水冲泡两分钟。",
    },
]
TEA_SOURCES = {"faq.json", "storage.md"}


def tea_docs(folder: Path) -> Path:
    """A tea shop's knowledge-base sources: a bilingual FAQ and a Markdown page."""
    folder.mkdir(parents=True)
    (folder / "faq.json").write_text(json.dumps(TEA_FAQ, ensure_ascii=False), encoding="utf-8")
    (folder / "storage.md").write_text(
        "# Storing tea\n\nKeep tea airtight, away from light and smell.\n\n## 储存\n\n茶叶请密封、避光、防潮保存。\n",
        encoding="utf-8",
    )
    return folder


def _sources(found: dict) -> set[str]:
    return {hit["source"] for hit in found["hits"]}


@pytest.mark.slow  # builds an index with the real encoder
def test_kefu_kb_build_out_then_search_kb_answers_from_that_index(env: Path) -> None:
    """The README's tour through real `kefu` processes: the search answers from the tea shop and builds nothing."""
    tea_docs(env / "tea-docs")
    child_env = {key: value for key, value in os.environ.items() if key != "KEFU_KB__PATH"}
    child_env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))

    def kefu(*args: str) -> dict:
        done = subprocess.run(
            [sys.executable, "-m", "bot.cli", *args],
            cwd=env,
            env=child_env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)

    built = kefu("kb", "build", "tea-docs/", "--out", "idx", "--json")
    assert built["chunks"] == 8 and built["out"] == "idx"
    version = (env / "idx" / "CURRENT").read_text()
    found = kefu("kb", "search", "退货运费谁出", "--kb", "idx", "--json")
    assert found["hits"][0]["id"] == "tea-returns-zh" and _sources(found) <= TEA_SOURCES
    assert (env / "idx" / "CURRENT").read_text() == version, "the index was rebuilt by a search"
    assert not (env / "data" / "kb").exists(), "the search built another index (the demo store's)"


def test_search_kb_and_stats_kb_name_an_index_in_process(env: Path) -> None:
    tea_docs(env / "tea-docs")
    cli_json(["kb", "build", "tea-docs", "--out", "idx", "--json"])
    found = cli_json(["kb", "search", "how long until my tea arrives", "--kb", "idx", "--lang", "en", "--json"])
    assert found["hits"][0]["id"] == "tea-shipping" and _sources(found) <= TEA_SOURCES
    stats = cli_json(["kb", "stats", "--kb", "idx", "--json"])
    assert stats["chunks"] == 8 and set(stats["sources"]) == TEA_SOURCES


def test_sources_and_the_demo_store_keep_their_own_indexes(env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The reported bug: `kb build shop-docs/` then a search of the demo store rebuilt the demo index over it."""
    tea_docs(env / "tea-docs")
    built = cli_json(["kb", "build", "tea-docs", "--json"])
    tea_index = Path(built["out"])
    assert tea_index.parent == env / "data" / "kb"
    version = (tea_index / "CURRENT").read_text()
    assert _sources(cli_json(["kb", "search", "退货运费谁出", "--kb", "tea-docs", "--json"])) <= TEA_SOURCES
    demo = cli_json(["kb", "search", "退货运费谁出", "--json"])
    assert not _sources(demo) & TEA_SOURCES
    monkeypatch.setenv("KEFU_KB__PATH", "tea-docs")
    assert _sources(cli_json(["kb", "search", "退货运费谁出", "--json"])) <= TEA_SOURCES
    assert (tea_index / "CURRENT").read_text() == version, "the sources' index was rebuilt though they did not change"


@pytest.mark.parametrize("named", ["nothing-here", "notes.pdf", "empty-folder"])
def test_kb_naming_neither_an_index_nor_sources_is_a_clear_error(env: Path, named: str) -> None:
    (env / "notes.pdf").write_bytes(b"%PDF-1.4")
    (env / "empty-folder").mkdir()
    (env / "empty-folder" / "scan.pdf").write_bytes(b"%PDF-1.4")
    for command in (["kb", "search", "hello", "--kb", named], ["kb", "stats", "--kb", named]):
        result = runner.invoke(app, command)
        assert result.exit_code == 2, result.output
        assert result.output.startswith("error: ") and named in result.output
        assert "neither a knowledge-base index" in result.output
    assert not (env / "data" / "kb").exists()


def test_build_refuses_an_index_as_its_sources(env: Path) -> None:
    tea_docs(env / "tea-docs")
    cli_json(["kb", "build", "tea-docs", "--out", "idx", "--json"])
    result = runner.invoke(app, ["kb", "build", "idx"])
    assert result.exit_code == 2 and "idx is a built index, not sources" in result.output


def test_kefu_ask_answers_from_the_index_kefu_kb_path_names(
    demo_settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`kefu ask` (the bot's own pipeline) uses the index KEFU_KB__PATH names, not the demo store."""
    monkeypatch.setenv("KEFU_DATA_DIR", str(demo_settings.data_dir))  # the demo intents, trained once per session
    monkeypatch.chdir(tmp_path)
    tea_docs(tmp_path / "tea-docs")
    cli_json(["kb", "build", "tea-docs", "--out", "idx", "--json"])
    monkeypatch.setenv("KEFU_KB__PATH", "idx")
    answer = cli_json(["ask", "How long does shipping take?", "--json"])
    assert "Hangzhou" in answer["text"], answer
    assert [source["id"] for source in answer["sources"]] == ["tea-shipping"]
    chinese = cli_json(["ask", "退货运费谁出？", "--json"])
    assert "买家承担" in chinese["text"] and {s["id"] for s in chinese["sources"]} == {"tea-returns-zh"}


def test_the_first_run_on_new_sources_says_it_builds_the_index_once(
    demo_settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A command whose knowledge base must be indexed first says so (and shows a bar); the next run just loads."""
    monkeypatch.setenv("KEFU_DATA_DIR", str(demo_settings.data_dir))
    monkeypatch.chdir(tmp_path)
    tea_docs(tmp_path / "tea-docs")
    monkeypatch.setenv("KEFU_KB__PATH", "tea-docs")
    first = runner.invoke(app, ["ask", "How long does shipping take?"])
    assert first.exit_code == 0 and "Hangzhou" in first.stdout, first.output
    assert "building the knowledge-base index once" in first.stderr
    again = runner.invoke(app, ["ask", "How long does shipping take?"])
    assert again.exit_code == 0 and "building" not in again.stderr, again.stderr
