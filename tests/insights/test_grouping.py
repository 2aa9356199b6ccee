"""Grouping unanswered questions: by wording (no model) and by meaning (the packaged sentence encoder); the to-do
CSV never hands a spreadsheet a formula."""

from __future__ import annotations

import csv
import io

import pytest

from bot.insights.export import todo_csv
from bot.insights.facts import why_of
from bot.insights.grouping import RememberingEncoder, group_questions


def test_lexical_groups_wordings_of_one_question_and_keeps_others_apart() -> None:
    texts = [
        "Do you ship to Canada?",
        "do you ship to canada",
        "Do you ship to Canada?",
        "can I pay with PayPal?",
        "你们支持货到付款吗？",
        "支持货到付款吗",
        "call me on [phone …5678]: gift wrapping?",
        "   ",
    ]
    groups = group_questions(texts)
    by_lead = {g.question: g for g in groups}
    assert by_lead["Do you ship to Canada?"].count == 3
    assert by_lead["Do you ship to Canada?"].examples == ["do you ship to canada"]
    assert next(g for g in groups if "货到付款" in g.question).count == 2
    assert sum(g.count for g in groups) == 7  # the blank one is not a question
    assert [g.count for g in groups] == sorted((g.count for g in groups), reverse=True)


def test_no_questions_no_groups() -> None:
    assert group_questions([]) == []


@pytest.mark.slow
def test_the_sentence_encoder_groups_by_meaning(demo_components) -> None:
    encoder = RememberingEncoder(demo_components.encoder)
    texts = [
        "How long does delivery to Canada take?",
        "shipping time to Canada?",
        "Can I pay with PayPal?",
        "Do you accept PayPal?",
    ]
    groups = group_questions(texts, encoder=encoder)
    assert sorted(g.count for g in groups) == [2, 2]
    again = group_questions(texts[:2], encoder=encoder)  # remembered: the same vectors, the same answer
    assert [g.count for g in again] == [2]


def test_the_todo_csv_escapes_formulas_and_keeps_the_columns() -> None:
    text = todo_csv([{"question": '=HYPERLINK("x")', "count": 3, "examples": ["+1 555", "a, b"]}])
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["question", "answer", "count", "examples"]
    assert rows[1] == ['\'=HYPERLINK("x")', "", "3", "'+1 555 | a, b"]


@pytest.mark.parametrize(
    ("reason", "why"),
    [
        ("passage relevance 0.62 >= 0.50; intent shipping (0.91)", "passage relevance # >= #"),
        ("the shopper asked for a person: intent human_agent (0.99)", "the shopper asked for a person"),
        ("", "unknown"),
    ],
)
def test_why_keeps_the_rule_and_drops_the_numbers(reason: str, why: str) -> None:
    assert why_of(reason) == why
