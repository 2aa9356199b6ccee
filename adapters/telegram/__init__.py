"""Telegram channel on aiogram 3 (imported lazily: ``import adapters.telegram`` does not import aiogram)."""

from __future__ import annotations

from adapters.feedback import Feedback
from adapters.telegram.adapter import DEFAULT_API_BASE, WEBHOOK_PATH, TelegramAdapter
from adapters.telegram.delivery import DeliveryFailed
from adapters.telegram.ratelimit import RateLimiter

__all__ = ["DEFAULT_API_BASE", "WEBHOOK_PATH", "DeliveryFailed", "Feedback", "RateLimiter", "TelegramAdapter"]
