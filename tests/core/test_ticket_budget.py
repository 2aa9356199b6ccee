"""The per-client count of conversations that opened a hand-off ticket (``bot.handoff.budget``)."""

from __future__ import annotations

from bot.handoff.budget import TicketBudget, TicketLimits


def test_counts_conversations_per_client_within_the_window() -> None:
    now = [0.0]
    budget = TicketBudget(TicketLimits(per_client=2, window_s=60.0), clock=lambda: now[0])
    assert [budget.allow("a", c) for c in ("c1", "c2", "c3")] == [True, True, False]
    assert budget.allow("a", "c1") and budget.allow("b", "c3")
    now[0] = 30.0
    assert not budget.allow("a", "c4")
    now[0] = 61.0
    assert budget.allow("a", "c4") and budget.allow("a", "c5") and not budget.allow("a", "c6")
    now[0] = 200.0
    budget.allow("c", "c1")
    assert len(budget) == 1  # clients whose requests left the window are forgotten


def test_remembers_at_most_max_clients() -> None:
    budget = TicketBudget(TicketLimits(per_client=1, max_clients=100))
    for number in range(1000):
        assert budget.allow(f"10.0.{number // 256}.{number % 256}", "c")
    assert len(budget) == 100
