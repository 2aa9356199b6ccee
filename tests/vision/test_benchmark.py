"""``kefu bench vision`` runs end to end, small: batched vs one at a time, both placements, RapidOCR direct."""

from __future__ import annotations

import pytest

from vision import PhotoDescriber, benchmark

pytestmark = pytest.mark.slow


def test_the_benchmark_reports_every_measure_and_reads_the_same_text(describer: PhotoDescriber) -> None:
    report = benchmark.run(describer, images=2, repeats=1)
    assert report["throughput"]["images"] == 2 and report["throughput"]["batched_images_per_s"] > 0
    phone = report["phone_photo"]
    assert phone["megapixels"] == 12.0
    assert phone["kefu_p50_s"] > 0 and phone["one_after_the_other_p50_s"] > 0 and phone["rapidocr_direct_p50_s"] > 0
    assert phone["expected_text_found"] and phone["same_text"], phone
    assert describer.side_by_side  # the describer is left as it was
