"""``kefu report`` on a real store: the PNG looked at, the JSON checked against counts made here, the HTML
self-contained, the to-do CSV read back as a FAQ source, and each bad option refused with exit code 2."""

from __future__ import annotations

import asyncio
import csv
import json
import time
from collections import Counter
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.app import open_store
from bot.cli import app
from bot.config import load_settings
from bot.insights.facts import unanswered
from bot.insights.report import FIGURE_DPI, FIGURE_INCHES
from kb.errors import EmptySource
from kb.sources import load_source
from tests.insights.conftest import Store, Written, write_facts


@pytest.fixture
def seeded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[Written]:
    """The configured store (KEFU_DATA_DIR) with 300 facts over the last 5 days."""
    monkeypatch.setenv("KEFU_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("KEFU_STORE__URL", raising=False)

    async def seed() -> list[Written]:
        settings = load_settings()
        db, sessions, desk = await open_store(settings)
        try:
            return await write_facts(Store(settings, db, sessions, desk), count=300, seed=11, days=5, now=time.time())
        finally:
            await db.close()

    return asyncio.run(seed())


def kefu(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.output


def test_the_json_report_matches_counts_made_from_the_facts(seeded: list[Written]) -> None:
    code, out = kefu("report", "--since", "7d", "--json")
    assert code == 0, out
    summary = json.loads(out)
    assert summary["totals"]["turns"] == len(seeded)
    assert {m["move"]: m["turns"] for m in summary["moves"]} == dict(Counter(w.fact.move for w in seeded))
    assert {i["intent"]: i["turns"] for i in summary["intents"]} == dict(
        Counter(w.fact.intent or "none" for w in seeded)
    )
    assert summary["totals"]["photo"] == sum(w.fact.photo for w in seeded)
    missed = [w for w in seeded if unanswered(w.fact.move, w.fact.why)]
    assert sum(g["count"] for g in summary["unanswered"]["groups"]) == len(missed)
    code, out = kefu("report", "--since", "7d", "--channel", "telegram", "--json")
    assert json.loads(out)["totals"]["turns"] == sum(w.fact.channel == "telegram" for w in seeded)


def test_the_png_report_is_a_picture_of_the_expected_size(seeded: list[Written], tmp_path: Path) -> None:
    import matplotlib.image

    out = tmp_path / "report.png"
    code, text = kefu("report", "--since", "7d", "--out", str(out))
    assert code == 0 and "wrote" in text
    pixels = matplotlib.image.imread(out)
    height, width = pixels.shape[:2]
    assert (width, height) == (FIGURE_INCHES[0] * FIGURE_DPI, FIGURE_INCHES[1] * FIGURE_DPI)
    rgb = pixels[..., :3]
    assert rgb.std() > 0.05  # not a blank page
    assert (abs(rgb[..., 2] - rgb[..., 0]) > 0.3).mean() > 0.001  # the blue bars and lines are drawn
    pdf = tmp_path / "report.pdf"
    assert kefu("report", "--out", str(pdf))[0] == 0 and pdf.read_bytes().startswith(b"%PDF")


def test_the_html_report_stands_alone(seeded: list[Written], tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    assert kefu("report", "--since", "7d", "--out", str(out))[0] == 0
    page = out.read_text(encoding="utf-8")
    assert "data:image/png;base64," in page
    assert "<script" not in page and "http://" not in page and "https://" not in page
    assert "13912345678" not in page and "user-" not in page


def test_the_unanswered_loop_exports_a_todo_list_that_kb_reads_back(seeded: list[Written], tmp_path: Path) -> None:
    todo = tmp_path / "todo.csv"
    code, text = kefu("report", "--unanswered", "--since", "7d", "--out", str(todo))
    assert code == 0 and "groups of unanswered questions" in text
    rows = list(csv.DictReader(todo.open(encoding="utf-8")))
    assert rows and all(row["answer"] == "" for row in rows)
    assert sum(int(row["count"]) for row in rows) == sum(unanswered(w.fact.move, w.fact.why) for w in seeded)
    with pytest.raises(EmptySource, match="no row has an answer yet"):
        load_source(todo)
    rows[0]["answer"] = "Yes, we ship to Canada in 5-8 days."
    with todo.open("w", encoding="utf-8", newline="") as file:
        writer = csv.DictWriter(file, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    chunks = load_source(todo)
    assert [(c.title, c.text) for c in chunks] == [(rows[0]["question"], rows[0]["answer"])]


@pytest.mark.parametrize(
    "args",
    [
        ["--since", "soon"],
        ["--since", "0d"],
        ["--out", "r.txt"],
        ["--unanswered", "--out", "r.png"],
        ["--out", "todo.csv"],
    ],
)
def test_bad_options_exit_2_with_a_reason(seeded: list[Written], args: list[str]) -> None:
    code, out = kefu("report", *args)
    assert code == 2 and "error:" in out


def test_no_store_yet_exits_1(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KEFU_DATA_DIR", str(tmp_path / "empty"))
    monkeypatch.delenv("KEFU_STORE__URL", raising=False)
    code, out = kefu("report")
    assert code == 1 and "no store" in out


def test_an_unwritable_out_exits_1(seeded: list[Written], tmp_path: Path) -> None:
    code, out = kefu("report", "--out", str(tmp_path / "missing" / "r.html"))
    assert code == 1 and "cannot write" in out
