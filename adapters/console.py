"""A terminal channel (``kefu chat``): the worked example of an adapter.

It shows the whole contract in a few lines: ``start`` greets and begins reading lines, handing each to
``dispatch`` as a ``Message``; ``send`` prints a ``Reply``; ``stop`` ends reading. Each adapter speaks in a new
conversation of its own (``resume`` continues an earlier one). Typing ``/human`` presses the "talk to a human"
button, ``/1``, ``/2``… press the buttons listed under the last reply, ``/help`` lists the commands (answered here,
never sent to the bot); ``/quit`` or end of input ends the chat. A reply that arrives while the prompt waits for
the user (an operator's, or a second answer) is printed on its own line, then the prompt again.
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

GREETING = "Hello! Ask me anything about the shop: orders, shipping, returns, products. /help lists the commands."
WELCOME_BACK = "Welcome back: this continues your last conversation. /help lists the commands."
HELP = """commands:
  /help      this list
  /human     ask for a person: a colleague takes the conversation over
  /1, /2 …   press a button listed under the last reply
  /quit      end the chat (so does end of input, Ctrl+D)"""


class ConsoleAdapter(Adapter):
    """One conversation between the terminal's user and the bot (or an operator who takes it over)."""

    name = "console"

    def __init__(
        self,
        *,
        stdin: TextIO | None = None,
        stdout: TextIO | None = None,
        user_id: str = "console-user",
        prompt: str = "you> ",
    ) -> None:
        self.stdin = stdin or sys.stdin
        self.stdout = stdout or sys.stdout
        self.user_id = user_id
        self.prompt = prompt
        self.finished = asyncio.Event()
        """Set when the user quits or the input ends."""
        self._reader: asyncio.Task[None] | None = None
        self._ids = itertools.count(1)
        self._run = secrets.token_hex(4)
        """Part of every message id: ids of two runs of ``kefu chat`` never collide."""
        self.conversation = ConversationRef(self.name, f"terminal-{self._run}")
        """A new conversation for every adapter, so one run never answers from another run's state."""
        self._resumed = False
        self._buttons: tuple[QuickReply, ...] = ()
        self._at_prompt = False
        """Whether the prompt is the last thing printed (the user may be typing after it)."""

    def resume(self, conversation_id: str) -> None:
        """Continue the earlier conversation ``conversation_id`` instead of a new one; call it before ``start``."""
        self.conversation = ConversationRef(self.name, conversation_id)
        self._resumed = True

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
        self._show(WELCOME_BACK if self._resumed else GREETING)

    async def _read(self, lines: asyncio.Queue[str | None], dispatch: Dispatch) -> None:
        while (line := await lines.get()) is not None:
            self._at_prompt = False  # the user pressed Enter: the cursor is at the start of a line
            text = line.strip()
            if text == "/quit":
                break
            if text == "/help":
                self._show(HELP)
                continue
            if not text:
                self._show("")
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
        label = f"{reply.author or 'bot'}> "
        indent = " " * len(label)
        lines = [reply.quote] if reply.quote else []
        lines.append(f"{label}{reply.text}")
        lines += [f"{indent}[{n}] {source.title}" for n, source in enumerate(reply.sources, 1)]
        self._buttons = reply.quick_replies
        if reply.quick_replies:
            lines.append(indent + "  ".join(f"/{n} {b.label}" for n, b in enumerate(reply.quick_replies, 1)))
        self._show("\n".join(lines))

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

    def _show(self, text: str) -> None:
        """Print ``text`` on lines of its own (never after a waiting prompt), then the prompt unless the chat ended."""
        parts = ["\n"] if self._at_prompt else []
        parts += [text + "\n"] if text else []
        done = self.finished.is_set()
        parts += [] if done else [self.prompt]
        self.stdout.write("".join(parts))
        self.stdout.flush()
        self._at_prompt = not done
