"""Configuration precedence: defaults < kefu.toml < environment; secrets only from the environment."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import pytest

from adapters.testing.telegram import FakeTelegram
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


@pytest.mark.parametrize(
    ("text", "env"),
    [
        ('[Telegram]\ntoken = "123:abc"\n', "KEFU_TELEGRAM__TOKEN"),
        ('[telegram]\nTOKEN = "123:abc"\n', "KEFU_TELEGRAM__TOKEN"),
        ('[TELEGRAM]\nWebhook_Secret = "s"\n', "KEFU_TELEGRAM__WEBHOOK_SECRET"),
        ('[Slack]\nSIGNING_SECRET = "s"\n', "KEFU_SLACK__SIGNING_SECRET"),
        ('Generation.Api_Key = "sk-1"\n', "KEFU_GENERATION__API_KEY"),
        ('TELEGRAM__TOKEN = "123:abc"\n', "KEFU_TELEGRAM__TOKEN"),
    ],
)
def test_a_secret_in_the_file_is_refused_whatever_the_case(tmp_path: Path, text: str, env: str) -> None:
    with pytest.raises(ConfigError, match=f"is a secret; set it in the environment as {env}$"):
        load_settings(write(tmp_path, text))


@pytest.mark.parametrize(
    ("text", "complaint"),
    [
        ('[telegram]\ntokn = "123:abc"\n', "telegram.tokn: not a kefu setting"),
        ("[http]\nPORT = 9000\n", r"http.PORT: not a kefu setting \(names are lower case: http.port\)"),
        ('[shop]\nname = "x"\nwebsite = "https://x"\n', "shop.website: not a kefu setting"),
    ],
)
def test_an_unknown_key_in_the_file_is_refused_not_ignored(tmp_path: Path, text: str, complaint: str) -> None:
    with pytest.raises(ConfigError, match=complaint) as refused:
        load_settings(write(tmp_path, text))
    assert "\n" not in str(refused.value) and "123:abc" not in str(refused.value), "one line, no value"


def test_table_names_stay_case_insensitive_for_ordinary_settings(tmp_path: Path) -> None:
    assert load_settings(write(tmp_path, "[Http]\nport = 9001\n")).http.port == 9001


async def test_kefu_run_with_a_token_in_the_file_exits_2_before_calling_telegram(
    fake_telegram: FakeTelegram, tmp_path: Path
) -> None:
    """``kefu run`` in a real process, pointed at the fake Telegram: it must never call getMe or setWebhook."""
    config = write(
        tmp_path,
        f'[Telegram]\ntoken = "{fake_telegram.token}"\nmode = "webhook"\n'
        f'api_base = "{fake_telegram.base_url}"\nwebhook_url = "https://x/telegram/webhook"\n',
    )
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(tmp_path),
        "XDG_DATA_HOME": str(tmp_path / "data"),
        "PYTHONPATH": str(Path(__file__).resolve().parents[2]),
        "KEFU_TELEGRAM__WEBHOOK_SECRET": "s3cret",
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.cli",
        "run",
        "--config",
        str(config),
        cwd=tmp_path,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        _, stderr = await asyncio.wait_for(process.communicate(), timeout=60)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert process.returncode == 2
    assert stderr.decode().splitlines() == [
        f"error: {config}: [Telegram] token is a secret; set it in the environment as KEFU_TELEGRAM__TOKEN"
    ]
    assert fake_telegram.calls == []
