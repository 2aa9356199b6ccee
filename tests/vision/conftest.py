"""Photos for the vision tests: scikit-image's sample photographs and printed labels rendered with Pillow."""

from __future__ import annotations

import io
import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFilter, ImageFont

if TYPE_CHECKING:
    from vision import PhotoDescriber

CJK_FONT = Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc")
"""Debian's fonts-wqy-microhei (.ci/run installs it): Latin and Chinese glyphs."""


def cjk_font(size: int) -> ImageFont.FreeTypeFont:
    if not CJK_FONT.is_file():
        message = "fonts-wqy-microhei is not installed (apt-get install it; .ci/run does)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return ImageFont.truetype(str(CJK_FONT), size)


def sample_photo(name: str) -> bytes:
    """One of scikit-image's sample photographs (shipped in its wheel), as the file's bytes."""
    skimage = pytest.importorskip("skimage")
    return (Path(skimage.__file__).parent / "data" / name).read_bytes()


def textured_background(width: int, height: int, *, seed: int = 0) -> Image.Image:
    """Wood-grain-like noise: stripes plus speckle, blurred a little, as a table top under a label."""
    rng = np.random.default_rng(seed)
    x = np.linspace(0, 12 * np.pi, width)
    stripes = (np.sin(x + rng.random() * 6)[None, :] * 25 + 150) * np.ones((height, 1))
    speckle = rng.normal(0, 18, (height, width))
    grey = np.clip(stripes + speckle, 0, 255)
    rgb = np.stack([grey * 1.0, grey * 0.8, grey * 0.6], axis=-1).astype(np.uint8)
    return Image.fromarray(rgb).filter(ImageFilter.GaussianBlur(1.2))


def render_label(
    lines: Sequence[str],
    *,
    angle: float = 0.0,
    size: tuple[int, int] = (1000, 640),
    font_size: int = 44,
    quality: int = 70,
    seed: int = 0,
    scale: float = 1.0,
) -> bytes:
    """A printed label (dark text on an off-white card) lying on a textured background, turned by ``angle``
    degrees, photographed as a JPEG of ``quality``; ``scale`` enlarges the whole photo (a phone's resolution)."""
    font = cjk_font(font_size)
    widths = [font.getbbox(line)[2] for line in lines]
    card = Image.new("RGB", (max(widths) + 80, (font_size + 28) * len(lines) + 50), (248, 246, 238))
    draw = ImageDraw.Draw(card)
    for n, line in enumerate(lines):
        draw.text((40, 30 + n * (font_size + 28)), line, font=font, fill=(25, 25, 30))
    mask = Image.new("L", card.size, 255)
    if angle:
        card = card.rotate(angle, expand=True, resample=Image.Resampling.BICUBIC)
        mask = mask.rotate(angle, expand=True, resample=Image.Resampling.BICUBIC)
    photo = textured_background(max(size[0], card.width + 60), max(size[1], card.height + 60), seed=seed)
    photo.paste(card, ((photo.width - card.width) // 2, (photo.height - card.height) // 2), mask)
    if scale != 1.0:
        photo = photo.resize((round(photo.width * scale), round(photo.height * scale)), Image.Resampling.BICUBIC)
    out = io.BytesIO()
    photo.save(out, format="JPEG", quality=quality)
    return out.getvalue()


def encode(image: Image.Image, fmt: str, **options: object) -> bytes:
    out = io.BytesIO()
    image.save(out, format=fmt, **options)
    return out.getvalue()


@pytest.fixture(scope="session")
def describer() -> Iterator[PhotoDescriber]:
    """The offline describer on its packaged weights (loaded on the first photo), shared by the session."""
    import vision

    engine = vision.load_describer()
    yield engine
    engine.close()
