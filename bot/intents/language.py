"""Language codes an intents file may declare, and the script a text is written in (to gate encoders)."""

from __future__ import annotations

import unicodedata

#: Languages the packaged multilingual encoder (USE v3) covers, mapped to the script their text uses.
LANGUAGE_SCRIPTS: dict[str, str] = {
    "ar": "arabic", "de": "latin", "en": "latin", "es": "latin", "fr": "latin", "it": "latin",
    "ja": "cjk", "ko": "hangul", "nl": "latin", "pl": "latin", "pt": "latin", "ru": "cyrillic",
    "th": "thai", "tr": "latin", "zh": "cjk", "zh-tw": "cjk",
}  # fmt: skip

_SCRIPT_PREFIXES = (
    ("CJK", "cjk"), ("HIRAGANA", "cjk"), ("KATAKANA", "cjk"), ("HANGUL", "hangul"), ("LATIN", "latin"),
    ("CYRILLIC", "cyrillic"), ("ARABIC", "arabic"), ("THAI", "thai"), ("GREEK", "greek"),
    ("HEBREW", "hebrew"), ("DEVANAGARI", "devanagari"),
)  # fmt: skip


def script_of(text: str) -> str | None:
    """The script most letters of ``text`` are written in (``latin``, ``cjk``…), or None when it has no letters."""
    counts: dict[str, int] = {}
    for char in text:
        if not char.isalpha():
            continue
        name = unicodedata.name(char, "")
        script = next((s for prefix, s in _SCRIPT_PREFIXES if name.startswith(prefix)), "other")
        counts[script] = counts.get(script, 0) + (2 if script == "cjk" else 1)
    return max(counts, key=counts.__getitem__) if counts else None


def check_language(code: str) -> str:
    """``code`` lower-cased when the encoder covers it; raises ``ValueError`` naming the supported codes."""
    normal = code.strip().lower().replace("_", "-")
    if normal not in LANGUAGE_SCRIPTS:
        raise ValueError(f"unknown language {code!r}; supported: {', '.join(sorted(LANGUAGE_SCRIPTS))}")
    return normal
