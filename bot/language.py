"""Language of a shopper's message: Chinese, English, or mixed, from the script of its letters."""

from __future__ import annotations

import re
import unicodedata

_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
_LATIN_WORD = re.compile(r"[A-Za-z]+")
_CONTROL_CATEGORIES = {"Cc", "Cf", "Co", "Cs"}
SUPPORTED = ("en", "zh")
HAN_PER_WORD = 2
"""Chinese has no spaces: a run of Han characters counts as one word per two characters (rounded up), about
the length of a Chinese word, so "花呗" in an English sentence weighs one word, like "Huabei"."""


def script_words(text: str) -> tuple[int, int]:
    """How many words of ``text`` are Chinese and how many English (Latin letters)."""
    han = sum(-(-len(run) // HAN_PER_WORD) for run in _HAN.findall(text))
    return han, len(_LATIN_WORD.findall(text))


def detect_language(text: str, *, hint: str | None = None, default: str = "en") -> str:
    """``"zh"`` or ``"en"``: the reply language for ``text``, the dominant script of its words.

    "can i pay with 花呗 or alipay?" is English (six English words, one Chinese), "我的order到哪了" Chinese.
    A tie, or a message with no letters at all (an order number, emoji), goes to the platform's or the
    conversation's ``hint``; with none, a tie is Chinese (a Chinese speaker mixing in English reads Chinese
    best) and no letters at all is ``default``.
    """
    han, latin = script_words(text)
    if han != latin:
        return "zh" if han > latin else "en"
    if hint:
        normalised = hint.lower().split("-")[0]
        if normalised in SUPPORTED:
            return normalised
    return "zh" if han else default


def written_in(text: str, language: str) -> bool:
    """Whether a written answer is in ``language``: Chinese prose may quote English product names (at least one
    Chinese word per two English ones), English prose may quote a Chinese name (more English words than Chinese)."""
    han, latin = script_words(text)
    if language == "zh":
        return han > 0 and 2 * han >= latin
    return latin > han


def is_mixed(text: str) -> bool:
    """True when a message mixes Han characters and English words."""
    return bool(_HAN.search(text)) and bool(_LATIN_WORD.search(text))


def clean_text(text: str) -> str:
    """Text with control and format characters removed (newline and tab kept) and surrounding blanks stripped."""
    kept = (ch for ch in text if ch in "\n\t" or unicodedata.category(ch) not in _CONTROL_CATEGORIES)
    return "".join(kept).strip()
