"""Operator and privacy commands: ``kefu handoff list|show|take|reply|resolve``, ``kefu sessions forget|purge|stats``.

They open the same store as the running bot (``KEFU_STORE__URL``: the SQLite file or the Redis server). Operator
messages written here are queued in the store's outbox; the running bot delivers them within ``store.outbox_poll_s``
seconds.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, TypeVar

import typer

from bot.cli.groups import app, bench_app
from bot.cli.kit import ConfigOption, JsonOption, fail, fail_usage, load, setup

handoff_app = typer.Typer(
    help="Tickets of conversations handed over to a person (the built-in desk).", no_args_is_help=True
)
sessions_app = typer.Typer(
    help="Stored conversations: delete a shopper's data, purge old sessions.", no_args_is_help=True
)
app.add_typer(handoff_app, name="handoff")
app.add_typer(sessions_app, name="sessions")

T = TypeVar("T")
OperatorOption = Annotated[
    str, typer.Option("--operator", "-o", envvar="KEFU_OPERATOR", help="Who acts (kept on the ticket).")
]


def _with_store(config: Any, work: Callable[[Any, Any], Awaitable[T]]) -> T:
    """Run ``work(store, desk)`` on the configured store; operator mistakes end the command with their message."""
    from bot.app import open_store
    from bot.errors import ConfigError, StoreUnavailable
    from bot.handoff.base import HandoffError

    settings = setup(config, log_level="WARNING")

    async def main() -> T:
        db, store, desk = await open_store(settings)
        try:
            return await work(store, desk)
        finally:
            await db.close()

    try:
        return asyncio.run(main())
    except HandoffError as error:
        fail(error)
    except ConfigError as error:
        fail_usage(error)
    except StoreUnavailable as error:
        fail(error)


def _delete_in_both(config: Any, delete: Callable[[Any], Awaitable[int]]) -> dict[str, int]:
    """``delete`` run on the session store and on the desk (both have ``forget_user`` and ``purge``): the counts."""

    async def work(store: Any, desk: Any) -> dict[str, int]:
        return {"sessions": await delete(store), "tickets": await delete(desk)}

    return _with_store(config, work)


def _ticket_json(ticket: Any) -> dict[str, Any]:
    return {
        "id": ticket.id,
        "conversation": str(ticket.conversation),
        "user": ticket.user_id,
        "state": ticket.state.value,
        "reason": ticket.reason,
        "language": ticket.language,
        "operator": ticket.operator,
        "opened_at": ticket.opened_at,
        "updated_at": ticket.updated_at,
    }


def _print(data: Any, as_json: bool, text: str) -> None:
    typer.echo(json.dumps(data, ensure_ascii=False, indent=2) if as_json else text)


def _when(at: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(at))


@handoff_app.command("list")
def list_tickets(
    all_: Annotated[bool, typer.Option("--all", help="Include resolved tickets.")] = False,
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """Open tickets (waiting for a person, or taken), oldest first."""
    from bot.handoff.base import TicketState

    states = tuple(TicketState) if all_ else (TicketState.OPEN, TicketState.TAKEN)
    tickets = _with_store(config, lambda _, desk: desk.tickets(states=states))
    lines = [
        f"#{t.id:<5} {t.state.value:<8} {_when(t.opened_at)}  {t.conversation}  {t.operator or '-':<10} {t.reason}"
        for t in tickets
    ]
    _print([_ticket_json(t) for t in tickets], as_json, "\n".join(lines) or "no open tickets")


@handoff_app.command("show")
def show(ticket: int, config: ConfigOption = None, as_json: JsonOption = False) -> None:
    """A ticket and its messages (personal data masked)."""

    async def work(_: Any, desk: Any) -> tuple[Any, Any]:
        return await desk.get(ticket), await desk.messages(ticket)

    found, messages = _with_store(config, work)
    data = _ticket_json(found) | {"messages": [{"author": m.author, "text": m.text, "at": m.at} for m in messages]}
    lines = [f"ticket #{found.id} ({found.state.value}) {found.conversation}: {found.reason}"]
    lines += [f"  {_when(m.at)} {m.author:>8}: {m.text}" for m in messages]
    _print(data, as_json, "\n".join(lines))


@handoff_app.command("take")
def take(
    ticket: int, operator: OperatorOption = "operator", config: ConfigOption = None, as_json: JsonOption = False
) -> None:
    """Take over a conversation: the bot stops answering and relays the shopper's messages to the ticket."""
    taken = _with_store(config, lambda _, desk: desk.take(ticket, operator=operator))
    _print(_ticket_json(taken), as_json, f"ticket #{taken.id} taken by {operator}")


