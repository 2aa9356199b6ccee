"""The channels: which to run, each built from its settings table and checked before any model loads."""

from __future__ import annotations

from collections.abc import Sequence

from adapters.base import Adapter, load_adapter_factory
from adapters.feedback import FeedbackHook
from bot.app.desk import desk_watcher
from bot.app.knowledge import channel_knowledge_bases, locate_named_knowledge_bases
from bot.config import Settings
from bot.errors import ConfigError
from bot.metrics import Metrics

BUILTIN_CHANNELS = ("web", "telegram", "slack", "console")


def configured_channels(settings: Settings) -> list[str]:
    """Channels to start: the explicit list, else those with credentials, else the web chat."""
    if settings.channels:
        return list(settings.channels)
    channels = ["telegram"] if settings.telegram.token else []
    channels += ["slack"] if settings.slack.bot_token else []
    return channels or ["web"]


def build_adapters(
    settings: Settings,
    names: Sequence[str],
    *,
    speech: bool = False,
    vision: bool = False,
    metrics: Metrics | None = None,
    on_feedback: FeedbackHook | None = None,
) -> list[Adapter]:
    """The channels ``names``, built and their settings checked (nothing connects yet); a channel that cannot be
    built is a ``ConfigError`` naming it. ``speech``/``vision``: the engines that take voice notes and photos;
    ``on_feedback``: where 👍/👎 go (default: ``metrics.record_feedback``)."""
    hook = on_feedback or (metrics.record_feedback if metrics else None)
    adapters: list[Adapter] = []
    for name in names:
        try:
            adapters.append(_build_adapter(settings, name, speech=speech, vision=vision, on_feedback=hook))
        except (ConfigError, LookupError, TypeError, ValueError) as error:
            raise ConfigError(f"channel {name!r}: {getattr(error, 'user_message', None) or error}") from error
    return adapters


def check_channels(settings: Settings) -> list[str]:
    """The configured channels' names, once each was built with its settings and the Slack desk's settings and
    channels' knowledge bases were checked (before any model loads)."""
    adapters = build_adapters(settings, configured_channels(settings))
    desk_watcher(settings, adapters)
    locate_named_knowledge_bases(settings)
    return [adapter.name for adapter in adapters]


def _build_adapter(
    settings: Settings, name: str, *, speech: bool, vision: bool, on_feedback: FeedbackHook | None
) -> Adapter:
    if name == "web":
        from adapters.web import WebChatAdapter

        return WebChatAdapter(
            max_text_chars=settings.pipeline.max_text_chars,
            max_upload_bytes=max(settings.speech.max_bytes, settings.vision.max_bytes),
            speech_enabled=speech,
            vision_enabled=vision,
            title=settings.shop.name,
        )
    if name == "telegram":
        from adapters.telegram import RateLimiter, TelegramAdapter

        options = settings.telegram
        if options.token is None:
            raise ConfigError("the telegram channel needs KEFU_TELEGRAM__TOKEN (or TELEGRAM_BOT_TOKEN)")
        return TelegramAdapter(
            token=options.token.get_secret_value(),
            api_base=options.api_base,
            mode=options.mode,
            webhook_secret=options.webhook_secret.get_secret_value() if options.webhook_secret else None,
            webhook_url=options.webhook_url,
            on_feedback=on_feedback,
            max_download_bytes=max(settings.speech.max_bytes, settings.vision.max_bytes),
            rate_limiter=RateLimiter(global_per_second=options.messages_per_second),
        )
    if name == "slack":
        from adapters.slack import SlackAdapter

        slack = settings.slack
        if slack.bot_token is None:
            raise ConfigError("the slack channel needs KEFU_SLACK__BOT_TOKEN (or SLACK_BOT_TOKEN)")
        return SlackAdapter(
            bot_token=slack.bot_token.get_secret_value(),
            signing_secret=slack.signing_secret.get_secret_value() if slack.signing_secret else None,
            app_token=slack.app_token.get_secret_value() if slack.app_token else None,
            api_base=slack.api_base,
            command=slack.command,
            on_feedback=on_feedback,
            max_download_bytes=max(settings.speech.max_bytes, settings.vision.max_bytes),
            knowledge_bases=channel_knowledge_bases(settings),
        )
    if name == "console":
        from adapters.console import ConsoleAdapter

        return ConsoleAdapter()
    return load_adapter_factory(name)(settings=dict(settings.adapters.get(name, {})))
