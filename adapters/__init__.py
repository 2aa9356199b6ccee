"""Channels: each adapter translates one platform to and from ``bot.messages``."""
