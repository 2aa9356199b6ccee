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


@pytest.fixture
def tiny_folder(tiny, tmp_path):
    """The tiny BERT and its tokenizer saved as a base model folder, for the CLI."""
    model, tokenizer = tiny
    base = tmp_path / "base"
    model.save_pretrained(base)
    tokenizer.save_pretrained(base)
    return base


@pytest.fixture
def two_intents_file(tmp_path):
    """A small intents file (two intents, Chinese and English) for the CLI tests."""
    source = tmp_path / "small.yaml"
    source.write_text("intents:\n  greeting: [hello, hi there, good morning, 你好]\n"
                      "  goodbye: [bye, see you, good night, 再见]\n", encoding="utf-8")  # fmt: skip
    return source


@pytest.fixture(scope="module")
def mixed(tiny, use_encoder):
    """The linear classifier with a fine-tuned tiny BERT as its partner (weight 0.5)."""
    from bot.intents import LinearIntentClassifier

    model, tokenizer = tiny
    partner = TransformerIntentClassifier.train(
        TEXTS, LABELS, base=model, tokenizer=tokenizer, device="cpu", epochs=10, batch_size=16, learning_rate=3e-3,
    )  # fmt: skip
    linear = LinearIntentClassifier(encoder=use_encoder).fit(TEXTS, LABELS)
    own = linear.score(["hello", "再见"]).probs
    linear.attach(partner, weight=0.5)
    return linear, partner, own


def test_partner_probabilities_are_mixed_in_with_their_weight(mixed) -> None:
    import numpy as np

    linear, partner, own = mixed
    probs = linear.score(["hello", "再见"]).probs
    assert np.allclose(probs, 0.5 * own + 0.5 * partner.probabilities(["hello", "再见"]), atol=1e-6)
    assert [p.label for p in linear.predict(["hello", "再见"])] == ["greeting", "goodbye"]


def test_partner_must_know_the_same_intents_and_weigh_between_0_and_1(mixed, use_encoder) -> None:
    from bot.intents import LinearIntentClassifier

    linear, partner, _ = mixed
    other = LinearIntentClassifier(encoder=use_encoder).fit(["yes", "sure", "no", "nope"], ["yes", "yes", "no", "no"])
    with pytest.raises(ValueError, match="the partner knows intents"):
        other.attach(partner, weight=0.5)
    with pytest.raises(ValueError, match="between 0 and 1"):
        linear.attach(partner, weight=1.5)


def test_partner_weight_is_chosen_on_held_out_examples_lower_on_ties(mixed) -> None:
    linear, partner, _ = mixed
    texts = ["hello", "good night", "你好", "bye"]
    own, theirs = linear.score(texts).probs, partner.probabilities(texts)
    try:
        chosen = linear.partners.fit_weights(own, [theirs], ["greeting", "goodbye"] * 2, classes=linear.classes)
        assert chosen == (0.0,), "both models get these right: no reason to lean on the partner"
    finally:
        linear.partners.members = [(partner, 0.5)]


def test_a_second_partner_shares_what_the_first_leaves(mixed) -> None:
    linear, partner, _ = mixed
    try:
        linear.attach(partner, weight=0.3)
        with pytest.raises(ValueError, match="less the other partners' shares"):
            linear.attach(partner, weight=0.3)
        assert linear.partners.weights == (0.5, 0.3)
    finally:
        linear.partners.members = [(partner, 0.5)]


def test_mixed_model_saves_and_loads_both_parts(mixed, use_encoder, tmp_path) -> None:
    from bot.intents.persist import read_manifest

    linear, _, _ = mixed
    path = save_model(linear, tmp_path / "mixed")
    assert read_manifest(path)["partners"] == [{"backend": "transformer", "weight": 0.5, "folder": "partner"}]
    loaded = load_model(path, encoder=use_encoder, device="cpu")
    texts = ["hello there", "再见", "see you"]
    ((partner, weight),) = loaded.partners.members
    assert weight == 0.5 and isinstance(partner, TransformerIntentClassifier)
    assert loaded.predict(texts) == linear.predict(texts)


