"""The server backend: a vision-language model behind an OpenAI-compatible server (a loopback fake here). The photo
goes as a JPEG data URL without its EXIF; a 5xx, a timeout or no server leaves the photo described offline."""

from __future__ import annotations

import asyncio
import base64
import io
from collections.abc import AsyncIterator

import pytest
from PIL import Image

from tests.dialogue.openai_fake import FakeOpenAI
from tests.vision.conftest import encode, render_label
from vision import Description, load_describer

pytestmark = pytest.mark.slow

CAPTION = "a cream label for a leather sneaker on a wooden table"


@pytest.fixture
async def server() -> AsyncIterator[FakeOpenAI]:
    fake = FakeOpenAI()
    await fake.start()
    yield fake
    await fake.stop()


def located_photo() -> bytes:
    exif = Image.Exif()
    exif[0x8825] = {2: (31.0, 14.0, 0.0), 4: (121.0, 28.0, 0.0)}  # where the shopper lives
    label = Image.open(io.BytesIO(render_label(["Cloudstep Leather Sneaker", "SKU LL-SH-001"])))
    return encode(label, "JPEG", exif=exif)


async def describe(base_url: str, photo: bytes, *, timeout_s: float = 10.0) -> Description:
    describer = load_describer(backend="server", model="qwen2.5-vl-7b", base_url=base_url, timeout_s=timeout_s)
    try:
        [result] = await asyncio.to_thread(describer.describe_batch, [photo])
    finally:
        describer.close()
    assert isinstance(result, Description), result
    return result


async def test_the_photo_goes_as_a_data_url_without_exif_and_the_answer_is_the_caption(server: FakeOpenAI) -> None:
    server.then(CAPTION)
    result = await describe(server.base_url, located_photo())
    assert result.caption == CAPTION
    assert "SKU LL-SH-001" in result.text and result.labels
    [body] = server.requests
    assert body["model"] == "qwen2.5-vl-7b"
    [message] = body["messages"]
    kinds = [part["type"] for part in message["content"]]
    assert kinds == ["text", "image_url"]
    url = message["content"][1]["image_url"]["url"]
    assert url.startswith("data:image/jpeg;base64,")
    sent = Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1])))
    assert sent.format == "JPEG" and not sent.getexif() and "exif" not in sent.info


@pytest.mark.parametrize(("status", "delay_s"), [(503, 0.0), (500, 0.0), (200, 3.0)])
async def test_a_failing_or_slow_server_leaves_the_offline_description(
    server: FakeOpenAI, status: int, delay_s: float
) -> None:
    server.then(CAPTION, status=status, delay_s=delay_s)
    result = await describe(server.base_url, located_photo(), timeout_s=1.0)
    assert result.caption is None
    assert "SKU LL-SH-001" in result.text and result.labels


async def test_no_server_at_all_leaves_the_offline_description() -> None:
    result = await describe("http://127.0.0.1:9/v1", located_photo(), timeout_s=1.0)
    assert result.caption is None and "SKU LL-SH-001" in result.text


def test_the_server_backend_needs_a_model_and_a_url() -> None:
    with pytest.raises(ValueError, match="needs a model"):
        load_describer(backend="server", base_url="http://127.0.0.1:8000/v1")
    with pytest.raises(ValueError, match="URL"):
        load_describer(backend="server", model="qwen2.5-vl-7b")
