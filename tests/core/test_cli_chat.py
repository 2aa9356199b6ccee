"""`kefu chat`: a conversation in the terminal, through the console channel and the whole bot, in real processes."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
import time

import pytest

from bot.config import Settings

pytestmark = pytest.mark.slow
KEFU = [sys.executable, "-c", "from bot.cli import main; main()"]
CJK = re.compile(r"[\u4e00-\u9fff]")


def kefu_env(settings: Settings) -> dict[str, str]:
    """The environment of a `kefu` process on the session's demo data dir (models and index already built)."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("KEFU_")}
    return env | {"KEFU_DATA_DIR": str(settings.data_dir), "KEFU_STORE__OUTBOX_POLL_S": "0.2"}


def chat(settings: Settings, typed: str, *options: str) -> tuple[str, list[str]]:
    """Run `kefu chat` with ``typed`` as its input; what it printed, and the text of each reply of the bot."""
    result = subprocess.run(
        [*KEFU, "chat", *options],
        input=typed.encode(),
        capture_output=True,
        env=kefu_env(settings),
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr.decode()
    printed = result.stdout.decode()
    return printed, re.findall(r"bot> (.*)", printed)


def test_kefu_chat_holds_a_conversation(demo_settings, demo_components) -> None:
    conversation = "hello\nhow long do I have to return shoes?\nwhere is my order?\n100234\n/human\n/quit\n"
    printed, replies = chat(demo_settings, conversation)
    assert printed.startswith("Hello!"), "the chat starts with a greeting line"
    assert len(replies) == 5, printed
    greeting, returns, ask_number, status, human = replies
    assert "Lumen & Loom" in greeting
    assert "30 days" in returns
    assert "order number" in ask_number.lower()
    assert "100234" in status and "shipped" in status.lower()
    assert "colleague" in human.lower() or "human" in human.lower()


def test_after_an_unknown_order_number_a_corrected_one_and_help_are_understood(demo_settings, demo_components) -> None:
    """As reported: after an unknown number, "sorry, 100258" and /help were answered "Thanks for chatting…"."""
    typed = "where is my order?\n100257\nsorry, 100258\n/help\nwhere is my order?\n100257\n100258\n/quit\n"
    printed, replies = chat(demo_settings, typed)
    assert len(replies) == 6, printed
    assert "order number" in replies[0].lower()
    assert "couldn't find order #100257" in replies[1] and "couldn't find order #100257" in replies[4]
    assert "#100258" in replies[2] and "waiting for payment" in replies[2]
    assert "#100258" in replies[5] and "waiting for payment" in replies[5], "a bare number after the question"
    assert "/human" in printed and "/quit" in printed.split("sorry", 1)[-1], "/help listed the commands"
    assert not any("great day" in reply.lower() or "thanks for chatting" in reply.lower() for reply in replies)


def test_each_run_is_a_new_conversation_and_resume_continues_the_last(demo_settings, demo_components) -> None:
    """As reported: every run shared `console:terminal`, so a new run answered in Chinese from the last one's state."""
    _, [asked] = chat(demo_settings, "我的快递到哪了\n/quit\n")
    assert "订单号" in asked
    _, [resumed] = chat(demo_settings, "100234\n/quit\n", "--resume")
    assert "#100234" in resumed and "已发货" in resumed, "--resume continues the last run's question and language"
    printed, [fresh] = chat(demo_settings, "100234\n/quit\n")
    assert printed.startswith("Hello!") and not CJK.search(fresh), "a new run starts from nothing"
    assert (demo_settings.data_dir / "last-chat").read_text().startswith("terminal-"), "the id --resume continues"


class ChatProcess:
    """`kefu chat` in a process whose input stays open, its output read as it comes."""

    def __init__(self, settings: Settings) -> None:
        self.process = subprocess.Popen(
            [*KEFU, "chat"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=kefu_env(settings),
        )
        self.printed = b""
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        while chunk := os.read(self.process.stdout.fileno(), 4096):
            self.printed += chunk

    def type(self, text: str) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(text.encode())
        self.process.stdin.flush()

    def wait_for(self, text: str, *, timeout: float = 120) -> str:
        """Everything printed so far, once ``text`` is among it (or the test fails after ``timeout`` seconds)."""
        deadline = time.monotonic() + timeout
        while text not in self.printed.decode(errors="replace"):
            assert time.monotonic() < deadline and self.process.poll() is None, self.printed.decode(errors="replace")
            time.sleep(0.1)
        return self.printed.decode()

    def quit(self) -> int:
        self.type("/quit\n")
        assert self.process.stdin is not None
        self.process.stdin.close()
        code = self.process.wait(timeout=120)
        self._reader.join(timeout=10)
        return code


def test_an_operator_reply_is_labelled_and_printed_off_the_prompt(demo_settings, demo_components) -> None:
    chatting = ChatProcess(demo_settings)
    try:
        chatting.type("/human\n")
        chatting.wait_for("colleague")
        conversation = (demo_settings.data_dir / "last-chat").read_text()
        listed = subprocess.run(
            [*KEFU, "handoff", "list", "--json"],
            capture_output=True,
            env=kefu_env(demo_settings),
            timeout=120,
            check=True,
        )
        [ticket] = [t for t in json.loads(listed.stdout) if t["conversation"] == f"console:{conversation}"]
        reply = ["handoff", "reply", str(ticket["id"]), "Hi, Alice here. How can I help?", "--operator", "alice"]
        subprocess.run([*KEFU, *reply], capture_output=True, env=kefu_env(demo_settings), timeout=120, check=True)
        printed = chatting.wait_for("Alice here. How can I help?\n")
    finally:
        assert chatting.quit() == 0
    assert "\nalice> Hi, Alice here. How can I help?\nyou> " in printed, printed
    assert "you> alice>" not in printed and "bot> Hi, Alice" not in printed
