"""Configuration precedence: defaults < kefu.toml < environment; secrets only from the environment."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import load_settings
from bot.errors import ConfigError


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "kefu.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_without_file_or_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    settings = load_settings()
    assert (settings.http.host, settings.http.port) == ("127.0.0.1", 8080)
    assert settings.store_url.startswith("sqlite:///")


def test_environment_overrides_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    path = write(tmp_path, '[http]\nport = 7000\nhost = "0.0.0.0"\n[kb]\nk = 3\n')
    monkeypatch.setenv("KEFU_HTTP__PORT", "9001")
    settings = load_settings(path)
    assert settings.http.port == 9001  # environment wins
    assert settings.http.host == "0.0.0.0"  # file value kept where the environment is silent
    assert settings.kb.k == 3


def test_plain_platform_variables_are_accepted(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "123:abc")
    monkeypatch.setenv("SLACK_SIGNING_SECRET", "shh")
    settings = load_settings()
    assert settings.telegram.token is not None and settings.telegram.token.get_secret_value() == "123:abc"
    assert settings.slack.signing_secret is not None and settings.slack.signing_secret.get_secret_value() == "shh"


def test_prefixed_variable_beats_plain_alias(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "1:plain")
    monkeypatch.setenv("KEFU_TELEGRAM__TOKEN", "2:prefixed")
    assert load_settings().telegram.token.get_secret_value() == "2:prefixed"  # type: ignore[union-attr]


def test_secret_in_file_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, '[telegram]\ntoken = "1:abc"\n')
    with pytest.raises(ConfigError, match="KEFU_TELEGRAM__TOKEN"):
        load_settings(path)


def test_bad_value_and_missing_file_are_clear_errors(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        load_settings(tmp_path / "missing.toml")
    monkeypatch.setenv("KEFU_HTTP__PORT", "eighty")
    with pytest.raises(ConfigError, match="port"):
        load_settings(write(tmp_path, ""))
