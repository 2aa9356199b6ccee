"""`kefu describe FILE [--json]` (DESIGN §5's shape) and `kefu doctor`'s describers line, through Typer."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.cli import app
from tests.vision.conftest import render_label

runner = CliRunner()


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("KEFU_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.mark.slow
def test_describe_prints_labels_and_text_and_the_json_shape(env: Path) -> None:
    photo = env / "label.jpg"
    photo.write_bytes(render_label(["Willow Ballet Flat", "SKU LL-SH-002"]))
    result = runner.invoke(app, ["describe", str(photo), "--json"])
    assert result.exit_code == 0, result.output
    described = json.loads(result.output)
    assert set(described) == {"caption", "labels", "text", "timings_ms"}
    assert described["caption"] is None and "SKU LL-SH-002" in described["text"]
    assert all(set(label) == {"label", "score"} for label in described["labels"])
    assert {"open", "labels", "ocr", "total"} <= set(described["timings_ms"])
    plain = runner.invoke(app, ["describe", str(photo)])
    assert plain.exit_code == 0 and "text: SKU LL-SH-002" in plain.output


def test_describe_refuses_a_text_file_with_the_reason_and_the_reply(env: Path) -> None:
    fake = env / "notes.jpg"
    fake.write_text("not a photo, just notes\n" * 10, encoding="utf-8")
    result = runner.invoke(app, ["describe", str(fake)])
    assert result.exit_code == 1
    assert "not an image (text)" in result.output and "JPEG, PNG, WebP or GIF" in result.output
    missing = runner.invoke(app, ["describe", str(env / "absent.jpg")])
    assert missing.exit_code == 2 and "cannot read" in missing.output


def test_describe_with_a_captioner_but_no_model_is_a_usage_error(env: Path) -> None:
    photo = env / "photo.png"
    photo.write_bytes(b"\x89PNG\r\n\x1a\n")
    result = runner.invoke(app, ["describe", str(photo), "--backend", "captioner"])
    assert result.exit_code == 2 and "needs a model" in result.output


def test_doctor_says_which_describers_are_usable(env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    result = runner.invoke(app, ["doctor", "--json"])
    checks = {check["name"]: check for check in json.loads(result.output)}
    describers = checks["describers"]
    assert describers["status"] == "ok" and "configured: classifier" in describers["detail"]
    assert "usable: labels, ocr, captioner" in describers["detail"]
    monkeypatch.setenv("KEFU_VISION__BACKEND", "captioner")
    result = runner.invoke(app, ["doctor", "--json"])
    describers = next(check for check in json.loads(result.output) if check["name"] == "describers")
    assert describers["status"] == "fail" and "KEFU_VISION__MODEL" in describers["detail"]


def test_vision_settings_come_from_the_file_and_the_key_only_from_the_environment(env: Path) -> None:
    from bot.config import load_settings
    from bot.errors import ConfigError

    config = env / "kefu.toml"
    config.write_text('[vision]\nbackend = "server"\nmodel = "qwen2.5-vl"\nbase_url = "http://127.0.0.1:8000/v1"\n')
    vision = load_settings(config).vision
    assert (vision.backend, vision.model, vision.max_side, vision.timeout_s) == ("server", "qwen2.5-vl", 1600, 20.0)
    config.write_text('[vision]\napi_key = "sk-in-a-file"\n')
    with pytest.raises(ConfigError, match="KEFU_VISION__API_KEY"):
        load_settings(config)
    config.write_text("[vision]\nmax_side = 100\n")
    with pytest.raises(ConfigError, match=r"vision\.max_side"):
        load_settings(config)
