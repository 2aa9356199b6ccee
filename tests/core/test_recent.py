"""``RecentKeys``: the bounded memory of keys behind the in-memory inbox's and the Telegram adapter's de-duplication."""

from __future__ import annotations

from bot.recent import RecentKeys


def test_a_key_is_new_once_until_it_is_forgotten() -> None:
    seen = RecentKeys[int](2)
    assert seen.add(1) and not seen.add(1)
    seen.discard(1)
    assert seen.add(1)


def test_the_oldest_key_is_forgotten_first() -> None:
    seen = RecentKeys[str](2)
    for key in ("a", "b", "a", "c"):
        seen.add(key)
    assert "a" not in seen and "b" in seen and "c" in seen and len(seen) == 2
