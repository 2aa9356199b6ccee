"""The fake platform for the channel's own tests (kefu's contract suite starts its own in ``connect``)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest_asyncio
from kefu_line.testing import FakeLine


@pytest_asyncio.fixture
async def fake_line() -> AsyncIterator[FakeLine]:
    async with FakeLine() as fake:
        yield fake
