"""The LINE-style package (tests/thirdparty/line/) as its users get it: installed through its entry point and
started by kefu's composition root, and its contract tests run in a plain project under strict asyncio mode."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import aiohttp
import pytest

from adapters.testing.contract import AdapterContract
from bot.app import Kefu
from bot.config import load_settings
from bot.errors import ConfigError
from bot.messages import HUMAN_PAYLOAD

PROJECT = Path(__file__).parent / "line"
ROOT = Path(__file__).parents[2]


@pytest.fixture
def installed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The package on ``sys.path`` with its distribution's entry point (as ``pip install kefu-line`` leaves it)."""
    info = tmp_path / "kefu_line-0.1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: kefu-line\nVersion: 0.1.0\n", encoding="utf-8")
    (info / "entry_points.txt").write_text("[kefu.adapters]\nline = kefu_line:factory\n", encoding="utf-8")
    monkeypatch.syspath_prepend(str(PROJECT))
    monkeypatch.syspath_prepend(str(tmp_path))


def test_a_secret_in_the_file_or_a_missing_one_stops_kefu_naming_it(installed: None, tmp_path: Path) -> None:
    config = tmp_path / "kefu.toml"
    config.write_text('channels = ["line"]\n[adapters.line]\nchannel_secret = "abc"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"channel_secret is a secret.*KEFU_ADAPTERS__LINE__CHANNEL_SECRET"):
        load_settings(config)
    from bot.app import check_channels

    with pytest.raises(ConfigError, match=r"channel 'line': set KEFU_ADAPTERS__LINE__CHANNEL_SECRET"):
        check_channels(load_settings(channels=["line"]))


@pytest.mark.slow
async def test_kefu_serves_the_installed_channel_on_its_own_server(
    installed: None, demo_components, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from kefu_line.testing import FakeLine

    async with FakeLine() as fake:
        monkeypatch.setenv("KEFU_ADAPTERS__LINE__CHANNEL_SECRET", fake.channel_secret)
        monkeypatch.setenv("KEFU_ADAPTERS__LINE__CHANNEL_TOKEN", fake.channel_token)
        config = tmp_path / "kefu.toml"
        config.write_text(
            f'channels = ["line"]\n[http]\nport = 0\n[adapters.line]\napi_base = "{fake.base_url}"\n', encoding="utf-8"
        )
        bot = Kefu(load_settings(config, data_dir=tmp_path / "data"), demo_components)
        assert [type(adapter).__name__ for adapter in bot.adapters] == ["LineAdapter"]
        await bot.start()
        try:
            assert bot.http is not None
            fake.webhook_url = f"{bot.http.url}/line/webhook"
            user = fake.user("U42")
            assert await user.says("how long do I have to return shoes?") == 200
            assert await user.redelivers() == 200
            [answer] = await fake.wait_for_messages("U42", 1, timeout=30)
            assert "30 days" in answer["text"]
            assert HUMAN_PAYLOAD in [item["action"]["data"] for item in answer["quickReply"]["items"]]
            assert await user.presses(HUMAN_PAYLOAD) == 200
            shown = await fake.wait_for_messages("U42", 2, timeout=30)
            assert "30 days" not in shown[1]["text"], "the redelivery was answered again"
            async with aiohttp.ClientSession() as http, http.get(f"{bot.http.url}/healthz") as response:
                health = await response.json()
            assert health["channels"] == ["line"] and health["failed_deliveries"] == 0
        finally:
            await bot.stop()


@pytest.mark.slow
def test_the_contract_passes_in_a_plain_project_under_strict_asyncio_mode(tmp_path: Path) -> None:
    project = tmp_path / "kefu-line"
    shutil.copytree(PROJECT, project, ignore=shutil.ignore_patterns("__pycache__"))
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "-o",
            "asyncio_mode=strict",
            "-rs",
            "test_line_contract.py",
        ],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    checks = [name for name in dir(AdapterContract) if name.startswith("test_")]
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert re.search(rf"\b{len(checks)} passed\b", result.stdout), result.stdout[-2000:]
    assert "skipped" not in result.stdout
