"""What the adapter itself says (greeting, polite refusals, button labels), in English and Chinese."""

from __future__ import annotations

from collections.abc import Mapping

_TEXTS: Mapping[str, Mapping[str, str]] = {
    "en": {
        "greeting": (
            "Hello! I'm the shop's assistant. Ask me about products, orders, shipping or returns "
            "by text, voice note or photo."
        ),
        "human": "🙋 Talk to a human",
        "helpful": "👍 Helpful",
        "not_helpful": "👎 Not helpful",
        "thanks": "Thanks for the feedback!",
        "sources": "Sources",
        "edited": "I saw you edited a message. I answer new messages only, so please send the correction again.",
        "unsupported": "Sorry, I can't read that kind of message. Please send text, a voice note or a photo.",
    },
    "zh": {
        "greeting": "您好！我是店铺的智能客服。可以用文字、语音或照片问我商品、订单、物流和退换货的问题。",
        "human": "🙋 转人工客服",
        "helpful": "👍 有帮助",
        "not_helpful": "👎 没帮助",
        "thanks": "感谢您的反馈！",
        "sources": "来源",
        "edited": "您编辑了一条消息。我只回复新消息，请把修改后的内容重新发送一次。",
        "unsupported": "抱歉，我看不懂这类消息。请发送文字、语音或照片。",
    },
}


def language_of(code: str | None) -> str:
    """``"zh"`` for any Chinese language code (``zh``, ``zh-hans``, ``zh-TW``), else ``"en"``."""
    return "zh" if code and code.lower().startswith("zh") else "en"


def text(key: str, language: str | None) -> str:
    """The adapter's own sentence ``key`` in the user's language (English when unknown)."""
    return _TEXTS[language_of(language)][key]
