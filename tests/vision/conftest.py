"""Photos for the vision tests: scikit-image's sample photographs and printed labels rendered with Pillow (Debian's
fonts-wqy-microhei for Chinese; .ci/run installs it)."""

from __future__ import annotations

import io
import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from PIL import Image

from vision import testing
from vision.testing import CJK_FONT

if TYPE_CHECKING:
    from vision import PhotoDescriber


def require_cjk_font() -> None:
    """Skip where the CJK font is missing, but fail in CI (which installs it)."""
    if not CJK_FONT.is_file():
        message = "fonts-wqy-microhei is not installed (apt-get install it; .ci/run does)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)


def render_label(lines: Sequence[str], **options: Any) -> bytes:
    """``vision.testing.render_label`` with the CJK font the tests' Chinese labels need."""
    require_cjk_font()
    return testing.render_label(lines, **options)


def sample_photo(name: str) -> bytes:
    """One of scikit-image's sample photographs (shipped in its wheel), as the file's bytes."""
    skimage = pytest.importorskip("skimage")
    return (Path(skimage.__file__).parent / "data" / name).read_bytes()


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
