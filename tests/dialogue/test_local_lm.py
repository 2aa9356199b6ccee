"""The local transformers generator on a tiny GPT-2 built and trained in the test (no weights are downloaded)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.generation.grounded import GroundedGenerator
from bot.generation.local import TransformersGenerator
from tests.dialogue.test_llm_backends import PASSAGES, REQUEST

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

ANSWER = "Within 30 days [faq-en-returns-window]."
SHOP = "Lumen & Loom"


def tiny_model(folder: Path, *, train_on: str | None) -> None:
    """Save a word-level tokenizer and a 2-layer GPT-2 to ``folder``; overfit it on ``train_on`` when given."""
    from tokenizers import Tokenizer, models, pre_tokenizers

    generator = TransformersGenerator(folder, fallback=GroundedGenerator(), shop=SHOP)
    words = sorted(set(generator_prompt(generator).split()) | set(ANSWER.split()) | {"Returns", "are", "free"})
    vocab = {"[UNK]": 0, "<eos>": 1, **{word: n + 2 for n, word in enumerate(words)}}
    core = Tokenizer(models.WordLevel(vocab, unk_token="[UNK]"))
    core.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    tokenizer = transformers.PreTrainedTokenizerFast(tokenizer_object=core, unk_token="[UNK]", eos_token="<eos>")
    torch.manual_seed(0)
    config = transformers.GPT2Config(
        vocab_size=len(vocab), n_positions=512, n_embd=32, n_layer=1, n_head=2, eos_token_id=1
    )
    model = transformers.GPT2LMHeadModel(config)
    if train_on is not None:
        ids = tokenizer(generator_prompt(generator) + " " + train_on, return_tensors="pt")["input_ids"]
        ids = torch.cat([ids, torch.tensor([[1]])], dim=1)
        optimiser = torch.optim.Adam(model.parameters(), lr=1e-2)
        model.train()
        threads = torch.get_num_threads()
        torch.set_num_threads(1)  # a tiny model: more threads only contend on a shared CPU
        try:
            for _ in range(60):
                loss = model(input_ids=ids, labels=ids).loss
                optimiser.zero_grad()
                loss.backward()
                optimiser.step()
        finally:
            torch.set_num_threads(threads)
    tokenizer.save_pretrained(folder)
    model.save_pretrained(folder)


def generator_prompt(generator: TransformersGenerator) -> str:
    generator._tokenizer = object()  # no chat template: the plain prompt
    prompt = generator._prompt(REQUEST)
    generator._tokenizer = None
    return prompt


@pytest.mark.slow  # loads SmolLM2 and generates
async def test_a_cited_answer_from_the_local_model_is_accepted(tmp_path: Path) -> None:
    tiny_model(tmp_path, train_on=ANSWER)
    generation = await TransformersGenerator(
        tmp_path, fallback=GroundedGenerator(), device="cpu", max_new_tokens=12, shop=SHOP
    ).generate(REQUEST)
    assert generation.backend == "transformers"
    assert generation.text == "Within 30 days." and generation.source_ids == ("faq-en-returns-window",)


async def test_an_untrained_random_model_is_rejected_and_the_grounded_answer_is_used(tmp_path: Path) -> None:
    tiny_model(tmp_path, train_on=None)
    generation = await TransformersGenerator(
        tmp_path, fallback=GroundedGenerator(), device="cpu", max_new_tokens=8, shop=SHOP
    ).generate(REQUEST)
    assert generation.backend.startswith("grounded (local answer rejected")
    assert generation.text.startswith(PASSAGES[0].text)


async def test_a_missing_model_folder_is_a_clear_config_error(tmp_path: Path) -> None:
    from bot.errors import ConfigError

    with pytest.raises(ConfigError, match=r"cannot load the generation model .*nowhere"):
        await TransformersGenerator(tmp_path / "nowhere", fallback=GroundedGenerator(), device="cpu").generate(REQUEST)
