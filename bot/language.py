"""Language of a shopper's message: Chinese, English, or mixed, from the script of its letters."""

from __future__ import annotations

import re
import unicodedata

_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u3000-\u303f\uff00-\uffef]")
_LATIN_WORD = re.compile(r"[A-Za-z]{2,}")
_CONTROL_CATEGORIES = {"Cc", "Cf", "Co", "Cs"}
SUPPORTED = ("en", "zh")


def detect_language(text: str, *, hint: str | None = None, default: str = "en") -> str:
    """``"zh"`` or ``"en"``: the reply language for ``text``.

    Mixed messages ("我的order到哪了") count as Chinese as soon as they carry a few Han characters, since a
    Chinese speaker mixing in English words still reads Chinese best. With no letters at all (an order
    number, emoji) the platform's ``hint`` decides, then ``default``.
    """
    han = len(_HAN.findall(text))
    latin_words = len(_LATIN_WORD.findall(text))
    if han >= 2 or (han == 1 and latin_words <= 1):
        return "zh"
    if latin_words:
        return "en"
    if hint:
        normalised = hint.lower().split("-")[0]
        if normalised in SUPPORTED:
            return normalised
    return default


def is_mixed(text: str) -> bool:
    """True when a message mixes Han characters and English words."""
    return bool(_HAN.search(text)) and bool(_LATIN_WORD.search(text))


def clean_text(text: str) -> str:
    """Text with control and format characters removed (newline and tab kept) and surrounding blanks stripped."""
    kept = (ch for ch in text if ch in "\n\t" or unicodedata.category(ch) not in _CONTROL_CATEGORIES)
    return "".join(kept).strip()
