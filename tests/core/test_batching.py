"""The micro-batcher: a lone request goes at once, batches form while the engine is busy, failures stay per
item, timeouts and cancellation."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from bot.batching import MicroBatcher
from bot.errors import Overloaded
from tests.conftest import wait_until


class Squarer:
    """A batch function that records the batches it saw and the thread it ran on."""

    def __init__(self, *, delay: float = 0.0) -> None:
        self.batches: list[list[int]] = []
        self.threads: set[str] = set()
        self.delay = delay

    def __call__(self, items: list[int]) -> list[int | BaseException]:
        self.batches.append(list(items))
        self.threads.add(threading.current_thread().name)
        time.sleep(self.delay)
        return [ValueError(f"bad item {i}") if i < 0 else i * i for i in items]


class Gated:
    """A batch function that records each batch and holds every call until ``gate`` is set (30 s hang guard)."""

    def __init__(self) -> None:
        self.batches: list[list[int]] = []
        self.gate = threading.Event()

    def __call__(self, items: list[int]) -> list[int]:
        self.batches.append(list(items))
        self.gate.wait(30)
        return [i * 10 for i in items]


async def settle() -> None:
    """Let every ready task run until it waits (a few event-loop steps; no time passes for a timer)."""
    for _ in range(20):
        await asyncio.sleep(0)


async def test_concurrent_submissions_form_batches() -> None:
    fn = Squarer()
    batcher = MicroBatcher(fn, name="square", max_batch_size=8)
    results = await asyncio.gather(*(batcher.submit(i) for i in range(20)))
    await batcher.aclose()
    assert results == [i * i for i in range(20)]
    assert [len(b) for b in fn.batches] == [8, 8, 4]  # submitted in one event-loop step: full batches
    assert batcher.stats.items == 20


async def test_a_lone_request_is_dispatched_at_once() -> None:
    fn = Gated()
    batcher = MicroBatcher(fn, name="gated", max_batch_size=32)
    lone = asyncio.create_task(batcher.submit(1))
    await settle()
    assert batcher.stats.batches == 1  # handed to the worker with 31 places free and nothing else coming
    await asyncio.to_thread(wait_until, lambda: fn.batches == [[1]])
    fn.gate.set()
    assert await lone == 10
    await batcher.aclose()


async def test_requests_arriving_while_a_batch_runs_form_the_next_batch() -> None:
    fn = Gated()
    batcher = MicroBatcher(fn, name="gated", max_batch_size=32)
    first = asyncio.create_task(batcher.submit(1))
    await asyncio.to_thread(wait_until, lambda: fn.batches == [[1]])
    later = [asyncio.create_task(batcher.submit(i)) for i in (2, 3, 4)]
    await settle()
    assert fn.batches == [[1]]  # the worker is busy: they wait together
    fn.gate.set()
    assert await first == 10 and await asyncio.gather(*later) == [20, 30, 40]
    await batcher.aclose()
    assert fn.batches == [[1], [2, 3, 4]]


async def test_gathered_requests_respect_the_batch_size() -> None:
    fn = Gated()
    batcher = MicroBatcher(fn, name="gated", max_batch_size=2)
    first = asyncio.create_task(batcher.submit(0))
    await asyncio.to_thread(wait_until, lambda: fn.batches == [[0]])
    later = [asyncio.create_task(batcher.submit(i)) for i in range(1, 6)]
    await settle()
    fn.gate.set()
    assert await asyncio.gather(first, *later) == [0, 10, 20, 30, 40, 50]
    await batcher.aclose()
    assert fn.batches == [[0], [1, 2], [3, 4], [5]]


async def test_batch_function_runs_off_the_event_loop_thread() -> None:
    fn = Squarer()
    batcher = MicroBatcher(fn, name="square", max_batch_size=4)
    await batcher.submit(3)
    await batcher.aclose()
    assert fn.threads and threading.current_thread().name not in fn.threads


async def test_event_loop_keeps_running_while_a_batch_computes() -> None:
    batcher = MicroBatcher(Squarer(delay=0.3), name="slow", max_batch_size=4)
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    task = asyncio.create_task(ticker())
    await batcher.submit(2)
    task.cancel()
    await batcher.aclose()
    assert ticks >= 5


async def test_one_failing_item_does_not_fail_the_others() -> None:
    batcher = MicroBatcher(Squarer(), name="square", max_batch_size=8)
    results = await asyncio.gather(*(batcher.submit(i) for i in (1, -1, 2)), return_exceptions=True)
    await batcher.aclose()
    assert results[0] == 1 and results[2] == 4
    assert isinstance(results[1], ValueError) and "bad item -1" in str(results[1])


async def test_a_raising_batch_is_retried_item_by_item() -> None:
    calls: list[list[str]] = []

    def picky(items: list[str]) -> list[str]:
        calls.append(items)
        if "poison" in items:
            raise RuntimeError("poisoned batch")
        return [item.upper() for item in items]

    batcher = MicroBatcher(picky, name="picky", max_batch_size=8)
    results = await asyncio.gather(*(batcher.submit(s) for s in ("a", "poison", "b")), return_exceptions=True)
    await batcher.aclose()
    assert results[0] == "A" and results[2] == "B"
    assert isinstance(results[1], RuntimeError)
    assert calls[0] == ["a", "poison", "b"] and ["poison"] in calls


async def test_wrong_result_count_is_an_error_for_every_caller() -> None:
    batcher = MicroBatcher(lambda items: items[:-1], name="short", max_batch_size=1)
    with pytest.raises(RuntimeError, match="returned 0 results for 1 items"):
        await batcher.submit(1)
    await batcher.aclose()


async def test_timeout_raises_and_the_batcher_keeps_working() -> None:
    batcher = MicroBatcher(Squarer(delay=0.3), name="slow", max_batch_size=1)
    with pytest.raises(TimeoutError):
        await batcher.submit(1, timeout=0.05)
    assert await batcher.submit(3, timeout=5) == 9
    await batcher.aclose()


async def test_cancelled_caller_item_is_skipped_before_it_runs() -> None:
    fn = Squarer(delay=0.2)
    batcher = MicroBatcher(fn, name="slow", max_batch_size=1)
    first = asyncio.create_task(batcher.submit(1))
    await asyncio.sleep(0.05)  # the first item is running; the second waits in the queue
    second = asyncio.create_task(batcher.submit(2))
    await asyncio.sleep(0.01)
    second.cancel()
    assert await first == 1
    assert await batcher.submit(3) == 9
    await batcher.aclose()
    assert [2] not in fn.batches
    assert second.cancelled()


async def test_full_queue_pushes_back_then_reports_overload() -> None:
    batcher = MicroBatcher(Squarer(delay=0.3), name="slow", max_batch_size=1, max_queue=2, queue_timeout=0.1)
    running = [asyncio.create_task(batcher.submit(i)) for i in range(2)]
    await asyncio.sleep(0.01)
    with pytest.raises(Overloaded):
        await batcher.submit(9)
    assert await asyncio.gather(*running) == [0, 1]
    await batcher.aclose()


async def test_batch_size_one_turns_batching_off() -> None:
    fn = Squarer()
    batcher = MicroBatcher(fn, name="single", max_batch_size=1)
    await asyncio.gather(*(batcher.submit(i) for i in range(6)))
    await batcher.aclose()
    assert all(len(batch) == 1 for batch in fn.batches) and len(fn.batches) == 6


async def test_workers_run_batches_side_by_side_and_never_more() -> None:
    running = 0
    most = 0
    guard = threading.Lock()

    def slow(items: list[int]) -> list[int]:
        nonlocal running, most
        with guard:
            running += 1
            most = max(most, running)
        time.sleep(0.05)
        with guard:
            running -= 1
        return [i + 1 for i in items]

    batcher = MicroBatcher(slow, name="parallel", max_batch_size=1, workers=2)
    results = await asyncio.gather(*(batcher.submit(i) for i in range(6)))
    await batcher.aclose()
    assert results == [i + 1 for i in range(6)]
    assert most == 2


async def test_closing_fails_items_of_batches_still_running() -> None:
    started = threading.Event()

    def stuck(items: list[int]) -> list[int]:
        started.set()
        time.sleep(0.2)
        return items

    batcher = MicroBatcher(stuck, name="stuck", max_batch_size=1, workers=2)
    pending = asyncio.ensure_future(batcher.submit(1))
    await asyncio.to_thread(started.wait, 5)
    await batcher.aclose()
    with pytest.raises(Overloaded):
        await pending


class Stoppable:
    """Long work that stops once its ``cancel`` event is set (a hang guard of 30 s keeps a failure finite)."""

    def __init__(self) -> None:
        self.started = threading.Event()
        self.stopped: list[bool] = []

    def __call__(self, items: list[int], *, cancel: threading.Event) -> list[int]:
        self.started.set()
        self.stopped.append(cancel.wait(30))
        return items


async def test_a_caller_that_times_out_cancels_its_running_batch() -> None:
    work = Stoppable()
    batcher = MicroBatcher(work, name="long", max_batch_size=1, cancellable=True)
    with pytest.raises(TimeoutError):
        await batcher.submit(1, timeout=0.2)
    await asyncio.to_thread(wait_until, lambda: bool(work.stopped))
    await batcher.aclose()
    assert work.stopped == [True]


async def test_a_batch_is_cancelled_only_when_every_caller_has_gone() -> None:
    work = Stoppable()
    batcher = MicroBatcher(work, name="long", max_batch_size=2, cancellable=True)
    first, second = (asyncio.create_task(batcher.submit(i)) for i in (1, 2))
    await asyncio.to_thread(work.started.wait, 5)
    first.cancel()
    await asyncio.sleep(0.1)
    assert not work.stopped  # the second caller still waits: the work goes on
    second.cancel()
    await asyncio.to_thread(wait_until, lambda: bool(work.stopped))
    await batcher.aclose()
    assert work.stopped == [True]


async def test_closing_cancels_running_work_and_does_not_wait_for_it() -> None:
    work = Stoppable()
    batcher = MicroBatcher(work, name="long", max_batch_size=1, workers=2, cancellable=True)
    pending = asyncio.ensure_future(batcher.submit(1))
    await asyncio.to_thread(work.started.wait, 5)
    await batcher.aclose()
    with pytest.raises(Overloaded):
        await pending
    await asyncio.to_thread(wait_until, lambda: bool(work.stopped))
    assert work.stopped == [True]


async def test_a_cancelled_caller_is_left_out_of_the_gathered_batch() -> None:
    fn = Gated()
    batcher = MicroBatcher(fn, name="gated", max_batch_size=32)
    first = asyncio.create_task(batcher.submit(1))
    await asyncio.to_thread(wait_until, lambda: fn.batches == [[1]])
    later = {i: asyncio.create_task(batcher.submit(i)) for i in (2, 3, 4)}
    await settle()
    later[3].cancel()
    fn.gate.set()
    assert await first == 10 and await later[2] == 20 and await later[4] == 40
    await batcher.aclose()
    assert later[3].cancelled()
    assert fn.batches == [[1], [2, 4]]


async def test_a_lone_cancellable_request_stops_when_its_caller_goes_and_the_gathered_batch_runs() -> None:
    gate = threading.Event()
    calls: list[tuple[list[int], bool]] = []

    def work(items: list[int], *, cancel: threading.Event) -> list[int]:
        while not gate.wait(0.01):  # "between steps"
            if cancel.is_set():
                break
        calls.append((list(items), cancel.is_set()))
        return items

    batcher = MicroBatcher(work, name="long", max_batch_size=8, cancellable=True)
    lone = asyncio.create_task(batcher.submit(1))
    await settle()
    assert batcher.stats.batches == 1
    later = [asyncio.create_task(batcher.submit(i)) for i in (2, 3)]
    await settle()
    lone.cancel()
    await asyncio.to_thread(wait_until, lambda: bool(calls))
    assert calls == [([1], True)]  # stopped: nobody waits for it any more
    gate.set()
    assert await asyncio.gather(*later) == [2, 3]
    await batcher.aclose()
    assert calls[1] == ([2, 3], False)


async def test_the_metrics_export_each_batchers_calls_and_items() -> None:
    from bot.metrics import Metrics

    metrics = Metrics()
    square, again = MicroBatcher(Squarer(), name="square", max_batch_size=8), MicroBatcher(Squarer(), name="square")
    metrics.watch_batches([square])
    metrics.watch_batches([again])  # a second pipeline in the same process adds up under the engine's name
    await asyncio.gather(*(square.submit(i) for i in range(20)))
    await again.submit(3)
    await square.aclose()
    await again.aclose()
    text = metrics.render().decode()
    assert 'kefu_batch_calls_total{engine="square"} 4.0' in text  # 8 + 8 + 4, then 1
    assert 'kefu_batch_items_total{engine="square"} 21.0' in text
