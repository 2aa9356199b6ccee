"""kb fixtures: the real packaged encoder and the demo store's index, each built once per session."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from kb.build import build_index
from kb.encoders import UseEncoder, load_encoder
from kb.search import KnowledgeBase
from kb.sources import collect

ROOT = Path(__file__).resolve().parents[2]
DEMO_STORE = ROOT / "bot" / "demo" / "store"
QUESTIONS = ROOT / "tests" / "data" / "retrieval_questions.jsonl"


class CountingEncoder:
    """The real encoder, counting the texts it is asked to encode (to prove what is not re-encoded)."""

    def __init__(self, inner: UseEncoder) -> None:
        self.inner = inner
        self.name = inner.name
        self.dim = inner.dim
        self.encoded: list[str] = []

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        self.encoded.extend(texts)
        return self.inner.encode(texts)


@pytest.fixture(scope="session")
def use_encoder() -> UseEncoder:
    encoder = load_encoder("use-multilingual")
    assert isinstance(encoder, UseEncoder)
    return encoder


@pytest.fixture
def counting_encoder(use_encoder: UseEncoder) -> CountingEncoder:
    return CountingEncoder(use_encoder)


@pytest.fixture(scope="session")
def demo_kb(use_encoder: UseEncoder, tmp_path_factory: pytest.TempPathFactory) -> KnowledgeBase:
    """The demo store's knowledge base, built as the app builds it (collect the folder, build to a cache)."""
    out = tmp_path_factory.mktemp("demo-kb")
    return build_index(collect([DEMO_STORE]), out=out, encoder=use_encoder, progress=False)


@pytest.fixture
def small_sources(tmp_path: Path) -> list[Path]:
    """A tiny bilingual store: a FAQ JSON, a product CSV and a Markdown policy page."""
    faq = tmp_path / "faq.json"
    faq.write_text(
        json.dumps(
            [
                {
                    "id": "ship-time",
                    "question": "How long does delivery take?",
                    "answer": "Parcels arrive in 2-4 days.",
                    "tags": ["shipping"],
                },
                {"question": "退货运费谁出？", "answer": "质量问题由我们承担运费。", "tags": "returns;shipping"},
                {
                    "question": "Do you sell gift cards?",
                    "answer": "Yes, digital gift cards from 100 yuan.",
                    "language": "en",
                },
            ],
            ensure_ascii=False,
        ),
        encoding="utf-8",
    )
    products = tmp_path / "products.csv"
    products.write_text(
        "sku,name,description,price,currency,stock,sizes,colours,category\n"
        'RB-1,Rain Boot,"Rubber boot, fully waterproof",299,CNY,0,"38,39,40",black,shoes\n'
        "TS-1,纯棉T恤,柔软的有机棉,99,CNY,12,S|M|L,white,tops\n",
        encoding="utf-8",
    )
    policy = tmp_path / "policy.md"
    policy.write_text(
        "# Shop policies\n\nIntro text.\n\n## Returns\n\nReturn within 30 days.\n\n## 配送\n\n满199元包邮。\n",
        encoding="utf-8",
    )
    return [faq, products, policy]


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh data dir and working folder for a CLI test, with no ``KEFU_KB__PATH`` from outside."""
    monkeypatch.setenv("KEFU_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("KEFU_KB__PATH", raising=False)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def cli_json(args: list[str]) -> dict:
    """Run ``kefu ARGS`` in this process and return its JSON output (it must succeed)."""
    from typer.testing import CliRunner

    from bot.cli import app

    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    return dict(json.loads(result.stdout))
