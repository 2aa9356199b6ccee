"""The describer: photos in, what is in them out (a caption when a captioner is configured, labels, text).

    describer = PhotoDescriber(labeller=Labeller(), reader=TextReader())
    [d] = describer.describe_batch([jpeg_bytes])     # Description | ImageError, in order
    d.labels[0].label, d.text                        # "running shoe", ["LL-SH-004", "漂流针织跑鞋"]

Each image is opened (limits first) once; the classifier and the OCR then take the whole batch, side by side
in two threads (torch and onnxruntime release the GIL), each with half the cores.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Protocol, TypeVar

from PIL import Image

from vision.errors import ImageError
from vision.images import Picture, open_image
from vision.labels import Label, Labeller
from vision.ocr import TextReader
from vision.similar import PhotoIndex

T = TypeVar("T")


class Captioner(Protocol):
    """Writes one sentence per image."""

    def caption_batch(self, images: Sequence[Image.Image]) -> list[str]: ...


@dataclass(frozen=True, slots=True)
class Description:
    """What was seen in one photo (DESIGN §5's ``kefu describe`` shape, plus the image's format and size)."""

    caption: str | None
    labels: tuple[Label, ...]
    text: tuple[str, ...]
    timings_ms: dict[str, float] = field(default_factory=dict)
    similar: tuple[tuple[str, float], ...] = ()
    """Catalogue products whose photos look most like this one (find by photo), with cosine, best first."""
    format: str = ""
    size: tuple[int, int] = (0, 0)

    def as_json(self) -> dict[str, object]:
        return {
            "caption": self.caption,
            "labels": [{"label": label.label, "score": round(label.score, 4)} for label in self.labels],
            "text": list(self.text),
            **({"similar": [{"id": i, "score": round(s, 4)} for i, s in self.similar]} if self.similar else {}),
            "timings_ms": {name: round(ms, 1) for name, ms in self.timings_ms.items()},
        }


@dataclass(frozen=True, slots=True)
class ImageLimits:
    max_bytes: int = 20 * 1024 * 1024
    max_pixels: int = 40_000_000
    max_side: int = 1600
    """The working image's longest side: OCR crops come from it; the classifier and detector downscale further."""


class PhotoDescriber:
    """Labels (``labeller``), text (``reader``) and a caption (``captioner``), any of them optional."""

    def __init__(
        self,
        *,
        labeller: Labeller | None = None,
        reader: TextReader | None = None,
        captioner: Captioner | None = None,
        limits: ImageLimits | None = None,
        batching_pays: bool = False,
        catalogue: PhotoIndex | None = None,
        side_by_side: bool = True,
    ) -> None:
        self.batching_pays = batching_pays
        """Whether a batch of photos is cheaper than the same photos one at a time (a GPU); on a CPU it is not,
        and every photo of a batch would wait for the whole batch (``kefu bench vision``)."""
        self.catalogue = catalogue
        """Catalogue photos to find look-alikes among (built by ``kefu kb build``); needs the labeller."""
        self.side_by_side = side_by_side
        """Labels, text and caption in threads of their own at once (else one after the other in the caller's thread;
        ``kefu bench vision`` times both)."""
        self.labeller = labeller
        self.reader = reader
        self.captioner = captioner
        self.limits = limits or ImageLimits()
        self._pool = ThreadPoolExecutor(max_workers=3, thread_name_prefix="describe")

    def describe_batch(self, images: Sequence[bytes]) -> list[Description | BaseException]:
        """One ``Description`` per image, or the ``ImageError`` that image raised; others are unaffected."""
        started = time.perf_counter()
        opened: list[Picture | BaseException] = []
        for data in images:
            try:
                opened.append(open_image(data, **self._limit_kwargs()))
            except ImageError as error:
                opened.append(error)
        open_ms = (time.perf_counter() - started) * 1000 / max(1, len(images))
        pictures = [p for p in opened if isinstance(p, Picture)]
        frames = [picture.image for picture in pictures]
        labels = self._submit(self._labels if self.labeller else None, frames)
        text = self._submit(self.reader.read_batch if self.reader else None, frames)
        captions = self._submit(self.captioner.caption_batch if self.captioner else None, frames)
        found, labels_ms = labels()
        found_labels = [item[0] for item in found] if found else None
        found_similar = [item[1] for item in found] if found else None
        found_text, ocr_ms = text()
        found_captions, caption_ms = captions()
        measured = {"open": open_ms, "labels": labels_ms, "ocr": ocr_ms, "caption": caption_ms}
        timings = {name: ms for name, ms in measured.items() if ms is not None}
        results: list[Description | BaseException] = []
        index = 0
        for item in opened:
            if not isinstance(item, Picture):
                results.append(item)
                continue
            caption = found_captions[index] if found_captions else None
            results.append(
                Description(
                    caption=caption.strip() or None if caption else None,
                    labels=tuple(found_labels[index]) if found_labels else (),
                    text=tuple(line.text for line in found_text[index]) if found_text else (),
                    similar=tuple(found_similar[index]) if found_similar else (),
                    timings_ms={**timings, "total": (time.perf_counter() - started) * 1000},
                    format=item.format,
                    size=item.size,
                )
            )
            index += 1
        return results

    def _labels(self, frames: list[Image.Image]) -> list[tuple[list[Label], list[tuple[str, float]]]]:
        """Labels of each frame, and the catalogue's look-alikes from the same forward pass."""
        assert self.labeller is not None
        labels, features = self.labeller.label_and_embed(frames)
        catalogue = self.catalogue
        similar = catalogue.search_vectors(features, k=3) if catalogue is not None and len(catalogue) else None
        return [(found, similar[n] if similar else []) for n, found in enumerate(labels)]

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
        if self.reader is not None:
            self.reader.close()

    def _limit_kwargs(self) -> dict[str, int]:
        limits = self.limits
        return {"max_bytes": limits.max_bytes, "max_pixels": limits.max_pixels, "max_side": limits.max_side}

    def _submit(
        self, work: Callable[[list[Image.Image]], list[T]] | None, frames: list[Image.Image]
    ) -> Callable[[], tuple[list[T] | None, float | None]]:
        """Start ``work`` on the pool now; the returned call waits for its result and time (None when absent)."""
        if work is None or not frames:
            return lambda: (None, None)

        def timed() -> tuple[list[T], float]:
            began = time.perf_counter()
            return work(frames), (time.perf_counter() - began) * 1000

        if not self.side_by_side:
            done = timed()
            return lambda: done
        future = self._pool.submit(timed)

        def result() -> tuple[list[T] | None, float | None]:
            found, ms = future.result()
            return found, ms

        return result


def threads_each(parts: int) -> int:
    """Threads each of ``parts`` models running side by side gets: an equal share of the cores."""
    return max(1, (os.cpu_count() or 1) // max(1, parts))
