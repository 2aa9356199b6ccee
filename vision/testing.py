"""Photos for tests and benchmarks: printed labels rendered with Pillow, lying on a textured table, saved as JPEG.

    photo = render_label(["Cloudstep Leather Sneaker", "SKU LL-SH-001"], angle=7, quality=70)
    phone = render_label(["LL-SH-003"], size=(1000, 750), scale=4.0)      # a 12-megapixel phone photo

Chinese needs a CJK font: Debian's ``fonts-wqy-microhei`` (``CJK_FONT``); without it ``label_font`` falls back
to Pillow's own font, which has Latin glyphs only.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

CJK_FONT = Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc")


def label_font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    """The CJK font when installed, else Pillow's built-in scalable font (Latin only)."""
    if CJK_FONT.is_file():
        return ImageFont.truetype(str(CJK_FONT), size)
    return ImageFont.load_default(size)


def textured_background(width: int, height: int, *, seed: int = 0) -> Image.Image:
    """Wood-grain-like noise: stripes plus speckle, blurred a little, as a table top under a label."""
    rng = np.random.default_rng(seed)
    x = np.linspace(0, 12 * np.pi, width)
    stripes = (np.sin(x + rng.random() * 6)[None, :] * 25 + 150) * np.ones((height, 1))
    grey = np.clip(stripes + rng.normal(0, 18, (height, width)), 0, 255)
    rgb = np.stack([grey, grey * 0.8, grey * 0.6], axis=-1).astype(np.uint8)
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
    """A printed label (dark text on an off-white card) on a textured background, turned by ``angle`` degrees,
    saved as a JPEG of ``quality``; ``scale`` enlarges the whole photo (a phone camera's resolution)."""
    font = label_font(font_size)
    widths = [int(font.getbbox(line)[2]) for line in lines]
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


AUGMENTATIONS = ("crop", "rotate", "relight", "recompress", "all")
"""How a shopper's photo of a catalogue item differs from the catalogue's photo (``augment``)."""


def augment(image: Image.Image, kind: str, *, seed: int = 0) -> bytes:
    """A shopper's photo of the item in ``image``, as JPEG bytes: ``crop`` (60-80 % of the area, off centre),
    ``rotate`` (10-25° either way), ``relight`` (brightness, contrast and a colour cast), ``recompress`` (a messaging
    app: longest side 640, JPEG quality 35) or ``all`` of them in that order."""
    rng = np.random.default_rng(seed)
    steps = ("crop", "rotate", "relight", "recompress") if kind == "all" else (kind,)
    shot, quality = image.convert("RGB"), 90
    for step in steps:
        if step == "crop":
            keep = float(np.sqrt(rng.uniform(0.6, 0.8)))
            width, height = round(shot.width * keep), round(shot.height * keep)
            left = int(rng.integers(0, shot.width - width + 1))
            top = int(rng.integers(0, shot.height - height + 1))
            shot = shot.crop((left, top, left + width, top + height))
        elif step == "rotate":
            angle = float(rng.uniform(10, 25) * rng.choice([-1, 1]))
            shot = shot.rotate(angle, resample=Image.Resampling.BICUBIC, fillcolor=(128, 128, 128))
        elif step == "relight":
            pixels = np.asarray(shot, dtype=np.float32)
            gain = rng.uniform(0.6, 1.4)
            contrast = rng.uniform(0.7, 1.3)
            cast = rng.uniform(0.85, 1.15, size=3)
            mean = pixels.mean()
            pixels = ((pixels - mean) * contrast + mean) * gain * cast
            shot = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))
        elif step == "recompress":
            shot.thumbnail((640, 640), Image.Resampling.BILINEAR)
            quality = 35
        else:
            raise ValueError(f"unknown augmentation {step!r}; choose from {', '.join(AUGMENTATIONS)}")
    out = io.BytesIO()
    shot.save(out, format="JPEG", quality=quality)
    return out.getvalue()
