"""A process that transcribes a long note through the engines and stops on SIGTERM, as ``kefu run`` does.

    python -m tests.speech.stop_child NOTE.ogg     # prints "transcribing" once the long lane has started

Used by ``test_cancel.py`` to check that the process exits while the note is still being transcribed.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
from pathlib import Path
from typing import Any

import speech
from bot.engines import Engines


async def main(note: bytes) -> None:
    transcriber = speech.load_transcriber(backend="faster-whisper", model="base", device="cpu")
    unused: Any = object()
    engines = Engines(encoder=unused, retriever=unused, intents=unused, transcriber=transcriber)
    stopping = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stopping.set)
    work = asyncio.ensure_future(engines.transcribe(note))
    long_lane = next(b for b in engines.batchers if b.name == "transcribe-long")
    while long_lane.stats.batches == 0:  # noqa: ASYNC110 - the batcher keeps counters, not events
        await asyncio.sleep(0.01)
    print("transcribing", flush=True)
    await stopping.wait()
    await engines.aclose()
    await asyncio.gather(work, return_exceptions=True)


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(name)s %(message)s")
    asyncio.run(main(Path(sys.argv[1]).read_bytes()))
