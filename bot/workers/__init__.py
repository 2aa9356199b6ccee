"""Worker mode: ``kefu worker`` processes answer the messages a front appends to a Redis Stream (docs/scale.md)."""

from bot.workers.front import Front
from bot.workers.leases import Leases
from bot.workers.worker import Worker, WorkerStats

__all__ = ["Front", "Leases", "Worker", "WorkerStats"]