@handoff_app.command("reply")
def reply(
    ticket: int,
    text: str,
    operator: OperatorOption = "operator",
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """Send TEXT to the shopper (taking the ticket if nobody has); the running bot delivers it."""
    replied = _with_store(config, lambda _, desk: desk.reply(ticket, text, operator=operator))
    _print(_ticket_json(replied) | {"queued": text}, as_json, f"queued for {replied.conversation}: {text}")


@handoff_app.command("resolve")
def resolve(
    ticket: int, operator: OperatorOption = "operator", config: ConfigOption = None, as_json: JsonOption = False
) -> None:
    """Close a ticket; the conversation goes back to the bot."""
    resolved = _with_store(config, lambda _, desk: desk.resolve(ticket, operator=operator))
    _print(
        _ticket_json(resolved),
        as_json,
        f"ticket #{resolved.id} resolved; the bot answers {resolved.conversation} again",
    )


@sessions_app.command("forget")
def forget(user: str, config: ConfigOption = None, as_json: JsonOption = False) -> None:
    """Delete everything kept about USER (sessions, history, tickets), e.g. on the shopper's request."""
    counts = _delete_in_both(config, lambda kept: kept.forget_user(user))
    _print(
        {"user": user} | counts,
        as_json,
        f"deleted {counts['sessions']} sessions and {counts['tickets']} tickets of {user}",
    )


@sessions_app.command("purge")
def purge(
    days: Annotated[
        float | None, typer.Option("--days", help="Idle for longer than this (default: store.retention_days).")
    ] = None,
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """Delete sessions idle, and resolved tickets untouched, for longer than the retention period."""
    from bot.config import load_settings

    keep = days if days is not None else load_settings(config).store.retention_days
    if keep < 0:
        fail_usage("--days must be 0 or more")
    counts = _delete_in_both(config, lambda kept: kept.purge(older_than_days=keep))
    _print(
        {"days": keep} | counts,
        as_json,
        f"purged {counts['sessions']} sessions and {counts['tickets']} tickets older than {keep:g} days",
    )


@sessions_app.command("stats")
def stats(config: ConfigOption = None, as_json: JsonOption = False) -> None:
    """Sessions by hand-off state and the number of kept turns."""
    counts = _with_store(config, lambda store, _: store.stats())
    states = ", ".join(f"{state} {n}" for state, n in counts["sessions"].items()) or "none"
    _print(counts, as_json, f"sessions: {states}; turns kept: {counts['turns']}")


@bench_app.command("dialogue")
def bench_dialogue(
    conversations: Annotated[int, typer.Option("--conversations", "-n", help="Conversations at once.")] = 16,
    rounds: Annotated[int, typer.Option("--rounds", "-r", help="Scripted conversations each runs.")] = 3,
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """Per-turn cost of sessions, actions and the SQLite store, against the stateless pipeline in the same run."""
    from bot.app import build_pipeline
    from bot.cli.dialogue_bench import bench_dialogue as measure

    settings = setup(config, log_level="WARNING")
    components = load(settings, speech=False)

    async def run() -> dict[str, Any]:
        return await measure(
            settings,
            lambda orders: build_pipeline(settings, components, orders=orders),
            conversations=conversations,
            rounds=rounds,
        )

    report = asyncio.run(run())
    lines = [
        f"{name:<22} {r['turns']:>5} turns  {r['turns_per_s']:>7.1f} turns/s  mean {r['mean_ms']:.1f} ms"
        f"  p50 {r['p50_ms']:.1f} ms  p95 {r['p95_ms']:.1f} ms  encoder batch {r['encoder_batch_mean']:.1f}"
        for name in ("stateless", "conversations_sqlite")
        for r in [report[name]]
    ]
    lines.append(f"throughput ratio (conversations / stateless): {report['throughput_ratio']:.3f}")
    lines.append(f"added per turn: {report['added_mean_ms']:+.1f} ms (whole turns; noisy on a shared CPU)")
    lines.append(
        f"session load + save: mean {report['session_mean_ms']:.2f} ms, p95 {report['session_p95_ms']:.2f} ms,"
        f" {report['session_share']:.1%} of a turn"
    )
    _print(report, as_json, "\n".join(lines))
