"""Typed errors of intent classification; each message names the file or input at fault."""

from __future__ import annotations

from bot.errors import BadInput, ConfigError


class IntentsFileError(ConfigError):
    """An intents file cannot be used: bad YAML, too few examples, a duplicate, an unknown language."""

    def __init__(self, path: object, problem: str) -> None:
        super().__init__(f"{path}: {problem}")
        self.path = path
        self.problem = problem
        self.user_message = str(self)


class IntentModelError(ConfigError):
    """A saved intent model is missing, corrupt, or was trained with other encoders than those given."""

    def __init__(self, path: object, problem: str) -> None:
        super().__init__(f"intent model {path}: {problem}")
        self.path = path
        self.user_message = str(self)


class EmptyText(BadInput):
    """A text to classify is empty or only whitespace."""

    def __init__(self, index: int) -> None:
        super().__init__(f"text #{index} to classify is empty: write a question or a request")
        self.index = index
        self.user_message = "Please type a question or a request; the message was empty."


class DatasetMissing(ConfigError):
    """A benchmark data set is not where it was looked for (it is never copied into the repository)."""

    def __init__(self, name: str, looked_in: list[str]) -> None:
        super().__init__(f"data set {name!r} not found; looked in: {', '.join(looked_in)} (set KEFU_DATA_SETS)")
        self.name = name
        self.user_message = str(self)
