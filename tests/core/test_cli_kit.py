"""The command line's shared kit: one exit code per kind of ending, `--verbose`, errors on one `error:` line."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.cli import app
from bot.cli.kit import ExitCode

runner = CliRunner()


@pytest.mark.parametrize(
    ("args", "code", "said"),
    [
        (["ask", "hi", "--lang", "fr"], ExitCode.USAGE, "--lang takes zh or en"),
        (["sessions", "purge", "--days", "-1"], ExitCode.USAGE, "--days must be 0 or more"),
        (["kb", "search", "x", "--kb", "no-such-folder"], ExitCode.USAGE, "neither a knowledge-base index"),
        (["handoff", "show", "12345"], ExitCode.FAILED, "ticket 12345 not found"),
        (["transcribe", "missing.ogg"], ExitCode.USAGE, "cannot read missing.ogg"),
    ],
)
def test_each_command_ends_with_one_error_line_and_its_documented_code(
    args: list[str], code: ExitCode, said: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("KEFU_DATA_DIR", str(tmp_path))
    result = runner.invoke(app, args)
    assert result.exit_code == code, result.output
    [line] = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert said in line and "Traceback" not in result.output


def test_a_bad_setting_is_a_usage_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("KEFU_CHANNELS", '["web", "line"]')
    result = runner.invoke(app, ["doctor"])
    assert result.exit_code in (ExitCode.FAILED, ExitCode.USAGE)
    assert "line" in result.output


def test_verbose_logs_at_debug(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("KEFU_DATA_DIR", str(tmp_path))
    try:
        assert runner.invoke(app, ["--verbose", "sessions", "stats"]).exit_code == 0
        assert logging.getLogger().level == logging.DEBUG
        assert runner.invoke(app, ["sessions", "stats"]).exit_code == 0
        assert logging.getLogger().level > logging.DEBUG
    finally:
        runner.invoke(app, ["sessions", "stats"])


def test_the_help_documents_the_exit_codes() -> None:
    result = runner.invoke(app, ["--help"])
    assert "0 done, 1 failed, 2 usage or configuration error" in " ".join(result.stdout.split())
