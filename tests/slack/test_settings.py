"""The Slack channel from kefu's settings: turned on by its token, secrets from the environment only, bad
values named in one ConfigError, a token Slack refuses stops start-up."""

from __future__ import annotations

from pathlib import Path

import pytest

from adapters.slack import SlackAdapter
from adapters.testing.slack import FakeSlack
from bot.app import build_adapters, configured_channels
from bot.config import load_settings
from bot.errors import ConfigError


def test_the_bot_token_turns_the_channel_on(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-1-abc")
    monkeypatch.setenv("KEFU_SLACK__SIGNING_SECRET", "shh")
    monkeypatch.setenv("KEFU_SLACK__API_BASE", "http://127.0.0.1:9/api")
    monkeypatch.setenv("KEFU_SLACK__COMMAND", "/ask")
    settings = load_settings()
    assert configured_channels(settings) == ["slack"]
    [adapter] = build_adapters(settings, ["slack"])
    assert isinstance(adapter, SlackAdapter)
    assert adapter.api_base == "http://127.0.0.1:9/api/", "the base URL gets the trailing slash slack_sdk needs"
    assert adapter.command == "/ask" and adapter.mode == "http"
    assert [r.path for r in adapter.routes()] == ["/slack/events"]  # type: ignore[attr-defined]


def test_socket_mode_when_an_app_token_is_set(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("KEFU_SLACK__BOT_TOKEN", "xoxb-1-abc")
    monkeypatch.setenv("KEFU_SLACK__APP_TOKEN", "xapp-1-abc")
    [adapter] = build_adapters(load_settings(), ["slack"])
    assert isinstance(adapter, SlackAdapter) and adapter.mode == "socket" and list(adapter.routes()) == []


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({}, "KEFU_SLACK__BOT_TOKEN"),
        ({"KEFU_SLACK__BOT_TOKEN": "xoxp-user-token", "KEFU_SLACK__SIGNING_SECRET": "s"}, "KEFU_SLACK__BOT_TOKEN"),
        ({"KEFU_SLACK__BOT_TOKEN": "xoxb-1"}, "KEFU_SLACK__SIGNING_SECRET"),
        ({"KEFU_SLACK__BOT_TOKEN": "xoxb-1", "KEFU_SLACK__APP_TOKEN": "xoxb-2"}, "KEFU_SLACK__APP_TOKEN"),
        (
            {"KEFU_SLACK__BOT_TOKEN": "xoxb-1", "KEFU_SLACK__SIGNING_SECRET": "s", "KEFU_SLACK__API_BASE": "slack.com"},
            "KEFU_SLACK__API_BASE",
        ),
        (
            {"KEFU_SLACK__BOT_TOKEN": "xoxb-1", "KEFU_SLACK__SIGNING_SECRET": "s", "KEFU_SLACK__COMMAND": "kefu"},
            "KEFU_SLACK__COMMAND",
        ),
    ],
)
def test_bad_settings_are_named(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, env: dict[str, str], named: str
) -> None:
    monkeypatch.chdir(tmp_path)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    with pytest.raises(ConfigError, match=named) as error:
        build_adapters(load_settings(), ["slack"])
    assert "channel 'slack'" in str(error.value)


def test_secrets_in_the_file_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "kefu.toml"
    path.write_text('[slack]\nsigning_secret = "shh"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="KEFU_SLACK__SIGNING_SECRET"):
        load_settings(path)


async def test_a_token_slack_refuses_stops_start_up(fake_slack: FakeSlack) -> None:
    adapter = SlackAdapter(bot_token="xoxb-wrong", signing_secret="s", api_base=fake_slack.base_url)

    async def dispatch(_: object) -> bool:
        return True

    with pytest.raises(ConfigError, match=r"KEFU_SLACK__BOT_TOKEN \(invalid_auth\)"):
        await adapter.start(dispatch)
    await adapter.stop()
    assert [c.error for c in fake_slack.calls_to("auth.test")] == ["invalid_auth"]