def test_two_partners_save_and_load_and_older_single_partner_models_still_load(mixed, use_encoder, tmp_path) -> None:
    import json

    from bot.intents.persist import MANIFEST, read_manifest

    linear, partner, _ = mixed
    texts = ["hello there", "再见", "see you"]
    try:
        linear.partners.members = [(partner, 0.2), (partner, 0.4)]
        path = save_model(linear, tmp_path / "two")
        saved = [(e["folder"], e["weight"]) for e in read_manifest(path)["partners"]]
        assert saved == [("partner", 0.2), ("partner-2", 0.4)]
        loaded = load_model(path, encoder=use_encoder, device="cpu")
        assert loaded.partners.weights == (0.2, 0.4) and loaded.predict(texts) == linear.predict(texts)
        linear.partners.members = [(partner, 0.5)]
        old = save_model(linear, tmp_path / "old")
        manifest = read_manifest(old)
        del manifest["partners"]
        manifest["partner"] = {"backend": "transformer", "weight": 0.5}
        (old / MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")
        assert load_model(old, encoder=use_encoder, device="cpu").partners.weights == (0.5,)
    finally:
        linear.partners.members = [(partner, 0.5)]


def test_evaluation_trains_the_partner_and_chooses_its_weight_on_validation(tiny, use_encoder) -> None:
    from bot.intents import LinearIntentClassifier
    from bot.intents.benchmark import evaluate_linear
    from bot.intents.datasets import Dataset, Split

    model, tokenizer = tiny
    trained: list[int] = []

    def train_partner(texts: list[str], labels: list[str]) -> TransformerIntentClassifier:
        trained.append(len(texts))
        return TransformerIntentClassifier.train(texts, labels, base=model, tokenizer=tokenizer, device="cpu",
                                                 epochs=2, batch_size=16, learning_rate=3e-3)  # fmt: skip

    split = Split(TEXTS[:8], LABELS[:8])
    data = Dataset("tiny", Split(TEXTS, LABELS), split, split, None)
    report = evaluate_linear(
        data, lambda: LinearIntentClassifier(encoder=use_encoder), train_partners=[train_partner] * 2
    )
    assert trained == [len(TEXTS)] * 2 and len(report["partner_weights"]) == 2
    assert all(w in {i / 10 for i in range(11)} for w in report["partner_weights"])
    assert sum(report["partner_weights"]) <= 1
    assert report["accuracy"] == 1.0


def test_cli_trains_linear_plus_transformer_into_one_model(tiny_folder, two_intents_file) -> None:
    import json

    from typer.testing import CliRunner

    from bot.cli import app
    from bot.intents.persist import read_manifest

    args = ["intents", "train", str(two_intents_file), "--backend", "linear+transformer", "--base", str(tiny_folder),
            "--no-minilm", "--epochs", "2", "--partner-weight", "0.3", "--device", "cpu", "--json"]  # fmt: skip
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    manifest = read_manifest(json.loads(result.stdout)["model"])
    assert manifest["backend"] == "linear" and [(e["backend"], e["weight"]) for e in manifest["partners"]] == [
        ("transformer", 0.3)
    ]


def test_batches_see_every_example_once_per_epoch() -> None:
    pytest.importorskip("torch")
    from bot.intents.transformer import shuffled_batches

    batches = shuffled_batches(10, batch_size=4, epochs=2, seed=0)
    seen = [int(i) for batch in batches for i in batch]
    assert [len(b) for b in batches] == [4] * 5
    assert sorted(seen[:10]) == sorted(seen[10:]) == list(range(10))
    assert seen[:10] != seen[10:20]  # a fresh order each epoch
    assert [len(b) for b in shuffled_batches(3, batch_size=32, epochs=0.1, seed=0)] == [3]


def test_learning_rate_rises_then_falls_to_nearly_zero() -> None:
    from itertools import pairwise

    from bot.intents.transformer import warmup_then_decay

    factors = [warmup_then_decay(step, 100) for step in range(100)]
    assert factors[0] == pytest.approx(0.1) and factors[9] == pytest.approx(1.0)
    assert all(a >= b for a, b in pairwise(factors[9:]))
    assert 0 < factors[-1] < 0.02


def test_pseudo_out_of_scope_training_needs_out_of_scope_examples(tiny) -> None:
    model, tokenizer = tiny
    with pytest.raises(ValueError, match="pseudo out-of-scope"):
        TransformerIntentClassifier.train(TEXTS, LABELS, base=model, tokenizer=tokenizer, device="cpu",
                                          epochs=1, pseudo_oos_weight=0.1)  # fmt: skip


def test_pseudo_out_of_scope_loss_pairs_only_different_in_scope_intents(tiny) -> None:
    import torch

    from bot.intents.transformer import pseudo_oos_loss

    model, _ = tiny
    pooled = torch.randn(6, model.config.hidden_size)
    one_intent = torch.ones(6, dtype=torch.long)
    assert pseudo_oos_loss(model, pooled, one_intent, oos_index=0).item() == 0.0, "one intent: nothing to mix"
    oos_and_one = torch.tensor([0, 0, 0, 1, 1, 1])
    assert pseudo_oos_loss(model, pooled, oos_and_one, oos_index=0).item() == 0.0, "oos is never mixed"
    torch.manual_seed(0)
    assert pseudo_oos_loss(model, pooled, torch.tensor([1, 2, 1, 2, 1, 2]), oos_index=0).item() > 0.0


@pytest.mark.slow  # trains for a few hundred steps
def test_pseudo_out_of_scope_training_sends_the_space_between_intents_out_of_scope(tiny) -> None:
    import torch
    import transformers

    from bot.intents.transformer import _tokenize

    _, tokenizer = tiny
    names = {0: "goodbye", 1: "greeting", 2: "oos"}
    texts = TEXTS + ["weather", "天气", "price", "价格"] * 4
    labels = LABELS + ["oos"] * 16

    def oos_between_intents(weight: float) -> float:
        """The out-of-scope probability of the midpoint of a greeting's and a goodbye's pooled outputs."""
        config = transformers.BertConfig(**{**tiny[0].config.to_dict(), "id2label": names,
                                            "label2id": {v: k for k, v in names.items()}})  # fmt: skip
        torch.manual_seed(0)
        classifier = TransformerIntentClassifier.train(
            texts, labels, base=transformers.BertForSequenceClassification(config), tokenizer=tokenizer,
            device="cpu", epochs=30, batch_size=16, learning_rate=3e-3, oos_label="oos", pseudo_oos_weight=weight,
        )  # fmt: skip
        model = classifier.model
        with torch.inference_mode():
            pooled = model.base_model(**_tokenize(tokenizer, ["hello", "再见"], 64, model.device)).pooler_output
            return torch.softmax(model.classifier(pooled.mean(dim=0)), dim=-1)[2].item()

    assert oos_between_intents(1.0) > oos_between_intents(0.0) + 0.2


def test_cli_refuses_pseudo_out_of_scope_training_without_out_of_scope_examples(tiny_folder, two_intents_file) -> None:
    from typer.testing import CliRunner

    from bot.cli import app

    args = ["intents", "train", str(two_intents_file), "--backend", "transformer", "--base", str(tiny_folder),
            "--epochs", "1", "--pseudo-oos-weight", "0.1", "--device", "cpu"]  # fmt: skip
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2 and "pseudo out-of-scope training needs oos_label examples" in result.output


def test_cli_seed_makes_fine_tuning_repeatable_and_changes_it(tiny_folder, two_intents_file, tmp_path) -> None:
    import torch
    from typer.testing import CliRunner

    from bot.cli import app

    def head_after(seed: int, name: str) -> torch.Tensor:
        out = tmp_path / name
        args = ["intents", "train", str(two_intents_file), "--backend", "transformer", "--base", str(tiny_folder),
                "--epochs", "3", "--seed", str(seed), "--device", "cpu", "--out", str(out)]  # fmt: skip
        result = CliRunner().invoke(app, args)
        assert result.exit_code == 0, result.output
        return load_model(out, device="cpu").model.classifier.weight.detach()

    first = head_after(1, "a")
    assert torch.equal(first, head_after(1, "b")), "the same seed trains the same model"
    assert not torch.equal(first, head_after(2, "c")), "another seed drops out other units"


def test_base_resolves_a_path_then_a_packaged_name_then_a_hub_id(tiny_folder, tmp_path) -> None:
    from bot.intents.transformer import BaseModel, default_base_model, resolve_base

    gguf = tmp_path / "model.Q4_0.gguf"
    gguf.write_bytes(b"GGUF")
    assert resolve_base(gguf) == BaseModel(str(tmp_path), "model.Q4_0.gguf")
    assert resolve_base(tiny_folder) == BaseModel(str(tiny_folder))
    assert resolve_base(None) == resolve_base("minilm") == BaseModel(str(default_base_model()))
    assert resolve_base("org/some-model") == BaseModel("org/some-model"), "left to the library's download"


@pytest.mark.slow  # fine-tunes the packaged 135M-parameter model
def test_the_packaged_smollm2_fine_tunes_as_a_classifier(tmp_path) -> None:
    """Real weights: the GGUF checkpoint is dequantised, gets a classification head and a padding token."""
    pytest.importorskip("gguf")
    from bot.intents.transformer import SMOLLM2_FILE, resolve_base

    base = resolve_base("smollm2")
    assert base.gguf_file == SMOLLM2_FILE
    classifier = TransformerIntentClassifier.train(
        TEXTS[:8], LABELS[:8], base="smollm2", device="cpu", epochs=1, batch_size=8, min_confidence=0.0,
    )  # fmt: skip
    probs = classifier.probabilities(["hello", "good night, see you tomorrow", "再见"])
    assert probs.shape == (3, 2) and abs(probs.sum() - 3.0) < 1e-4
    assert classifier.model.config.pad_token_id is not None and classifier.tokenizer.pad_token is not None
    loaded = load_model(save_model(classifier, tmp_path / "smollm2"), device="cpu")
    assert abs(loaded.probabilities(["hello", "good night, see you tomorrow", "再见"]) - probs).max() < 1e-5


def test_eval_mixes_in_several_partners_and_refuses_a_malformed_one(tiny_folder, two_intents_file) -> None:
    import json

    from typer.testing import CliRunner

    from bot.cli import app

    args = ["eval", "intents", "--dataset", str(two_intents_file), "--no-minilm", "--json",
            "--partner", f"{tiny_folder}:1:0.003", "--partner", f"{tiny_folder}:2"]  # fmt: skip
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert len(json.loads(result.stdout)["partner_weights"]) == 2
    bad = CliRunner().invoke(app, ["eval", "intents", "--dataset", str(two_intents_file), "--partner", "minilm:0"])
    assert bad.exit_code == 2 and "is not BASE[:EPOCHS[:LEARNING_RATE]]" in bad.output
