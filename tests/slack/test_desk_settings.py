"""The Slack desk from kefu's settings: the hand-off channel and operators from the environment, checked before
anything connects; without Slack the built-in desk stays."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from bot.app import build_adapters
from bot.app.desk import desk_watcher
from bot.config import load_settings
from bot.errors import ConfigError


@pytest.fixture
def slack_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> pytest.MonkeyPatch:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("KEFU_SLACK__BOT_TOKEN", "xoxb-1-abc")
    monkeypatch.setenv("KEFU_SLACK__SIGNING_SECRET", "shh")
    return monkeypatch


def test_operators_are_read_comma_separated_and_the_desk_is_built(slack_env: pytest.MonkeyPatch) -> None:
    slack_env.setenv("KEFU_SLACK__HANDOFF_CHANNEL", "C0HANDOFF")
    slack_env.setenv("KEFU_SLACK__OPERATORS", "U0ANA, S0SUPPORT,W0BEN")
    settings = load_settings()
    assert settings.slack.operators == ["U0ANA", "S0SUPPORT", "W0BEN"]
    assert desk_watcher(settings, build_adapters(settings, ["slack"])) is not None


def test_no_hand_off_channel_means_the_built_in_desk(slack_env: pytest.MonkeyPatch) -> None:
    settings = load_settings()
    assert desk_watcher(settings, build_adapters(settings, ["slack"])) is None


def test_a_hand_off_channel_without_the_slack_channel_is_logged_and_ignored(
    slack_env: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    slack_env.setenv("KEFU_SLACK__HANDOFF_CHANNEL", "C0HANDOFF")
    slack_env.setenv("KEFU_SLACK__OPERATORS", "U0ANA")
    settings = load_settings()
    with caplog.at_level(logging.WARNING):
        assert desk_watcher(settings, build_adapters(settings, ["web"])) is None
    assert "built-in desk" in caplog.text


@pytest.mark.parametrize(
    ("channel", "operators", "named"),
    [
        ("#handoff", "U0ANA", "KEFU_SLACK__HANDOFF_CHANNEL"),
        ("C0HANDOFF", "", "KEFU_SLACK__OPERATORS"),
        ("C0HANDOFF", "ana@example.com", "KEFU_SLACK__OPERATORS"),
    ],
)
def test_bad_desk_settings_are_a_config_error_naming_the_variable(
    slack_env: pytest.MonkeyPatch, channel: str, operators: str, named: str
) -> None:
    slack_env.setenv("KEFU_SLACK__HANDOFF_CHANNEL", channel)
    slack_env.setenv("KEFU_SLACK__OPERATORS", operators)
    settings = load_settings()
    with pytest.raises(ConfigError, match=named):
        desk_watcher(settings, build_adapters(settings, ["slack"]))
