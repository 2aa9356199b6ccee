"""Encoding in batches with a rich progress bar, so a long build shows how far it is."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

BATCH = 64
"""Texts per encoder call: large enough to batch well, small enough for a smooth bar."""


def encode_with_progress(
    encode: Callable[[Sequence[str]], np.ndarray], texts: Sequence[str], *, show: bool = True
) -> np.ndarray:
    """``encode(texts)`` in batches of ``BATCH``; a progress bar on stderr when ``show`` and there is more than one
    batch."""
    if not texts:
        return np.zeros((0, 0), np.float32)
    if len(texts) <= BATCH or not show:
        return np.concatenate([encode(texts[i : i + BATCH]) for i in range(0, len(texts), BATCH)])
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )

    parts = []
    columns = (TextColumn("encoding"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with Progress(*columns, console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task("encode", total=len(texts))
        for start in range(0, len(texts), BATCH):
            batch = texts[start : start + BATCH]
            parts.append(encode(batch))
            bar.advance(task, len(batch))
    return np.concatenate(parts)
