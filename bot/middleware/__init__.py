"""Turn middlewares: small wrappers around every turn, in aiogram's ``BaseMiddleware`` shape (see ``base``)."""

from bot.middleware.base import Middleware, TurnHandler, chain
from bot.middleware.metrics import CountTurns
from bot.middleware.typing import ShowTyping

__all__ = ["CountTurns", "Middleware", "ShowTyping", "TurnHandler", "chain"]
