"""The app's lazy Whisper: loaded once on the first note, even when two notes arrive on two workers."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Sequence

from bot.app import LazyTranscriber, build_transcriber
from bot.config import Settings


class Echo:
    def decode_batch(self, clips: Sequence[bytes]) -> list[str]:
        return [clip.decode() for clip in clips]

    def transcribe_batch(self, clips: Sequence[bytes], *, cancel: threading.Event | None = None) -> list[str]:
        return [f"{clip.decode()} {'cancelled' if cancel and cancel.is_set() else 'heard'}" for clip in clips]


def test_two_threads_load_the_model_once() -> None:
    loads = 0

    def load() -> Echo:
        nonlocal loads
        loads += 1
        time.sleep(0.05)
        return Echo()

    lazy = LazyTranscriber(load, batching_pays=False, parallel_calls=2)
    results: list[object] = []
    threads = [
        threading.Thread(target=lambda n=n: results.append(lazy.transcribe_batch([f"{n}".encode()]))) for n in range(2)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert loads == 1
    assert sorted(map(str, results)) == ["['0 heard']", "['1 heard']"]


def test_decoding_and_the_cancel_token_reach_the_engine() -> None:
    lazy = LazyTranscriber(Echo, batching_pays=False)
    cancel = threading.Event()
    cancel.set()
    assert lazy.decode_batch([b"hello"]) == ["hello"]
    assert lazy.transcribe_batch([b"hello"], cancel=cancel) == ["hello cancelled"]


def test_cpu_whisper_decodes_one_note_per_core_and_gpu_batches() -> None:
    cpu = build_transcriber(Settings(device="cpu"))
    assert cpu is not None and not cpu.batching_pays and cpu.parallel_calls == len(os.sched_getaffinity(0))
    gpu = build_transcriber(Settings(device="cuda"))
    assert gpu is not None and gpu.batching_pays and gpu.parallel_calls == 1
