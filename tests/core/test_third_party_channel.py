"""A channel from another package (entry point ``kefu.adapters``) gets its own settings table, checked early."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from bot.app import check_channels
from bot.config import load_settings
from bot.errors import ConfigError

PACKAGE = """
from adapters.base import Adapter
from bot.errors import ConfigError


class LineAdapter(Adapter):
    name = "line"

    def __init__(self, *, settings):
        if "api_base" not in settings:
            raise ConfigError("set KEFU_ADAPTERS__LINE__API_BASE")
        self.settings = settings

    async def start(self, dispatch):
        self.dispatch = dispatch

    async def send(self, conversation, reply):
        pass

    async def stop(self):
        pass
"""


@pytest.fixture
def line_package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An installed third-party package registering the ``line`` channel (a dist-info on ``sys.path``)."""
    (tmp_path / "kefu_line_example").mkdir()
    (tmp_path / "kefu_line_example" / "__init__.py").write_text(textwrap.dedent(PACKAGE))
    info = tmp_path / "kefu_line_example-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: kefu-line-example\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text("[kefu.adapters]\nline = kefu_line_example:LineAdapter\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    return tmp_path


def test_the_factory_gets_its_table_from_the_environment_and_the_file(
    line_package: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot.app import build_adapters

    monkeypatch.setenv("KEFU_ADAPTERS__LINE__CHANNEL_TOKEN", "from-the-environment")
    config = tmp_path / "kefu.toml"
    config.write_text('channels = ["line"]\n[adapters.line]\napi_base = "http://127.0.0.1:9/line"\n')
    settings = load_settings(config)
    assert check_channels(settings) == ["line"]
    [adapter] = build_adapters(settings, ["line"])
    assert adapter.settings == {"api_base": "http://127.0.0.1:9/line", "channel_token": "from-the-environment"}


def test_a_secret_in_the_adapters_table_of_the_file_is_refused(line_package: Path, tmp_path: Path) -> None:
    config = tmp_path / "kefu.toml"
    config.write_text('[adapters.line]\napi_base = "http://x"\nchannel_token = "abc"\n')
    with pytest.raises(ConfigError, match=r"channel_token is a secret.*KEFU_ADAPTERS__LINE__CHANNEL_TOKEN"):
        load_settings(config)


def test_a_bad_setting_or_an_unknown_channel_is_named(line_package: Path) -> None:
    with pytest.raises(ConfigError, match=r"channel 'line': set KEFU_ADAPTERS__LINE__API_BASE"):
        check_channels(load_settings(channels=["line"]))
    with pytest.raises(ConfigError, match=r"channel 'lnie': no adapter named 'lnie' is installed"):
        check_channels(load_settings(channels=["lnie"]))


def test_kefu_run_with_a_misspelt_channel_stops_with_one_line_before_loading_models(tmp_path: Path) -> None:
    env = {**os.environ, "KEFU_DATA_DIR": str(tmp_path), "KEFU_CHANNELS": '["telegarm"]'}
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", "run"], capture_output=True, text=True, env=env, timeout=120, check=False
    )
    assert result.returncode == 2, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert lines == [
        "error: channel 'telegarm': no adapter named 'telegarm' is installed (entry-point group 'kefu.adapters')"
    ], result.stderr
    assert not (tmp_path / "kb").exists(), "no knowledge base was built"


def test_kefu_doctor_builds_the_configured_channels(line_package: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import json

    from typer.testing import CliRunner

    from bot.cli import app

    monkeypatch.setenv("KEFU_CHANNELS", '["line"]')
    refused = CliRunner().invoke(app, ["doctor", "--json"])
    checks = {check["name"]: check for check in json.loads(refused.stdout)}
    assert refused.exit_code == 1
    assert checks["channels"] == {
        "name": "channels",
        "status": "fail",
        "detail": "channel 'line': set KEFU_ADAPTERS__LINE__API_BASE",
    }
    assert checks["installed adapters"]["detail"] == "line"
    monkeypatch.setenv("KEFU_ADAPTERS__LINE__API_BASE", "http://127.0.0.1:9/line")
    checks = {check["name"]: check for check in json.loads(CliRunner().invoke(app, ["doctor", "--json"]).stdout)}
    assert checks["channels"]["status"] == "ok" and checks["channels"]["detail"] == "line"
