"""An async micro-batcher: requests that arrive while the engine is busy are gathered into one batched call.

Engines are plain synchronous libraries with batch functions (``encode(list[str])``,
``transcribe_batch(list[bytes])``). The batcher lets many coroutines call such a function one item at a
time while the engine sees batches, run in a dedicated worker thread so the event loop never blocks.

    encoder = MicroBatcher(model.encode, name="encode", max_batch_size=32)
    vector = await encoder.submit("where is my parcel?")

When to dispatch: at once whenever a worker is free, and otherwise as soon as one frees, with everything
that queued meanwhile (up to ``max_batch_size``). A lone request never waits for company that may not come,
so one conversation gets the unbatched latency; under load the engine is always busy, so batches grow with
the load by themselves. No timer is involved: requests made in the same event-loop step still share a
batch, because the dispatcher wakes after the tasks that were ready before it.

Contract of the batch function: it gets a list of items and returns a sequence of the same length, in
order. An element that is an exception instance is raised to that item's caller only. If the function
raises for a batch of several items, each item is retried alone so one bad input fails only itself.

A thread cannot be stopped from outside, so long work stops itself: with ``cancellable=True`` the function
is called as ``fn(items, cancel=event)`` and the ``threading.Event`` is set once every caller of the batch
has stopped waiting (cancelled or timed out) or the batcher closes; the function checks it between steps.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from bot.errors import Overloaded

T = TypeVar("T")
R = TypeVar("R")

log = logging.getLogger(__name__)


@dataclass(slots=True)
class _Job(Generic[T, R]):
    item: T
    future: asyncio.Future[R]


@dataclass(slots=True)
class BatchStats:
    """Counters a benchmark or test reads to see how batches formed."""

    batches: int = 0
    items: int = 0
    largest: int = 0
    sizes: deque[int] = field(default_factory=lambda: deque(maxlen=4096))

    def record(self, size: int) -> None:
        self.batches += 1
        self.items += size
        self.largest = max(self.largest, size)
        self.sizes.append(size)

    @property
    def mean_size(self) -> float:
        return self.items / self.batches if self.batches else 0.0


class MicroBatcher(Generic[T, R]):
    """Runs ``submit`` calls in batches of at most ``max_batch_size``: at once when a worker is free, else gathered.

    ``max_queue`` bounds the items waiting or running: ``submit`` waits for room (back-pressure), or
    raises ``Overloaded`` after ``queue_timeout`` seconds. ``max_batch_size=1`` turns batching off while
    keeping the worker thread, which is how benchmarks measure what batching buys. ``workers`` batches
    run at once, each in its own thread: for engines that run calls side by side (Whisper on a CPU
    decodes one note per core rather than several in one call). ``cancellable``: ``fn`` takes ``cancel=``
    (see the module's docstring), so ``aclose`` returns at once and the threads stop soon after.
    """

    def __init__(
        self,
        fn: Callable[..., Sequence[R | BaseException]],
        *,
        name: str,
        max_batch_size: int = 16,
        max_queue: int = 1024,
        queue_timeout: float = 30.0,
        workers: int = 1,
        cancellable: bool = False,
    ) -> None:
        if max_batch_size < 1 or max_queue < 1 or workers < 1:
            raise ValueError("max_batch_size, max_queue and workers must be at least 1")
        self.fn = fn
        self.name = name
        self.cancellable = cancellable
        self.max_batch_size = max_batch_size
        self.queue_timeout = queue_timeout
        self.stats = BatchStats()
        self._max_queue = max_queue
        self._jobs: deque[_Job[T, R]] = deque()
        self._slots: asyncio.Semaphore | None = None
        self._has_jobs: asyncio.Event | None = None
        self._collector: asyncio.Task[None] | None = None
        self.workers = workers
        self._free_workers: asyncio.Semaphore | None = None
        self._running: set[asyncio.Task[None]] = set()
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix=f"kefu-{name}")

    async def submit(self, item: T, *, timeout: float | None = None) -> R:
        """Queue ``item`` and return its result; cancelling the caller drops the item if not yet started."""
        self._ensure_started()
        assert self._slots is not None and self._has_jobs is not None
        try:
            await asyncio.wait_for(self._slots.acquire(), self.queue_timeout)
        except TimeoutError:
            raise Overloaded(f"{self.name}: {self._max_queue} items already queued") from None
        try:
            job: _Job[T, R] = _Job(item, asyncio.get_running_loop().create_future())
            self._jobs.append(job)
            self._has_jobs.set()
            if timeout is None:
                return await job.future
            return await asyncio.wait_for(job.future, timeout)
        finally:
            self._slots.release()

    async def aclose(self) -> None:
        """Stop the collector, fail waiting items, and release the worker thread."""
        if self._collector is not None:
            self._collector.cancel()
            await asyncio.gather(self._collector, return_exceptions=True)
            self._collector = None
        for task in list(self._running):
            task.cancel()
        await asyncio.gather(*self._running, return_exceptions=True)
        while self._jobs:
            job = self._jobs.popleft()
            if not job.future.done():
                job.future.set_exception(Overloaded(f"{self.name}: batcher closed"))
        self._executor.shutdown(wait=False, cancel_futures=True)

    def _ensure_started(self) -> None:
        if self._collector is not None and not self._collector.done():
            return
        self._slots = asyncio.Semaphore(self._max_queue)
        self._has_jobs = asyncio.Event()
        self._free_workers = asyncio.Semaphore(self.workers)
        self._collector = asyncio.get_running_loop().create_task(self._collect(), name=f"batcher-{self.name}")

    async def _collect(self) -> None:
        assert self._has_jobs is not None and self._free_workers is not None
        while True:
            await self._has_jobs.wait()
            await self._free_workers.acquire()  # at once if a worker is free; else items gather until one is
            batch = self._take_batch()
            if not batch:
                self._free_workers.release()
                continue
            task = asyncio.get_running_loop().create_task(self._run_on_worker(batch))
            self._running.add(task)
            task.add_done_callback(self._running.discard)

    async def _run_on_worker(self, batch: list[_Job[T, R]]) -> None:
        assert self._free_workers is not None
        try:
            await self._run(batch)
        except asyncio.CancelledError:
            for job in batch:
                _deliver(job, Overloaded(f"{self.name}: batcher closed"))
            raise
        finally:
            self._free_workers.release()

    def _take_batch(self) -> list[_Job[T, R]]:
        assert self._has_jobs is not None
        batch: list[_Job[T, R]] = []
        while self._jobs and len(batch) < self.max_batch_size:
            job = self._jobs.popleft()
            if not job.future.done():  # a cancelled or timed-out caller: skip its item
                batch.append(job)
        if not self._jobs:
            self._has_jobs.clear()
        return batch

    async def _run(self, batch: list[_Job[T, R]]) -> None:
        loop = asyncio.get_running_loop()
        self.stats.record(len(batch))
        cancel = threading.Event()

        def abandoned(_: asyncio.Future[R]) -> None:
            if all(job.future.done() for job in batch):
                cancel.set()  # nobody waits for this batch any more (or it is delivered: then it is a no-op)

        for job in batch:
            job.future.add_done_callback(abandoned)
        try:
            results = await loop.run_in_executor(self._executor, self._call, [job.item for job in batch], cancel)
        except asyncio.CancelledError:
            cancel.set()  # the batcher is closing
            raise
        except Exception as error:  # noqa: BLE001 - delivered to callers, never lost
            if len(batch) == 1:
                _deliver(batch[0], error)
                return
            log.warning("%s: batch of %d failed (%s); retrying items one by one", self.name, len(batch), error)
            for job in batch:
                if not job.future.done():
                    await self._run([job])
            return
        for job, result in zip(batch, results, strict=True):
            _deliver(job, result)

    def _call(self, items: list[T], cancel: threading.Event) -> Sequence[R | BaseException]:
        results = self.fn(items, cancel=cancel) if self.cancellable else self.fn(items)
        if len(results) != len(items):
            raise RuntimeError(f"{self.name}: batch function returned {len(results)} results for {len(items)} items")
        return results


def _deliver(job: _Job[T, R], result: R | BaseException) -> None:
    if job.future.done():
        return
    if isinstance(result, BaseException):
        job.future.set_exception(result)
    else:
        job.future.set_result(result)
