"""The console adapter runs the adapter contract suite through a pipe, like a terminal user would."""

from __future__ import annotations

import asyncio
import io
import os

from adapters.base import Adapter, Dispatch
from adapters.console import ConsoleAdapter
from adapters.testing.contract import AdapterContract
from bot.messages import HUMAN_PAYLOAD, QuickReply, Reply


class PipeDriver:
    """Writes the user's lines into the adapter's stdin pipe and reads what it printed."""

    def __init__(self, write_end: io.TextIOWrapper, output: asyncio.Queue[str]) -> None:
        self.write_end = write_end
        self.output = output

    async def say(self, text: str) -> None:
        self.write_end.write(text + "\n")
        self.write_end.flush()

    async def next_reply(self, *, timeout: float = 10.0) -> str:
        return await asyncio.wait_for(self.output.get(), timeout)


class CapturedOutput(io.StringIO):
    """stdout that hands each printed bot reply to a queue."""

    def __init__(self, replies: asyncio.Queue[str]) -> None:
        super().__init__()
        self.replies = replies

    def write(self, text: str) -> int:
        for line in text.splitlines():
            if line.startswith("bot> "):
                self.replies.put_nowait(line.removeprefix("bot> "))
        return super().write(text)


class TestConsoleContract(AdapterContract):
    async def connect(self, dispatch: Dispatch) -> tuple[Adapter, PipeDriver]:
        read_fd, write_fd = os.pipe()
        replies: asyncio.Queue[str] = asyncio.Queue()
        adapter = ConsoleAdapter(stdin=os.fdopen(read_fd, encoding="utf-8"), stdout=CapturedOutput(replies))
        await adapter.start(dispatch)
        return adapter, PipeDriver(os.fdopen(write_fd, "w", encoding="utf-8"), replies)


async def test_buttons_are_pressed_by_number_and_human_command() -> None:
    read_fd, write_fd = os.pipe()
    received = []

    async def dispatch(message) -> None:
        received.append(message)

    output = io.StringIO()
    adapter = ConsoleAdapter(stdin=os.fdopen(read_fd, encoding="utf-8"), stdout=output)
    await adapter.start(dispatch)
    await adapter.send(adapter.conversation, Reply(text="hi", quick_replies=(QuickReply("Yes", "pay:yes"),)))
    with os.fdopen(write_fd, "w", encoding="utf-8") as user:
        user.write("/1\n/human\n/7\n/quit\n")
    await asyncio.wait_for(adapter.finished.wait(), 5)
    await adapter.stop()
    assert [m.payload for m in received] == ["pay:yes", HUMAN_PAYLOAD, None]
    assert received[2].text == "/7"
    assert "/1 Yes" in output.getvalue()
