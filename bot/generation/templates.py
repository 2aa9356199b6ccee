"""Fixed sentences the bot says in each language (greetings, hand-off notices, apologies)."""

from __future__ import annotations

from typing import Any

_TEMPLATES: dict[str, dict[str, str]] = {
    "greeting": {
        "en": "Hi! I'm the {shop} assistant. Ask me about orders, shipping, returns, payment or our products.",
        "zh": "您好！我是{shop}的智能客服，可以帮您查询订单、物流、退换货、支付和商品信息。",
    },
    "goodbye": {
        "en": "Thanks for chatting with {shop}. Have a great day!",
        "zh": "感谢您联系{shop}，祝您生活愉快！",
    },
    "clarify": {
        "en": "Sorry, I'm not sure I understood. Could you say it another way, or tell me your order number?",
        "zh": "抱歉，我没有完全理解您的问题。能换个说法，或者告诉我您的订单号吗？",
    },
    "no_answer": {
        "en": "I couldn't find that in our help pages, and I don't want to guess. A colleague can help you.",
        "zh": "抱歉，我在帮助中心没有找到相关信息，不想随便猜测。可以为您转接人工客服。",
    },
    "out_of_scope": {
        "en": "I can only help with questions about {shop}: orders, shipping, returns, payment and products.",
        "zh": "我只能回答与{shop}相关的问题，比如订单、物流、退换货、支付和商品。",
    },
    "escalated": {
        "en": "I've passed your conversation to a colleague, who will reply here. Our hours: {hours}.",
        "zh": "已为您转接人工客服，同事会在这里回复您。服务时间：{hours}。",
    },
    "not_sold": {
        "en": "Sorry, we don't sell that. {shop} sells {categories}.",
        "zh": "抱歉，我们不销售这类商品。{shop}销售的品类有：{categories}。",
    },
    "escalated_order": {
        "en": "I've passed this to a colleague together with order #{order}, and they will check the payment and "
        "reply here. Our hours: {hours}.",
        "zh": "已将订单 #{order} 的情况转给人工客服，同事会核实款项并在这里回复您。服务时间：{hours}。",
    },
    "already_waiting": {
        "en": "A colleague already has your conversation and will reply here. Our hours: {hours}. "
        "Meanwhile I'm happy to help with anything else.",
        "zh": "已经为您转接人工客服，同事会在这里回复您。服务时间：{hours}。在此期间有其他问题也可以问我。",
    },
    "tickets_spent": {
        "en": "Several conversations from your network have asked for a person in the last few minutes, and our "
        "colleagues are answering those first. Please write your question here, or ask for a person again a little "
        "later.",
        "zh": "您所在网络的多个会话刚刚都申请了人工客服，同事正在依次处理。"
        "请先在这里描述您的问题，或稍后再申请人工客服。",
    },
    "operator_joined": {
        "en": "A colleague has joined the conversation.",
        "zh": "人工客服已接入，正在为您服务。",
    },
    "operator_left": {
        "en": "Your colleague has closed this conversation. I'm here again if you need anything.",
        "zh": "人工客服已结束本次会话。如有其他问题，欢迎继续问我。",
    },
    "action_failed": {
        "en": "Our order system is not answering right now. Please try again in a few minutes.",
        "zh": "订单系统暂时无法访问，请稍后再试。",
    },
    "empty": {
        "en": "Your message was empty. Please type your question, or send a voice note or a photo.",
        "zh": "您的消息是空的。请输入您的问题，或发送语音、图片。",
    },
    "truncated": {
        "en": "Your message was long, so I read only its first {limit} characters.",
        "zh": "您的消息较长，我只读取了前 {limit} 个字符。",
    },
    "attachment_failed": {
        "en": "I couldn't use your {kind}: {reason} Please try again, or type your question.",
        "zh": "无法处理您发送的{kind}：{reason} 请重试，或直接输入文字。",
    },
    "attachment_disabled": {
        "en": "{kind} messages aren't enabled for this shop yet. Please type your question.",
        "zh": "本店暂未开通{kind}功能，请直接输入文字。",
    },
    "internal_error": {
        "en": "Sorry, something went wrong on our side. Please try again in a moment.",
        "zh": "抱歉，系统出了点问题，请稍后再试。",
    },
    "see_also": {"en": "See also: {titles}", "zh": "相关内容：{titles}"},
    "human_button": {"en": "Talk to a human", "zh": "转人工"},
}

_KINDS = {
    "voice": {"en": "voice note", "zh": "语音"},
    "audio": {"en": "audio file", "zh": "音频"},
    "photo": {"en": "photo", "zh": "图片"},
    "document": {"en": "file", "zh": "文件"},
}


def phrase(table: dict[str, dict[str, str]], key: str, language: str, **values: Any) -> str:
    """The ``key`` sentence of ``table`` in ``language`` (English when missing), filled with ``values``."""
    variants = table[key]
    return variants.get(language, variants["en"]).format(**values)


def say(key: str, language: str, **values: Any) -> str:
    """The bot's own ``key`` sentence in ``language``, filled with ``values``."""
    return phrase(_TEMPLATES, key, language, **values)


def kind_name(kind: str, language: str) -> str:
    """How to call an attachment kind in a sentence ("voice note", "语音")."""
    names = _KINDS.get(kind, {"en": kind, "zh": kind})
    return names.get(language, names["en"])
