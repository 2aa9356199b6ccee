"""Judging the bot's replies against labelled shopper questions (``kefu eval answers``).

Each question names the move the bot should make, the reply language, the facts the reply must state and the
claims it must not make (regular expressions, either language). A reply is correct when all of them hold.
The runner that sends the questions through the pipeline lives in ``bot.cli.answers``; this module only reads
questions, judges replies and counts.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

MOVES = ("answer", "escalate", "decline", "ask")
SPLITS = ("dev", "test")
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")


@dataclass(frozen=True, slots=True)
class Question:
    """One labelled question: what the shopper writes and what a right reply does."""

    id: str
    text: str
    kind: str
    split: str
    move: str
    language: str
    must: tuple[str, ...] = ()
    must_not: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Verdict:
    """How one reply fared; ``problems`` is empty when it is correct."""

    question: Question
    reply: str
    move: str
    language: str
    reason: str
    problems: tuple[str, ...] = ()
    unsupported_numbers: tuple[str, ...] = ()

    @property
    def correct(self) -> bool:
        return not self.problems

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.question.id,
            "kind": self.question.kind,
            "question": self.question.text,
            "correct": self.correct,
            "problems": list(self.problems),
            "move": self.move,
            "language": self.language,
            "reason": self.reason,
            "reply": self.reply,
            "unsupported_numbers": list(self.unsupported_numbers),
        }


class QuestionError(ValueError):
    """A questions file that cannot be used; the message names the line."""


def load_questions(path: Path, *, split: str | None = None) -> list[Question]:
    """The questions of ``path`` (JSON lines), only ``split``'s when given. Bad rows raise ``QuestionError``."""
    if split is not None and split not in SPLITS:
        raise QuestionError(f"unknown split {split!r}: use dev or test")
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as error:
        raise QuestionError(f"cannot read {path}: {error}") from None
    questions: list[Question] = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            question = _question(row)
        except (ValueError, KeyError, TypeError, re.error) as error:
            raise QuestionError(f"{path}:{number}: {error}") from None
        if split is None or question.split == split:
            questions.append(question)
    if not questions:
        raise QuestionError(f"{path}: no questions" + (f" in split {split}" if split else ""))
    return questions


def _question(row: dict[str, Any]) -> Question:
    question = Question(
        id=str(row["id"]),
        text=str(row["question"]),
        kind=str(row["kind"]),
        split=str(row["split"]),
        move=str(row["move"]),
        language=str(row["language"]),
        must=tuple(row.get("must", ())),
        must_not=tuple(row.get("must_not", ())),
    )
    if question.move not in MOVES:
        raise ValueError(f"move must be one of {', '.join(MOVES)}, not {question.move!r}")
    if question.split not in SPLITS:
        raise ValueError(f"split must be dev or test, not {question.split!r}")
    for pattern in (*question.must, *question.must_not):
        re.compile(pattern)
    return question


def reply_move(reason: str) -> str:
    """The move a reply made, from its trace reason (``"act: …"``, ``"escalate: …"``) in the evaluation's terms."""
    head = reason.split(":", 1)[0].strip()
    if head == "act":
        return "ask" if " asks for " in reason else "answer"
    if head == "clarify":
        return "ask"
    if head in ("greet", "goodbye"):
        return "answer"
    return head or "answer"


def judge(question: Question, *, reply: str, reason: str, language: str, grounding: str = "") -> Verdict:
    """The verdict on one reply. ``grounding`` is the text the reply may draw numbers from (the shop's data)."""
    move = reply_move(reason)
    problems: list[str] = []
    if move != question.move:
        problems.append(f"move {move}, expected {question.move}")
    if language != question.language:
        problems.append(f"language {language}, expected {question.language}")
    for pattern in question.must:
        if not re.search(pattern, reply, re.IGNORECASE):
            problems.append(f"missing /{pattern}/")
    for pattern in question.must_not:
        if re.search(pattern, reply, re.IGNORECASE):
            problems.append(f"says /{pattern}/")
    unsupported = tuple(
        n for n in dict.fromkeys(_NUMBER.findall(reply)) if grounding and n not in grounding and n not in question.text
    )
    return Verdict(question, reply, move, language, reason, tuple(problems), unsupported)


@dataclass(slots=True)
class Tally:
    correct: int = 0
    total: int = 0

    @property
    def share(self) -> float:
        return self.correct / self.total if self.total else 0.0


@dataclass(slots=True)
class Report:
    """Correctness overall, per kind and per language, and the invented numbers found."""

    verdicts: list[Verdict] = field(default_factory=list)

    def tally(self, verdicts: Iterable[Verdict]) -> Tally:
        tally = Tally()
        for verdict in verdicts:
            tally.total += 1
            tally.correct += verdict.correct
        return tally

    def by(self, key: str) -> dict[str, Tally]:
        groups: dict[str, list[Verdict]] = {}
        for verdict in self.verdicts:
            value = verdict.question.kind if key == "kind" else verdict.question.language
            groups.setdefault(value, []).append(verdict)
        return {name: self.tally(items) for name, items in sorted(groups.items())}

    def to_json(self, *, details: bool = True) -> dict[str, Any]:
        overall = self.tally(self.verdicts)
        result: dict[str, Any] = {
            "questions": overall.total,
            "correct": overall.correct,
            "accuracy": round(overall.share, 4),
            "kinds": {
                k: {"correct": t.correct, "total": t.total, "accuracy": round(t.share, 4)}
                for k, t in self.by("kind").items()
            },
            "languages": {
                k: {"correct": t.correct, "total": t.total, "accuracy": round(t.share, 4)}
                for k, t in self.by("language").items()
            },
            "unsupported_numbers": sum(len(v.unsupported_numbers) for v in self.verdicts),
        }
        if details:
            result["verdicts"] = [v.to_json() for v in self.verdicts]
        return result


def grounding_text(texts: Sequence[str]) -> str:
    """One string holding every text a reply may take numbers from."""
    return "\n".join(texts)
