"""What the Slack adapter itself says (button labels, thanks, polite refusals), in English and Chinese."""

from __future__ import annotations

from collections.abc import Mapping

_TEXTS: Mapping[str, Mapping[str, str]] = {
    "en": {
        "human": "🙋 Talk to a human",
        "helpful": "👍 Helpful",
        "not_helpful": "👎 Not helpful",
        "thanks": "Thanks for the feedback!",
        "sources": "Sources",
        "asking": "🔎 Looking that up: {question}",
        "usage": "Ask me something: `{command} where is my order?`",
        "empty": "Yes? Ask me something after the mention, e.g. what the return policy is.",
        "unsupported": "Sorry, I can't read that kind of file. Please send text, an audio clip or an image.",
    },
    "zh": {
        "human": "🙋 转人工客服",
        "helpful": "👍 有帮助",
        "not_helpful": "👎 没帮助",
        "thanks": "感谢您的反馈！",
        "sources": "来源",
        "asking": "🔎 正在查询：{question}",
        "usage": "请在命令后写上问题，例如：`{command} 我的订单到哪了？`",
        "empty": "您好！请在提到我之后写上问题，例如退货政策是什么。",
        "unsupported": "抱歉，我看不懂这类文件。请发送文字、语音片段或图片。",
    },
}


def language_of(code: str | None) -> str:
    """``"zh"`` for any Chinese language code, else ``"en"``."""
    return "zh" if code and code.lower().startswith("zh") else "en"


def text(key: str, language: str | None, **values: str) -> str:
    """The adapter's own sentence ``key`` in ``language`` (English when unknown), with ``values`` filled in."""
    sentence = _TEXTS[language_of(language)][key]
    return sentence.format(**values) if values else sentence
