"""``kefu handoff`` and ``kefu sessions`` on a real store, as an operator would use them from another terminal."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.app import open_store
from bot.cli import app
from bot.config import load_settings
from bot.messages import ConversationRef
from bot.sessions.base import HandoffState, Session, Turn


@pytest.fixture(params=["sqlite", "redis"])
def data_dir(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A store (SQLite, or the private Redis server) with one escalated conversation (ticket 1) whose history holds
    a phone number."""
    monkeypatch.setenv("KEFU_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("KEFU_STORE__URL", raising=False)
    if request.param == "redis":
        monkeypatch.setenv("KEFU_STORE__URL", request.getfixturevalue("redis_url"))

    async def seed() -> None:
        db, store, desk = await open_store(load_settings())
        session = Session(conversation="web:c1", user_id="shopper-1", language="en")
        await store.save(session, turns=[Turn("user", "call me on 13912345678"), Turn("bot", "sure")])
        ticket = await desk.open(
            conversation=ConversationRef("web", "c1"),
            user_id="shopper-1",
            reason="escalate: test",
            language="en",
            transcript=session.history,
        )
        session.handoff, session.ticket_id = HandoffState.WAITING, ticket.id
        await store.save(session)
        await db.close()

    asyncio.run(seed())
    return tmp_path


def kefu(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.output


def test_an_operator_lists_shows_replies_and_resolves(data_dir: Path) -> None:
    code, out = kefu("handoff", "list", "--json")
    assert code == 0 and [t["id"] for t in json.loads(out)] == [1]
    code, out = kefu("handoff", "show", "1", "--json")
    shown = json.loads(out)
    assert code == 0 and shown["messages"][0]["text"] == "call me on [phone …5678]"
    code, out = kefu("handoff", "reply", "1", "Hello, I'm Ana.", "--operator", "ana", "--json")
    assert code == 0 and json.loads(out)["state"] == "taken" and json.loads(out)["operator"] == "ana"
    code, out = kefu("sessions", "stats", "--json")
    assert json.loads(out)["sessions"] == {"human": 1}
    code, out = kefu("handoff", "resolve", "1", "-o", "ana")
    assert code == 0 and "resolved" in out
    code, out = kefu("handoff", "list", "--json")
    assert json.loads(out) == []
    code, out = kefu("handoff", "reply", "1", "again?")
    assert code == 1 and "ticket 1 is resolved" in out


def test_a_missing_ticket_is_a_clear_error(data_dir: Path) -> None:
    code, out = kefu("handoff", "take", "42")
    assert code == 1 and "ticket 42 not found" in out


def test_forget_and_purge(data_dir: Path) -> None:
    code, out = kefu("sessions", "purge", "--json")
    assert code == 0 and json.loads(out) == {"days": 90, "sessions": 0, "tickets": 0}
    code, out = kefu("sessions", "forget", "shopper-1", "--json")
    assert code == 0 and json.loads(out) == {"user": "shopper-1", "sessions": 1, "tickets": 1}
    code, out = kefu("sessions", "stats", "--json")
    assert json.loads(out) == {"sessions": {}, "turns": 0}
    code, out = kefu("sessions", "purge", "--days", "-1")
    assert code == 2 and "--days" in out


def test_an_unreachable_redis_store_is_one_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.redis_server import free_port

    monkeypatch.setenv("KEFU_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("KEFU_STORE__URL", f"redis://:hunter2@127.0.0.1:{free_port()}/0")
    code, out = kefu("handoff", "list")
    assert code == 1 and out.startswith("error: cannot reach the Redis store at redis://127.0.0.1:")
    assert "hunter2" not in out and "Traceback" not in out
    monkeypatch.setenv("KEFU_STORE__URL", "redis://127.0.0.1:notaport/0")
    code, out = kefu("sessions", "stats")
    assert code == 2 and out.startswith("error: store URL") and "KEFU_STORE__URL" in out


def test_kefu_doctor_checks_the_store(redis_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.redis_server import free_port

    monkeypatch.setenv("KEFU_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("KEFU_STORE__URL", redis_url)
    checks = {c["name"]: c for c in json.loads(CliRunner().invoke(app, ["doctor", "--json"]).stdout)}
    assert checks["store"]["status"] == "ok" and checks["store"]["detail"].startswith("Redis 7")
    monkeypatch.setenv("KEFU_STORE__URL", f"redis://127.0.0.1:{free_port()}/0")
    result = CliRunner().invoke(app, ["doctor", "--json"])
    checks = {c["name"]: c for c in json.loads(result.stdout)}
    assert result.exit_code == 1 and checks["store"]["status"] == "fail"
    assert "cannot reach the Redis store" in checks["store"]["detail"]
    monkeypatch.delenv("KEFU_STORE__URL")
    checks = {c["name"]: c for c in json.loads(CliRunner().invoke(app, ["doctor", "--json"]).stdout)}
    assert checks["store"] == {"name": "store", "status": "ok", "detail": f"SQLite {tmp_path / 'kefu.sqlite3'}"}
