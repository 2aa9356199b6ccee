"""kefu's logging set-up: client values cannot forge log lines, on every command."""

from __future__ import annotations

import logging
import subprocess
import sys
import unicodedata
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.logs import escape_controls

FORGED = "42\nCRITICAL bot.security: FORGED admin login ok"
log = logging.getLogger("kefu.test.logs")


@pytest.mark.parametrize(
    ("raw", "escaped"),
    [
        ("a\nb", "a\\nb"),
        ("a\r\nb", "a\\r\\nb"),
        ("\x1b[31mred", "\\x1b[31mred"),
        ("nul\x00", "nul\\x00"),
        ("c1\x85\x9b", "c1\\x85\\x9b"),
        ("ls\u2028ps\u2029", "ls\\u2028ps\\u2029"),
        ("tab\t", "tab\\t"),
        ("中文 ok", "中文 ok"),
    ],
)
def test_control_characters_are_written_as_escapes(raw: str, escaped: str) -> None:
    assert escape_controls(raw) == escaped


def test_arguments_are_escaped_and_templates_keep_their_newlines(
    kefu_logging: Callable[[str], object], capsys: pytest.CaptureFixture[str]
) -> None:
    kefu_logging("INFO")
    log.warning("telegram: callback %s failed, data %r, count %d", FORGED, "x\x1b[2J", 3)
    log.info("by name %(id)s", {"id": FORGED})
    log.info("kefu's own\ntwo lines")
    lines = capsys.readouterr().err.splitlines()
    assert lines[0].endswith(
        "callback 42\\nCRITICAL bot.security: FORGED admin login ok failed, data 'x\\x1b[2J', count 3"
    )
    assert lines[1].endswith("by name 42\\nCRITICAL bot.security: FORGED admin login ok")
    assert lines[2].endswith("kefu's own") and lines[3] == "two lines" and len(lines) == 4


def test_a_traceback_keeps_its_lines_but_exception_messages_are_escaped(
    kefu_logging: Callable[[str], object], capsys: pytest.CaptureFixture[str]
) -> None:
    kefu_logging("INFO")
    try:
        try:
            raise KeyError(FORGED)
        except KeyError as error:
            raise ValueError(f"chat {FORGED} is not numeric") from error
    except ValueError:
        log.exception("delivery to %s failed", FORGED)
    logged = capsys.readouterr().err
    assert "Traceback (most recent call last):" in logged and "direct cause" in logged
    assert "ValueError: chat 42\\nCRITICAL bot.security: FORGED admin login ok is not numeric" in logged
    assert not [line for line in logged.splitlines() if line.startswith("CRITICAL")]


@given(st.text())
def test_any_argument_stays_on_its_line(value: str) -> None:
    from bot.logs import LogSanitiser, SafeFormatter

    record = logging.LogRecord("x", logging.WARNING, __file__, 1, "id %s and %r", (value, value), None)
    assert LogSanitiser().filter(record)
    line = SafeFormatter("%(message)s").format(record)
    assert len(line.splitlines()) == 1
    assert not [ch for ch in line if unicodedata.category(ch) == "Cc" or ch in "\u2028\u2029"]


COMMANDS = [
    ["kb", "stats", "--config", "missing.toml"],
    ["intents", "train", "missing.yaml"],
    ["doctor", "--config", "missing.toml"],
]


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: c[0])
def test_every_command_escapes_and_masks_what_it_logs(command: list[str], tmp_path: Path) -> None:
    """A real ``kefu`` process (run in this worktree): what it logs after any command starts is safe."""
    script = (
        "import logging, sys\n"
        "from bot.cli import main\n"
        f"sys.argv = ['kefu', *{command!r}]\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        f"logging.getLogger('adapters.web').warning('frame id %s from 138.0013.8000', {FORGED!r})\n"
    )
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(root), "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
        timeout=60,
    )
    [line] = [line for line in done.stderr.splitlines() if "frame id" in line]
    assert line.endswith(
        "WARNING adapters.web: frame id 42\\nCRITICAL bot.security: FORGED admin login ok from [phone …8000]"
    )
    assert not [line for line in done.stderr.splitlines() if line.startswith("CRITICAL")]


def test_library_chatter_stays_out_of_the_terminal_unless_kefu_logs_at_debug(capsys) -> None:
    from bot.logs import configure_logging

    chatty = logging.getLogger("bm25s")
    chatty.setLevel(logging.DEBUG)  # as bm25s does to its own logger when imported
    configure_logging("INFO")
    chatty.debug("Building index from tokens")
    logging.getLogger("faiss.loader").info("Could not load library with AVX512 support")
    chatty.warning("a real problem")
    logging.getLogger("bot.test").info("kefu's own line")
    shown = capsys.readouterr().err
    assert "Building index" not in shown and "AVX512" not in shown
    assert "a real problem" in shown and "kefu's own line" in shown
    configure_logging("DEBUG")
    chatty.debug("Building index from tokens")
    assert "Building index" in capsys.readouterr().err
