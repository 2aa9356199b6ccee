"""The knowledge base's to-do list as CSV: one row per group of unanswered questions, with an empty ``answer``
column; filled in, the same file is a FAQ source for ``kefu kb build``."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping
from typing import Any

TODO_COLUMNS = ("question", "answer", "count", "examples")


def _cell(text: str) -> str:
    """A shopper's words as a spreadsheet shows them, never as a formula (``=…``, ``+…``, ``-…``, ``@…``)."""
    return f"'{text}" if text[:1] in ("=", "+", "-", "@") else text


def todo_csv(groups: Iterable[Mapping[str, Any]]) -> str:
    """The CSV text of grouped unanswered questions (``QuestionGroup.to_json`` dicts), most asked first."""
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(TODO_COLUMNS)
    for group in groups:
        writer.writerow([_cell(group["question"]), "", group["count"], _cell(" | ".join(group["examples"]))])
    return out.getvalue()
