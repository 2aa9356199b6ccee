"""Tokenisation for BM25: jieba words for Chinese runs, lower-cased lightly stemmed words for Latin text."""

from __future__ import annotations

import logging
import re
from functools import cache
from importlib.resources import files

TOKENIZER_VERSION = 4
"""Bump when ``tokenize`` or what BM25 indexes changes (the stopword lists are fingerprinted by content)."""
_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+|[a-z0-9]+(?:[-'][a-z0-9]+)*")


@cache
def stopwords() -> frozenset[str]:
    """The shipped Chinese and English stopword lists (``kb/data/stopwords_*.txt``)."""
    words: set[str] = set()
    for name in ("stopwords_zh.txt", "stopwords_en.txt"):
        text = files("kb").joinpath("data", name).read_text(encoding="utf-8")
        words.update(line.strip() for line in text.splitlines() if line.strip())
    return frozenset(words)


@cache
def fingerprint() -> str:
    """Changes whenever tokenisation would: stored BM25 models with another fingerprint are stale."""
    import hashlib

    return hashlib.sha1(f"{TOKENIZER_VERSION}:{sorted(stopwords())}".encode()).hexdigest()[:12]


@cache
def _jieba():  # type: ignore[no-untyped-def]
    import jieba

    jieba.setLogLevel(logging.WARNING)
    jieba.initialize()
    return jieba


def stem(word: str) -> str:
    """A light English suffix stripper (plurals, -ing, -ed), enough to match "returns" with "returned"."""
    if len(word) <= 3 or not word.isalpha():
        return word
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith(("sses", "ches", "shes", "xes")):
        return word[:-2]
    if word.endswith("s") and not word.endswith(("ss", "us", "is")):
        word = word[:-1]
    for suffix, shortest in (("ing", 6), ("ed", 5)):
        if word.endswith(suffix) and len(word) >= shortest:
            word = word[: -len(suffix)]
            return word[:-1] if len(word) > 2 and word[-1] == word[-2] and word[-1] not in "lsz" else word
    return word


def prepare() -> None:
    """Load jieba's dictionary now (about 0.9 s of CPU), not inside the first Chinese question's turn."""
    _jieba()


def tokenize(text: str) -> list[str]:
    """BM25 tokens of mixed Chinese/English text, stopwords removed.

    Chinese runs are cut with jieba's search mode (a long word also yields its shorter words, so
    "退货运费" matches "运费") plus single Han characters, so a one-character verb in a question ("退",
    "换", "寄") still meets the compound in a document ("退货", "换货", "寄回"); hyphenated Latin tokens
    such as SKUs are kept whole and also split.
    """
    stop = stopwords()
    tokens: list[str] = []
    for run in _RUN.findall(text.lower()):
        if run[0] >= "\u3400":
            words = [word for word in _jieba().cut_for_search(run) if word not in stop]
            tokens.extend(words)
            tokens.extend(char for char in run if char not in stop and char not in words)
        elif run not in stop:
            tokens.append(stem(run))
            if "-" in run:
                tokens.extend(part for part in run.split("-") if part and part not in stop)
    return tokens


def tokenize_batch(texts: list[str]) -> list[list[str]]:
    return [tokenize(text) for text in texts]
