"""Typed errors for images the engine cannot use; ``user_message`` is safe to show the shopper."""

from __future__ import annotations

_RETRY = "Please send it again as a JPEG or PNG photo, or describe the item in words."


class ImageError(ValueError):
    """An image that cannot be described; ``str()`` gives the reason (for the log), ``user_message`` a reply."""

    user_message = f"Sorry, I couldn't open that picture. {_RETRY}"

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class CorruptImage(ImageError):
    """The bytes claim to be an image but cannot be decoded (damaged data, a bad header)."""

    user_message = f"Sorry, that picture seems to be damaged and I couldn't open it. {_RETRY}"


class TruncatedImage(CorruptImage):
    """The image stops before its end (an interrupted upload or download)."""

    user_message = f"That picture arrived incomplete (it is cut off), so I couldn't open it. {_RETRY}"


class UnsupportedImage(ImageError):
    """Not an image at all, or a format the engine does not read (HEIC without its plug-in, TIFF, PDF...)."""

    user_message = f"I can only look at photos (JPEG, PNG, WebP or GIF), and that file isn't one I can read. {_RETRY}"


class ImageTooLarge(ImageError):
    """Over the byte, pixel or metadata limit; refused before the image is decoded (decompression bombs)."""

    def __init__(self, reason: str, *, what: str, size: int, limit: int) -> None:
        super().__init__(reason)
        self.size = size
        self.limit = limit
        if what == "bytes":
            self.user_message = (
                f"That picture is too large ({size / 1e6:.0f} MB; the limit is {limit / 1e6:.0f} MB). "
                "Please send a smaller photo (messaging apps shrink photos when sent as photos, not files)."
            )
        elif what == "metadata":
            self.user_message = (
                "That picture carries too much hidden data (its metadata is oversized), so I didn't open it. "
                "Please send a screenshot or an ordinary photo of it instead."
            )
        else:
            self.user_message = (
                f"That picture has too many pixels ({size / 1e6:.0f} megapixels; the limit is {limit / 1e6:g}). "
                "Please send an ordinary photo or a screenshot instead."
            )


class ImageTooSmall(ImageError):
    """So few pixels that nothing can be seen (a 1x1 tracking pixel, an icon)."""

    user_message = "That picture is too small for me to see anything in it. Please send a larger photo."
