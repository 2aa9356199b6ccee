"""Opening photos: formats, orientation, metadata, and every bad input refused before decoding with a clear reason."""

from __future__ import annotations

import io
import struct
import zlib

import numpy as np
import pytest
from PIL import Image, PngImagePlugin

from tests.vision.conftest import encode
from vision import (
    CorruptImage,
    ImageTooLarge,
    ImageTooSmall,
    TruncatedImage,
    UnsupportedImage,
    open_image,
)

GPS_IFD = 0x8825
ORIENTATION = 0x0112


def noise(width: int, height: int, *, seed: int = 0) -> Image.Image:
    rng = np.random.default_rng(seed)
    return Image.fromarray(rng.integers(0, 256, (height, width, 3), dtype=np.uint8))


def png_of_zeros(width: int, height: int) -> bytes:
    """A valid greyscale PNG of ``width`` x ``height`` black pixels, written row by row (never held in memory)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    packer = zlib.compressobj(9)
    row = b"\x00" * (width + 1)
    idat = b"".join(packer.compress(row) for _ in range(height)) + packer.flush()
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


@pytest.fixture(scope="module")
def decompression_bomb() -> bytes:
    return png_of_zeros(30_000, 30_000)


def test_the_decompression_bomb_is_a_few_kilobytes_and_refused_from_its_header(decompression_bomb: bytes) -> None:
    assert len(decompression_bomb) < 1_000_000
    with pytest.raises(ImageTooLarge) as caught:
        open_image(decompression_bomb)
    assert caught.value.size == 900_000_000
    assert "900 megapixels" in caught.value.user_message and "limit is 40" in caught.value.user_message


def test_an_image_over_the_configured_pixel_limit_is_refused_before_decoding() -> None:
    with pytest.raises(ImageTooLarge) as caught:
        open_image(png_of_zeros(5000, 5000), max_pixels=20_000_000)
    assert caught.value.size == 25_000_000 and "25 megapixels" in caught.value.user_message


def test_fifty_megabytes_is_refused_by_size_alone() -> None:
    data = b"\xff\xd8\xff\xe0" + bytes(50 * 1024 * 1024)
    with pytest.raises(ImageTooLarge) as caught:
        open_image(data)
    assert "52 MB" in caught.value.user_message and "limit is 21 MB" in caught.value.user_message


def test_a_truncated_jpeg_says_it_arrived_incomplete() -> None:
    whole = encode(noise(640, 480), "JPEG", quality=90)
    with pytest.raises(TruncatedImage) as caught:
        open_image(whole[: len(whole) // 2])
    assert "incomplete" in caught.value.user_message


@pytest.mark.parametrize("text", ["order 100234:\nplease refund the blue scarf\n", "订单 100234：请退款，谢谢！\n"])
def test_a_text_file_named_jpg_is_not_an_image(text: str) -> None:
    with pytest.raises(UnsupportedImage) as caught:
        open_image((text * 20).encode("utf-8"))
    assert str(caught.value) == "not an image (text)" and "JPEG, PNG, WebP or GIF" in caught.value.user_message


@pytest.mark.parametrize("data", [b"", b"\xff\xd8\xff\xdb" + b"\x00" * 40, b"\x89PNG\r\n\x1a\n" + b"\x00" * 40])
def test_empty_and_damaged_headers_are_corrupt(data: bytes) -> None:
    with pytest.raises((CorruptImage, UnsupportedImage)) as caught:
        open_image(data)
    assert caught.value.user_message


def test_heic_without_its_plugin_is_named() -> None:
    heic = b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\x00" * 64
    with pytest.raises(UnsupportedImage) as caught:
        open_image(heic)
    assert "HEIC" in str(caught.value)


def test_a_one_pixel_image_is_too_small() -> None:
    with pytest.raises(ImageTooSmall) as caught:
        open_image(encode(Image.new("RGB", (1, 1), "red"), "PNG"))
    assert "too small" in caught.value.user_message


def test_an_animated_gif_gives_its_first_frame() -> None:
    frames = [Image.new("RGB", (64, 48), colour) for colour in ("red", "lime", "blue")]
    data = encode(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)
    picture = open_image(data)
    assert picture.format == "GIF" and picture.frames == 3
    red, green, blue = picture.image.getpixel((10, 10))  # type: ignore[misc]
    assert red > 200 and green < 50 and blue < 50


def test_a_cmyk_jpeg_becomes_rgb_with_its_colours() -> None:
    data = encode(Image.new("RGB", (80, 60), (200, 30, 30)).convert("CMYK"), "JPEG", quality=95)
    picture = open_image(data)
    assert picture.image.mode == "RGB"
    red, green, blue = picture.image.getpixel((40, 30))  # type: ignore[misc]
    assert red > 150 and green < 90 and blue < 90


def test_a_png_with_a_huge_text_chunk_still_opens_and_the_text_is_dropped() -> None:
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", "x" * (30 * 1024 * 1024))
    data = encode(noise(200, 100), "PNG", pnginfo=info)
    assert len(data) > 30 * 1024 * 1024
    picture = open_image(data, max_bytes=64 * 1024 * 1024)
    assert picture.image.size == (200, 100) and not picture.image.info


def test_a_png_whose_compressed_text_inflates_past_the_limit_is_refused() -> None:
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", "x" * (30 * 1024 * 1024), zip=True)
    data = encode(noise(200, 100), "PNG", pnginfo=info)
    assert len(data) < 2 * 1024 * 1024
    with pytest.raises(ImageTooLarge) as caught:
        open_image(data)
    assert "hidden data" in caught.value.user_message


def test_exif_orientation_is_applied_and_the_exif_with_its_location_is_dropped() -> None:
    exif = Image.Exif()
    exif[ORIENTATION] = 6  # the camera was turned: show the picture rotated 90° clockwise
    exif[GPS_IFD] = {2: (31.0, 14.0, 0.0), 4: (121.0, 28.0, 0.0)}
    tall_marker = Image.new("RGB", (400, 200), "white")
    tall_marker.paste((255, 0, 0), (0, 0, 100, 200))  # red on the left before the turn: on top after it
    picture = open_image(encode(tall_marker, "JPEG", exif=exif, quality=95))
    assert picture.image.size == (200, 400) and picture.size == (200, 400)
    top, bottom = picture.image.getpixel((100, 20)), picture.image.getpixel((100, 380))
    assert top[0] > 200 and top[1] < 60 and bottom[1] > 200  # type: ignore[index]
    stored = Image.open(io.BytesIO(picture.jpeg()))
    assert not stored.getexif() and "exif" not in stored.info


def test_a_twelve_megapixel_jpeg_is_decoded_at_reduced_scale_to_the_working_size() -> None:
    data = encode(noise(4032, 3024), "JPEG", quality=85)
    picture = open_image(data, max_side=1600)
    assert picture.size == (4032, 3024)
    assert picture.image.size == (1600, 1200) and picture.image.mode == "RGB"


@pytest.mark.parametrize(
    ("mode", "fmt"), [("RGBA", "PNG"), ("LA", "PNG"), ("P", "PNG"), ("L", "JPEG"), ("RGB", "WEBP"), ("I;16", "PNG")]
)
def test_other_modes_and_formats_become_rgb(mode: str, fmt: str) -> None:
    image = noise(120, 90).convert("RGBA" if mode in ("RGBA", "LA") else "RGB")
    if mode == "I;16":
        image = Image.fromarray(np.asarray(image.convert("L"), dtype=np.uint16) * 256)
    else:
        image = image.convert(mode)
    picture = open_image(encode(image, fmt))
    assert picture.image.mode == "RGB" and picture.image.size == (120, 90)
