"""The web chat runs the adapter contract suite through a real WebSocket on 127.0.0.1, like the page would."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack

import aiohttp
import pytest

from adapters.base import Adapter, Dispatch
from adapters.testing.contract import AdapterContract
from adapters.web import WebChatAdapter
from adapters.web.testing import ChatClient, serve


class TestWebChatContract(AdapterContract):
    @pytest.fixture(autouse=True)
    async def resources(self) -> AsyncIterator[None]:
        """Holds the loopback server and the client session until the contract harness is torn down."""
        async with AsyncExitStack() as stack:
            self.stack = stack
            yield

    async def connect(self, dispatch: Dispatch) -> tuple[Adapter, ChatClient]:
        adapter = WebChatAdapter()
        url = await self.stack.enter_async_context(serve(adapter, dispatch))
        http = await self.stack.enter_async_context(aiohttp.ClientSession())
        return adapter, await ChatClient.connect(http, url)
