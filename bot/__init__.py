"""kefu's core: messages, pipeline, intents, policy, generation, handoff, sessions, config, CLI, server."""

__version__ = "0.1.0"
