"""The answer evaluation's judging and question loading (no models: replies are given)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.answer_eval import Question, QuestionError, Report, judge, load_questions, reply_move

DATA = Path(__file__).resolve().parents[1] / "data" / "answer_questions.jsonl"


def _question(**changes: object) -> Question:
    fields: dict[str, object] = {
        "id": "q1",
        "text": "can I return worn shoes?",
        "kind": "condition",
        "split": "dev",
        "move": "answer",
        "language": "en",
        "must": ("unworn",),
        "must_not": (r"^\s*Yes\b",),
    }
    fields.update(changes)
    return Question(**fields)  # type: ignore[arg-type]


def test_a_reply_that_states_the_condition_is_correct() -> None:
    verdict = judge(
        _question(), reply="Shoes must be unworn to be returned.", reason="answer: relevance", language="en"
    )
    assert verdict.correct and verdict.move == "answer"


def test_a_bare_yes_a_wrong_language_and_a_wrong_move_are_each_named() -> None:
    verdict = judge(_question(), reply="Yes. Shoes can be returned.", reason="escalate: x", language="zh")
    assert not verdict.correct
    assert {p.split()[0] for p in verdict.problems} == {"move", "language", "missing", "says"}


@pytest.mark.parametrize(
    ("reason", "move"),
    [
        ("act: order given; action order_status done", "answer"),
        ("act: x; action order_status asks for order_id", "ask"),
        ("clarify: low", "ask"),
        ("greet: hi", "answer"),
        ("decline: out of scope", "decline"),
    ],
)
def test_moves_come_from_the_trace_reason(reason: str, move: str) -> None:
    assert reply_move(reason) == move


def test_numbers_found_nowhere_in_the_shop_data_are_reported() -> None:
    verdict = judge(
        _question(must=()),
        reply="Unworn shoes within 30 days, fee 77.",
        reason="answer: x",
        language="en",
        grounding="returns within 30 days",
    )
    assert verdict.unsupported_numbers == ("77",)
    report = Report([verdict])
    assert report.to_json()["unsupported_numbers"] == 1


def test_the_labelled_set_is_balanced_and_split() -> None:
    questions = load_questions(DATA)
    assert len(questions) >= 200
    languages = [q.language for q in questions]
    assert abs(languages.count("zh") - languages.count("en")) <= 10
    dev, test = load_questions(DATA, split="dev"), load_questions(DATA, split="test")
    assert len(dev) + len(test) == len(questions)
    assert not {q.id for q in dev} & {q.id for q in test}
    assert len({q.id for q in questions}) == len(questions)


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("not json", "line"),
        (json.dumps({"id": 1}), "question"),
        (
            json.dumps({"id": 1, "question": "x", "kind": "k", "split": "dev", "move": "dance", "language": "en"}),
            "move",
        ),
        (
            json.dumps({"id": 1, "question": "x", "kind": "k", "split": "train", "move": "answer", "language": "en"}),
            "split",
        ),
        (
            json.dumps(
                {
                    "id": 1,
                    "question": "x",
                    "kind": "k",
                    "split": "dev",
                    "move": "answer",
                    "language": "en",
                    "must": ["("],
                }
            ),
            "1",
        ),
    ],
)
def test_bad_rows_name_their_line(tmp_path: Path, line: str, message: str) -> None:
    path = tmp_path / "q.jsonl"
    path.write_text(line + "\n", encoding="utf-8")
    with pytest.raises(QuestionError, match=":1:"):
        load_questions(path)


def test_an_unknown_split_or_an_empty_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(QuestionError, match="split"):
        load_questions(DATA, split="train")
    empty = tmp_path / "e.jsonl"
    empty.write_text("\n", encoding="utf-8")
    with pytest.raises(QuestionError, match="no questions"):
        load_questions(empty)
    with pytest.raises(QuestionError, match="cannot read"):
        load_questions(tmp_path / "missing.jsonl")


def test_the_second_shop_questions_are_balanced_and_name_its_passages() -> None:
    shop = DATA.parent / "shop2"
    questions = load_questions(DATA.parent / "shop2_questions.jsonl")
    assert len(questions) >= 60 and {q.split for q in questions} == {"test"}
    assert sum(q.language == "zh" for q in questions) == sum(q.language == "en" for q in questions)
    ids = {row["id"] for name in ("faq.en.json", "faq.zh.json") for row in json.loads((shop / name).read_text("utf-8"))}
    ids |= {
        f"{p['sku']}#{lang}" for p in json.loads((shop / "products.json").read_text("utf-8")) for lang in ("en", "zh")
    }
    rows = [json.loads(line) for line in (DATA.parent / "shop2_questions.jsonl").read_text("utf-8").splitlines()]
    assert {rid for row in rows for rid in row.get("relevant", [])} <= ids
