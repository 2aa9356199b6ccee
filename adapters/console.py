"""A terminal channel (``kefu chat``): the worked example of an adapter.

It shows the whole contract in a few lines: ``start`` begins reading lines and hands each to
``dispatch`` as a ``Message``; ``send`` prints a ``Reply``; ``stop`` ends reading. Typing ``/human``
presses the "talk to a human" button, ``/1``, ``/2``… press the buttons listed under the last reply;
``/quit`` or end of input ends the chat.
"""

from __future__ import annotations

import asyncio
import itertools
import secrets
import sys
import threading
from typing import TextIO

from adapters.base import Adapter, Dispatch
from bot.messages import HUMAN_PAYLOAD, ConversationRef, Message, QuickReply, Reply


class ConsoleAdapter(Adapter):
    """One conversation between the terminal's user and the bot."""

    name = "console"

    def __init__(
        self,
        *,
        stdin: TextIO | None = None,
        stdout: TextIO | None = None,
        user_id: str = "console-user",
        conversation_id: str = "terminal",
        prompt: str = "you> ",
    ) -> None:
        self.stdin = stdin or sys.stdin
        self.stdout = stdout or sys.stdout
        self.user_id = user_id
        self.conversation = ConversationRef(self.name, conversation_id)
        self.prompt = prompt
        self.finished = asyncio.Event()
        """Set when the user quits or the input ends."""
        self._reader: asyncio.Task[None] | None = None
        self._ids = itertools.count(1)
        self._run = secrets.token_hex(4)
        """Part of every message id: ids of two runs of ``kefu chat`` never collide."""
        self._buttons: tuple[QuickReply, ...] = ()

    async def start(self, dispatch: Dispatch) -> None:
        lines: asyncio.Queue[str | None] = asyncio.Queue()
        loop = asyncio.get_running_loop()

        def read_lines() -> None:  # a daemon thread: a blocked readline must not keep the process alive
            try:
                for line in self.stdin:
                    loop.call_soon_threadsafe(lines.put_nowait, line)
                loop.call_soon_threadsafe(lines.put_nowait, None)
            except (RuntimeError, ValueError, OSError):  # the loop or the input closed under us: nothing to read into
                return

        threading.Thread(target=read_lines, name="kefu-console-stdin", daemon=True).start()
        self._reader = asyncio.create_task(self._read(lines, dispatch))
        self._write(self.prompt)

    async def _read(self, lines: asyncio.Queue[str | None], dispatch: Dispatch) -> None:
        while (line := await lines.get()) is not None:
            text = line.strip()
            if text == "/quit":
                break
            if not text:
                self._write(self.prompt)
                continue
            payload = self._pressed(text)
            await dispatch(
                Message(
                    conversation=self.conversation,
                    user_id=self.user_id,
                    text="" if payload else text,
                    payload=payload,
                    message_id=f"{self._run}-{next(self._ids)}",
                )
            )
        self.finished.set()

    async def send(self, conversation: ConversationRef, reply: Reply) -> None:
        lines = [f"\n{reply.quote}"] if reply.quote else []
        lines.append(f"bot> {reply.text}")
        lines += [f"     [{n}] {source.title}" for n, source in enumerate(reply.sources, 1)]
        self._buttons = reply.quick_replies
        if reply.quick_replies:
            lines.append("     " + "  ".join(f"/{n} {b.label}" for n, b in enumerate(reply.quick_replies, 1)))
        self._write("\n".join(lines) + "\n" + ("" if self.finished.is_set() else self.prompt))

    async def stop(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
            await asyncio.gather(self._reader, return_exceptions=True)
            self._reader = None
        self.finished.set()

    def _pressed(self, text: str) -> str | None:
        """The payload of the button a command presses, or None for ordinary text."""
        if text == "/human":
            return HUMAN_PAYLOAD
        if text.startswith("/") and text[1:].isdigit() and 0 < int(text[1:]) <= len(self._buttons):
            return self._buttons[int(text[1:]) - 1].payload
        return None

    def _write(self, text: str) -> None:
        self.stdout.write(text)
        self.stdout.flush()
