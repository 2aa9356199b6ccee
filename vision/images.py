"""Opening shoppers' photos safely: limits checked from the header before decoding, EXIF applied then dropped.

    picture = open_image(data, max_bytes=20_000_000, max_pixels=40_000_000, max_side=1600)
    picture.image          # RGB, upright, no EXIF, longest side at most max_side
    picture.jpeg()         # a re-encoded copy safe to store or log (no location, no camera data)

JPEGs are decoded at a reduced scale when they are larger than needed (libjpeg's DCT scaling, Pillow's
``draft``), so a 12-megapixel photo never exists in memory at full size.
"""

from __future__ import annotations

import io
import re
import warnings
from dataclasses import dataclass

from PIL import Image, ImageFile, UnidentifiedImageError

from vision.errors import CorruptImage, ImageTooLarge, ImageTooSmall, TruncatedImage, UnsupportedImage

READABLE = ("JPEG", "MPO", "PNG", "WEBP", "GIF", "HEIF", "AVIF")
"""Formats accepted (MPO: the multi-picture JPEG some phones write; HEIF/AVIF only where Pillow has a plug-in)."""
MIN_SIDE = 8
"""Narrower than this, nothing can be seen."""
_SIGNATURES = {b"ftypheic": "HEIC", b"ftypheix": "HEIC", b"ftypmif1": "HEIF", b"ftypavif": "AVIF"}


@dataclass(frozen=True, slots=True)
class Picture:
    """One decoded photo: the RGB image the models see, and what the header said about the original."""

    image: Image.Image
    format: str
    size: tuple[int, int]
    """The original's width and height, upright."""
    frames: int = 1
    """Frames in the file; only the first of an animation is used."""

    def jpeg(self, *, quality: int = 85) -> bytes:
        """A re-encoded copy without metadata (EXIF, GPS, ICC, comments): what may be stored or logged."""
        out = io.BytesIO()
        self.image.save(out, format="JPEG", quality=quality)
        return out.getvalue()


def open_image(
    data: bytes, *, max_bytes: int = 20 * 1024 * 1024, max_pixels: int = 40_000_000, max_side: int = 1600
) -> Picture:
    """Decode ``data`` into an upright RGB ``Picture`` whose longest side is at most ``max_side``.

    Raises ``ImageTooLarge`` (bytes or pixels over the limit, checked before decoding), ``UnsupportedImage``
    (not an image, or a format not in ``READABLE``), ``TruncatedImage``, ``CorruptImage`` or ``ImageTooSmall``.
    """
    if len(data) > max_bytes:
        raise ImageTooLarge(f"{len(data)} bytes, over {max_bytes}", what="bytes", size=len(data), limit=max_bytes)
    if not data:
        raise CorruptImage("the file is empty")
    image = _identify(data, max_pixels=max_pixels)
    width, height = image.size
    if width * height > max_pixels:
        raise ImageTooLarge(
            f"{width}x{height} pixels, over {max_pixels}", what="pixels", size=width * height, limit=max_pixels
        )
    if min(width, height) < MIN_SIDE:
        raise ImageTooSmall(f"{width}x{height} pixels")
    frames = int(getattr(image, "n_frames", 1) or 1)
    orientation = image.getexif().get(0x0112, 1)
    if image.format in ("JPEG", "MPO") and max(width, height) > max_side:
        scale = max_side / max(width, height)
        image.draft("RGB", (max(1, int(width * scale)), max(1, int(height * scale))))
    try:
        image.load()
    except OSError as error:
        if "truncated" in str(error).lower():
            raise TruncatedImage(str(error)) from None
        raise CorruptImage(f"{image.format} cannot be decoded: {error}") from None
    except (ValueError, SyntaxError, EOFError) as error:  # Pillow's decoders raise these for damaged data
        raise CorruptImage(f"{image.format} cannot be decoded: {error}") from None
    rgb = _upright_rgb(image, orientation)
    rgb.thumbnail((max_side, max_side), Image.Resampling.BILINEAR, reducing_gap=3.0)
    rgb.info.clear()
    size = (height, width) if orientation in (5, 6, 7, 8) else (width, height)
    return Picture(image=rgb, format=str(image.format), size=size, frames=frames)


def _identify(data: bytes, *, max_pixels: int) -> ImageFile.ImageFile:
    """The opened (not yet decoded) image; Pillow reads only its header here."""
    kind = _signature(data)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        found = re.search(r"\((\d+) pixels\)", str(error))
        pixels = int(found.group(1)) if found else max_pixels + 1
        raise ImageTooLarge(str(error), what="pixels", size=pixels, limit=max_pixels) from None
    except UnidentifiedImageError:
        if kind is not None:
            raise UnsupportedImage(f"{kind} images need Pillow's {kind} plug-in, which is not installed") from None
        raise UnsupportedImage(f"not an image ({_first_bytes(data)})") from None
    except ValueError as error:
        if "text" in str(error).lower():  # PNG text chunks over Pillow's limits: a metadata bomb
            raise ImageTooLarge(str(error), what="metadata", size=len(data), limit=0) from None
        raise CorruptImage(f"unreadable image header: {error}") from None
    except (OSError, SyntaxError, EOFError) as error:  # a damaged header
        raise CorruptImage(f"unreadable image header: {error}") from None
    if image.format not in READABLE:
        raise UnsupportedImage(f"{image.format} images are not accepted")
    return image


def _upright_rgb(image: Image.Image, orientation: int) -> Image.Image:
    """RGB with transparency flattened on white, turned by the EXIF orientation."""
    if image.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        image = image.point(lambda value: value / 256).convert("L")
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        flat = Image.new("RGB", rgba.size, (255, 255, 255))
        flat.paste(rgba, mask=rgba.getchannel("A"))
        image = flat
    elif image.mode != "RGB":
        image = image.convert("RGB")
    turn = {
        2: Image.Transpose.FLIP_LEFT_RIGHT,
        3: Image.Transpose.ROTATE_180,
        4: Image.Transpose.FLIP_TOP_BOTTOM,
        5: Image.Transpose.TRANSPOSE,
        6: Image.Transpose.ROTATE_270,
        7: Image.Transpose.TRANSVERSE,
        8: Image.Transpose.ROTATE_90,
    }.get(orientation)
    return image.transpose(turn) if turn is not None else image


def _signature(data: bytes) -> str | None:
    """HEIC/HEIF/AVIF by their ``ftyp`` box, to say why such a file cannot be read."""
    return _SIGNATURES.get(data[4:12]) if len(data) >= 12 else None


def _first_bytes(data: bytes) -> str:
    """``text`` for a file that starts like text (UTF-8 included), else its first bytes in hex, for the log."""
    head = data[:64].decode("utf-8", errors="replace").rstrip("\ufffd")  # a character cut at byte 64 is fine
    readable = bool(head) and all(ch.isprintable() or ch in "\r\n\t" for ch in head) and "\ufffd" not in head
    return "text" if readable else f"starts with {data[:8].hex()}"
