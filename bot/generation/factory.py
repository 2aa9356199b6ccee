"""Build the configured generator from ``Settings.generation`` (``KEFU_GENERATION__BACKEND`` and friends)."""

from __future__ import annotations

from bot.config import Settings
from bot.errors import ConfigError
from bot.generation.base import Generator
from bot.generation.grounded import GroundedGenerator


def build_generator(settings: Settings, *, device: str = "auto") -> Generator:
    """``grounded`` (offline default), ``openai`` (any OpenAI-compatible server) or ``transformers`` (a local model).

    The LLM backends fall back to the grounded generator when their answer is rejected or they fail.
    """
    options = settings.generation
    grounded = GroundedGenerator()
    if options.backend == "grounded":
        return grounded
    if not options.model:
        raise ConfigError(f"generation backend {options.backend!r} needs KEFU_GENERATION__MODEL")
    if options.backend == "openai":
        if not options.base_url:
            raise ConfigError(
                "generation backend 'openai' needs KEFU_GENERATION__BASE_URL (e.g. http://127.0.0.1:8000/v1)"
            )
        from bot.generation.openai_compat import OpenAICompatibleGenerator

        return OpenAICompatibleGenerator(
            base_url=options.base_url,
            model=options.model,
            fallback=grounded,
            api_key=options.api_key.get_secret_value() if options.api_key else None,
            timeout_s=options.timeout_s,
            retries=options.retries,
            stream=options.stream,
            max_tokens=options.max_tokens,
            shop=settings.shop.name,
        )
    from bot.generation.local import TransformersGenerator

    return TransformersGenerator(
        options.model, fallback=grounded, device=device, max_new_tokens=options.max_tokens, shop=settings.shop.name
    )
