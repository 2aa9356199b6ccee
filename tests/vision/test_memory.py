"""Memory while describing a 50 MB photo, measured in a child process: the peak resident size during the call (the
kernel's high-water mark, reset just before it) minus the idle process with its models loaded."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
LIMIT_MB = 500

CHILD = """
import json, sys
from pathlib import Path
import vision

def resident_mb(field):
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    raise LookupError(field)

describer = vision.load_describer(limits=vision.ImageLimits(max_bytes=64 << 20, max_pixels=40_000_000))
describer.describe_batch([Path(sys.argv[2]).read_bytes()])  # models loaded and warm: this is the idle process
idle = resident_mb("VmRSS")
Path("/proc/self/clear_refs").write_text("5")  # resets VmHWM to the current resident size
data = Path(sys.argv[1]).read_bytes()
[result] = describer.describe_batch([data])
peak = resident_mb("VmHWM")
size = list(result.size) if isinstance(result, vision.Description) else None
print(json.dumps({"idle_mb": idle, "peak_mb": peak, "result": type(result).__name__, "size": size}))
"""


def measure(photo: Path, warm_up: Path) -> dict[str, float]:
    done = subprocess.run(
        [sys.executable, "-c", CHILD, str(photo), str(warm_up)], capture_output=True, text=True, cwd=ROOT, timeout=600
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def warm_up(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("photos") / "small.jpg"
    Image.new("RGB", (320, 240), "navy").save(path, quality=90)
    return path


def test_describing_a_50_mb_photo_stays_under_500_mb_above_idle(tmp_path: Path, warm_up: Path) -> None:
    noise = np.random.default_rng(0).integers(0, 256, (4500, 6000, 3), dtype=np.uint8)
    photo = tmp_path / "fifty.jpg"
    Image.fromarray(noise).save(photo, quality=99)
    del noise
    assert photo.stat().st_size > 45 * 1024 * 1024
    measured = measure(photo, warm_up)
    assert measured["result"] == "Description" and measured["size"] == [6000, 4500]
    above_idle = measured["peak_mb"] - measured["idle_mb"]
    print(f"50 MB photo: peak {above_idle:.0f} MB above the idle process ({measured['idle_mb']:.0f} MB)")
    assert above_idle < LIMIT_MB


def test_a_decompression_bomb_costs_no_memory(tmp_path: Path, warm_up: Path) -> None:
    from tests.vision.test_images import png_of_zeros

    bomb = tmp_path / "bomb.png"
    bomb.write_bytes(png_of_zeros(30_000, 30_000))
    measured = measure(bomb, warm_up)
    assert measured["result"] == "ImageTooLarge"
    assert measured["peak_mb"] - measured["idle_mb"] < 50
