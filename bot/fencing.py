"""Fencing for worker mode: the conversation lease a turn runs under, carried to the stores that write its result.

A ``kefu worker`` holds a lease per conversation (``bot.workers.leases``) and sets ``FENCE`` while that
conversation's turn runs; the Redis session save and the stream inbox's ``complete`` check the lease's token in
the same script that writes, so a worker that lost its lease (it stalled past the lease time) writes nothing.
"""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass

from bot.errors import KefuError


@dataclass(frozen=True, slots=True)
class Fence:
    """The lease key (full Redis key) and the token this worker holds it with."""

    key: str
    token: str


class LeaseLost(KefuError):
    """The conversation's lease is held by another worker now: this worker's write was refused."""


FENCE: ContextVar[Fence | None] = ContextVar("kefu_fence", default=None)
"""The lease of the turn running in this task (None outside worker mode: writes are not fenced)."""

FENCED_ERROR = "KEFU_FENCED"
"""The error a fenced Lua script raises when the lease's token is not the caller's."""

CHECK_FENCE = f"""
local function check_fence(key, token)
  if key ~= '' and redis.call('GET', key) ~= token then return redis.error_reply('{FENCED_ERROR}') end
  return false
end
"""
"""Lua: ``local refused = check_fence(KEYS[i], ARGV[j]); if refused then return refused end`` (empty key: no fence)."""


def fence_args() -> tuple[str, str]:
    """The current fence's key and token for a script, or two empty strings when writes are not fenced."""
    fence = FENCE.get()
    return (fence.key, fence.token) if fence is not None else ("", "")


def refused(error: Exception) -> bool:
    """Whether a Redis error is a fenced script's refusal."""
    return FENCED_ERROR in str(error)
