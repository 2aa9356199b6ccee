"""Colour and currency words of product records in Chinese, so a Chinese product passage reads Chinese throughout.

A general vocabulary of colour names as catalogues write them in English; a colour not listed stays as written.
"""

from __future__ import annotations

COLOURS_ZH = {
    "black": "黑色",
    "white": "白色",
    "grey": "灰色",
    "gray": "灰色",
    "navy": "藏青色",
    "beige": "米色",
    "brown": "棕色",
    "sand": "沙色",
    "sage": "鼠尾草绿",
    "ivory": "象牙白",
    "sky blue": "天蓝色",
    "oatmeal": "燕麦色",
    "oat": "燕麦色",
    "charcoal": "炭灰色",
    "heather grey": "麻灰色",
    "rose": "玫瑰粉",
    "indigo": "靛蓝色",
    "khaki": "卡其色",
    "olive": "橄榄绿",
    "camel": "驼色",
    "ecru": "本白色",
    "terracotta": "赤陶色",
    "moss": "苔藓绿",
    "yellow": "黄色",
    "blue floral": "蓝色碎花",
    "midnight": "午夜蓝",
    "emerald": "祖母绿",
    "forest green": "墨绿色",
    "stone": "石灰色",
    "tan": "棕褐色",
    "cream": "奶油色",
    "natural": "本色",
    "gold": "金色",
    "silver": "银色",
    "tortoise": "玳瑁色",
    "amber": "琥珀色",
    "speckled white": "斑点白",
    "slate": "石板灰",
    "graphite": "石墨灰",
    "green": "绿色",
    "red": "红色",
    "pink": "粉色",
    "blue": "蓝色",
    "purple": "紫色",
    "orange": "橙色",
    "burgundy": "酒红色",
    "mint": "薄荷绿",
    "lilac": "淡紫色",
    "mustard": "芥末黄",
    "coral": "珊瑚色",
    "teal": "蓝绿色",
    "taupe": "灰褐色",
    "light blue": "浅蓝色",
    "dark green": "深绿色",
    "dark grey": "深灰色",
    "light grey": "浅灰色",
}
CURRENCY_ZH = {"CNY": "元", "RMB": "元", "USD": "美元", "HKD": "港元", "EUR": "欧元", "GBP": "英镑", "JPY": "日元"}


def colour_name(colour: str, language: str) -> str:
    """``colour`` in ``language`` (Chinese from the vocabulary; otherwise as written)."""
    if language != "zh":
        return colour
    return COLOURS_ZH.get(colour.strip().lower(), colour)


def price_text(amount: str, currency: str, language: str) -> str:
    """A price written the local way: "499 元" in Chinese, "499 CNY" otherwise."""
    if language == "zh" and currency.upper() in CURRENCY_ZH:
        return f"{amount}{CURRENCY_ZH[currency.upper()]}"
    return f"{amount} {currency}".strip()
