"""The console adapter runs the adapter contract suite through a pipe, like a terminal user would."""

from __future__ import annotations

import asyncio
import io
import os

from adapters.base import Adapter, Dispatch
from adapters.console import ConsoleAdapter
from adapters.testing.contract import AdapterContract
from bot.messages import HUMAN_PAYLOAD, QuickReply, Reply, Source


class PipeDriver:
    """Writes the user's lines into the adapter's stdin pipe and reads what it printed.

    A terminal has no platform to redeliver, refuse or number messages, and shows buttons by label and number
    (pressed as ``/1``, see below), so the contract's optional checks are skipped here."""

    def __init__(self, write_end: io.TextIOWrapper, output: asyncio.Queue[str]) -> None:
        self.write_end = write_end
        self.output = output

    async def say(self, text: str) -> None:
        self.write_end.write(text + "\n")
        self.write_end.flush()

    async def next_reply(self, *, timeout: float = 10.0) -> str:
        return await asyncio.wait_for(self.output.get(), timeout)

    async def close(self) -> None:
        """End of input, as Ctrl+D: the adapter's reading thread ends."""
        self.write_end.close()


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


class Terminal:
    """A console adapter on a pipe, with everything it printed and every message it dispatched."""

    def __init__(self, adapter: ConsoleAdapter, user: io.TextIOWrapper, output: io.StringIO, received: list) -> None:
        self.adapter, self.user, self.output, self.received = adapter, user, output, received

    @classmethod
    async def open(cls, *, resume: str | None = None) -> Terminal:
        read_fd, write_fd = os.pipe()
        received: list = []

        async def dispatch(message) -> bool:  # type: ignore[no-untyped-def]
            received.append(message)
            return True

        output = io.StringIO()
        adapter = ConsoleAdapter(stdin=os.fdopen(read_fd, encoding="utf-8"), stdout=output)
        if resume is not None:
            adapter.resume(resume)
        await adapter.start(dispatch)
        return cls(adapter, os.fdopen(write_fd, "w", encoding="utf-8"), output, received)

    async def type(self, text: str) -> None:
        self.user.write(text)
        self.user.flush()

    async def close(self) -> str:
        self.user.close()
        await asyncio.wait_for(self.adapter.finished.wait(), 5)
        await self.adapter.stop()
        return self.output.getvalue()


async def test_the_chat_starts_with_a_greeting_and_help_is_answered_by_the_console() -> None:
    terminal = await Terminal.open()
    await terminal.type("/help\n")
    printed = await terminal.close()
    assert printed.startswith("Hello!") and "/help lists the commands" in printed.splitlines()[0]
    for command in ("/help", "/human", "/1, /2", "/quit"):
        assert command in printed
    assert terminal.received == [], "/help went to the bot"


async def test_each_adapter_is_a_new_conversation_and_resume_continues_one() -> None:
    first, second = await Terminal.open(), await Terminal.open()
    assert first.adapter.conversation != second.adapter.conversation
    await first.type("hello\n")
    await first.close()
    await second.close()
    resumed = await Terminal.open(resume=first.adapter.conversation.conversation_id)
    await resumed.type("100258\n")
    printed = await resumed.close()
    assert printed.startswith("Welcome back")
    assert [m.conversation for m in first.received + resumed.received] == [first.adapter.conversation] * 2
    assert first.received[0].message_id != resumed.received[0].message_id


async def test_a_reply_arriving_at_the_prompt_goes_on_its_own_line_then_the_prompt_again() -> None:
    terminal = await Terminal.open()
    assert terminal.output.getvalue().endswith("you> ")
    await terminal.adapter.send(terminal.adapter.conversation, Reply(text="Your parcel left the warehouse."))
    await terminal.adapter.send(terminal.adapter.conversation, Reply(text="Anything else?"))
    printed = await terminal.close()
    lines = printed.splitlines()
    assert lines[1:] == ["you> ", "bot> Your parcel left the warehouse.", "you> ", "bot> Anything else?", "you> "]
    assert printed.endswith("you> ")


async def test_an_operator_reply_is_labelled_with_the_operator() -> None:
    terminal = await Terminal.open()
    sources = (Source(id="faq-1", title="Returns", score=0.9),)
    await terminal.adapter.send(terminal.adapter.conversation, Reply(text="Hi, Alice here.", author="alice"))
    await terminal.adapter.send(terminal.adapter.conversation, Reply(text="30 days.", sources=sources))
    printed = await terminal.close()
    assert "\nalice> Hi, Alice here.\n" in printed and printed.count("alice> ") == 1
    assert "\nbot> 30 days.\n     [1] Returns\n" in printed
