"""``kefu bench vision``: images per second batched against one at a time, and a 12-megapixel phone photo described
against RapidOCR called directly on the full-resolution image, all in the same run on the same weights."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import Any

from vision.describer import Description, PhotoDescriber
from vision.testing import render_label

PHONE_PHOTO = (1000, 750, 4.0)
"""A 4000 x 3000 JPEG (12 megapixels): a label photographed on a table by a phone."""
PHONE_LINES = ("Harbour Chelsea Boot", "SKU LL-SH-003", "Suede / Lug sole", "Size 42 EU")


def label_photos(count: int) -> list[bytes]:
    """``count`` different label photos of 1000 x 640, turned a little, on texture, JPEG quality 70."""
    return [
        render_label([f"Sample product {n}", f"SKU KF-BN-{n:03d}", "Made with care"], angle=(n % 5) * 3 - 6, seed=n)
        for n in range(count)
    ]


def phone_photo() -> bytes:
    width, height, scale = PHONE_PHOTO
    return render_label(list(PHONE_LINES), size=(width, height), scale=scale, font_size=40, quality=90)


def run(
    describer: PhotoDescriber, *, images: int = 8, repeats: int = 5, progress: Callable[[str], None] | None = None
) -> dict[str, Any]:
    """The report: ``throughput`` (batched vs one at a time) and ``phone_photo`` (kefu vs RapidOCR direct)."""
    say = progress or (lambda line: None)
    photos = label_photos(images)
    _described(describer, photos[:2])  # load the models before timing
    say(f"{images} label photos, batched then one at a time")
    started = time.perf_counter()
    _described(describer, photos)
    batched = time.perf_counter() - started
    started = time.perf_counter()
    for photo in photos:
        _described(describer, [photo])
    single = time.perf_counter() - started
    throughput = {
        "images": images,
        "batched_s": round(batched, 3),
        "one_at_a_time_s": round(single, 3),
        "batched_images_per_s": round(images / batched, 2),
        "one_at_a_time_images_per_s": round(images / single, 2),
        "speedup": round(single / batched, 2),
    }
    say(
        "a 12-megapixel phone photo: kefu's describer (labels and OCR side by side, then one after the other, in "
        "turn), then RapidOCR on the full image"
    )
    data = phone_photo()
    reader = describer.reader
    if reader is None:
        raise ValueError("the benchmark needs the OCR part of the describer")
    placed = describer.side_by_side
    kefu_s: list[float] = []
    other_s: list[float] = []
    kefu_text: tuple[str, ...] = ()
    try:
        for _ in range(repeats):
            for side_by_side, times in ((placed, kefu_s), (not placed, other_s)):
                describer.side_by_side = side_by_side
                started = time.perf_counter()
                text = _described(describer, [data])[0].text
                times.append(time.perf_counter() - started)
                kefu_text = text if side_by_side == placed else kefu_text
    finally:
        describer.side_by_side = placed
    direct_s, direct_text = _timed(repeats, lambda: tuple(line.text for line in reader.read_full(data)))
    return {
        "throughput": throughput,
        "phone_photo": {
            "bytes": len(data),
            "megapixels": round(PHONE_PHOTO[0] * PHONE_PHOTO[1] * PHONE_PHOTO[2] ** 2 / 1e6, 1),
            "kefu_p50_s": round(statistics.median(kefu_s), 3),
            ("one_after_the_other_p50_s" if placed else "side_by_side_p50_s"): round(statistics.median(other_s), 3),
            "rapidocr_direct_p50_s": round(statistics.median(direct_s), 3),
            "speedup": round(statistics.median(direct_s) / statistics.median(kefu_s), 2),
            "kefu_text": list(kefu_text),
            "rapidocr_text": list(direct_text),
            "same_text": _squash(kefu_text) == _squash(direct_text),
            "expected_text_found": all(_squash([line]) in _squash(kefu_text) for line in PHONE_LINES),
        },
        "repeats": repeats,
    }


def _described(describer: PhotoDescriber, photos: list[bytes]) -> list[Description]:
    results = describer.describe_batch(photos)
    for result in results:
        if not isinstance(result, Description):
            raise RuntimeError(f"a benchmark photo could not be described: {result}")
    return [result for result in results if isinstance(result, Description)]


def _timed(repeats: int, work: Callable[[], Any]) -> tuple[list[float], Any]:
    times, result = [], None
    for _ in range(repeats):
        started = time.perf_counter()
        result = work()
        times.append(time.perf_counter() - started)
    return times, result


def _squash(lines: Any) -> str:
    return "".join("".join(str(line).split()).lower() for line in lines)
