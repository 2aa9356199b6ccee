"""The fine-tuned transformer backend on a tiny random BERT built here (no weights needed)."""

from __future__ import annotations

import pytest

from bot.intents import EmptyText, load_model, save_model
from bot.intents.transformer import TransformerIntentClassifier

TEXTS = [
    "hello",
    "hi there",
    "good morning",
    "你好",
    "bye",
    "see you",
    "good night",
    "再见",
] * 4
LABELS = ["greeting"] * 4 + ["goodbye"] * 4
LABELS = LABELS * 4


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    torch = pytest.importorskip("torch")
    transformers = pytest.importorskip("transformers")
    folder = tmp_path_factory.mktemp("tiny-bert")
    chars = sorted({c for t in TEXTS for c in t.replace(" ", "")})
    words = sorted({w for t in TEXTS for w in t.split()})
    vocab = [
        "[PAD]",
        "[UNK]",
        "[CLS]",
        "[SEP]",
        "[MASK]",
        *words,
        *(c for c in chars if c not in words),
    ]
    (folder / "vocab.txt").write_text("\n".join(dict.fromkeys(vocab)) + "\n", encoding="utf-8")
    tokenizer = transformers.BertTokenizer(str(folder / "vocab.txt"), do_lower_case=True)
    config = transformers.BertConfig(
        vocab_size=len(tokenizer.vocab), hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
        intermediate_size=32, max_position_embeddings=64, num_labels=2,
        id2label={0: "goodbye", 1: "greeting"}, label2id={"goodbye": 0, "greeting": 1},
    )  # fmt: skip
    torch.manual_seed(0)
    model = transformers.BertForSequenceClassification(config)
    return model, tokenizer


def test_trains_a_few_steps_and_predicts(tiny, tmp_path) -> None:
    model, tokenizer = tiny
    classifier = TransformerIntentClassifier.train(
        TEXTS, LABELS, base=model, tokenizer=tokenizer, device="cpu", epochs=30, batch_size=16,
        learning_rate=3e-3, min_confidence=0.0,
    )  # fmt: skip
    predictions = classifier.predict(["hello", "再见", "good night"])
    assert [p.label for p in predictions] == ["greeting", "goodbye", "goodbye"]
    assert all(0.5 < p.confidence <= 1.0 and not p.out_of_scope for p in predictions)

    path = save_model(classifier, tmp_path / "model")
    loaded = load_model(path, device="cpu")
    assert isinstance(loaded, TransformerIntentClassifier)
    again = loaded.predict(["hello", "再见", "good night"])
    assert [p.label for p in again] == [p.label for p in predictions]
    assert abs(again[0].confidence - predictions[0].confidence) < 1e-5

    with pytest.raises(EmptyText):
        loaded.predict([""])


def test_confidence_floor_flags_out_of_scope(tiny) -> None:
    model, tokenizer = tiny
    classifier = TransformerIntentClassifier.train(
        TEXTS[:8], LABELS[:8], base=model, tokenizer=tokenizer, device="cpu", epochs=1, min_confidence=0.99,
        thresholds={"greeting": 0.999},
    )  # fmt: skip
    (prediction,) = classifier.predict(["hello"])
    assert prediction.out_of_scope and prediction.reason == "low_confidence"
