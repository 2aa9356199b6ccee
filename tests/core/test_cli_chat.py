"""`kefu chat`: a conversation in the terminal, through the console channel and the whole bot."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

pytestmark = pytest.mark.slow


def test_kefu_chat_holds_a_conversation(demo_settings, demo_components) -> None:
    env = {**os.environ, "KEFU_DATA_DIR": str(demo_settings.data_dir)}
    conversation = "hello\nhow long do I have to return shoes?\nwhere is my order?\n100234\n/human\n/quit\n"
    result = subprocess.run(
        [sys.executable, "-c", "from bot.cli import main; main()", "chat"],
        input=conversation.encode(),
        capture_output=True,
        env=env,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr.decode()
    replies = re.findall(r"bot> (.*)", result.stdout.decode())
    assert len(replies) == 5, result.stdout.decode()
    greeting, returns, ask_number, status, human = replies
    assert "Lumen & Loom" in greeting
    assert "30 days" in returns
    assert "order number" in ask_number.lower()
    assert "100234" in status and "shipped" in status.lower()
    assert "colleague" in human.lower() or "human" in human.lower()
