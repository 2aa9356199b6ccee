"""Fuzz through the HTTP front of a real ``kefu run`` (web chat, Telegram webhook, Slack Events API in one process):
more than a thousand seeded malformed inputs. Nothing crashes (the process lives, ``/healthz`` is 200, no request
gets a 5xx, no traceback in the log), nothing is stuck (a valid message on each channel afterwards is answered),
and every valid sender is told clearly (a real Telegram user's corrupt voice note or photo gets a reply saying so)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import string
from collections import Counter
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from adapters.testing.slack import FakeSlack
from adapters.testing.telegram import FakeTelegram
from bot.config import Settings
from bot.generation.templates import say
from tests.redis_server import free_port
from tests.reliability import fuzz_inputs as fuzz
from tests.reliability.processes import KefuProcess, probe_until

pytestmark = pytest.mark.slow

SEED = 2222
SECRET = "fuzz-webhook-secret"


class Front:
    """Posts to the running bot and keeps every answer's status."""

    def __init__(self, http: aiohttp.ClientSession, base: str) -> None:
        self.http = http
        self.base = base
        self.statuses: Counter[int] = Counter()
        self.server_errors: list[str] = []
        self.sent = 0

    async def post(self, path: str, body: bytes, headers: dict[str, str], what: str) -> None:
        self.sent += 1
        async with self.http.post(self.base + path, data=body, headers=headers) as response:
            await response.read()
            self.note(response.status, what)

    def note(self, status: int, what: str) -> None:
        self.statuses[status] += 1
        if status >= 500:
            self.server_errors.append(f"{status} for {what[:300]}")


def dumps(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False).encode("utf-8", "surrogatepass")


async def fuzz_telegram(front: Front, rng: random.Random) -> None:
    """Random JSON, mutated updates, random bytes, forged secrets and oversize texts at ``/telegram/webhook``."""
    headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET, "Content-Type": "application/json"}
    bodies: list[tuple[bytes, dict[str, str]]] = []
    for _ in range(200):
        bodies.append((dumps(fuzz.random_json(rng)), headers))
    for n in range(250):
        update = fuzz.telegram_update(rng, 900_000 + n, 880_000 + n % 40)
        bodies.append((dumps(fuzz.mutate(rng, update, mutations=rng.randint(1, 4))), headers))
    for _ in range(45):
        bodies.append((rng.randbytes(rng.randint(0, 4000)), headers))
    for depth in (1_000, 5_000, 20_000, 100_000, 400_000):  # nested deeper than json.loads can follow
        bodies.append((b'{"update_id": 1, "message": ' + b"[" * depth + b"]" * depth + b"}", headers))
    for n in range(20):
        forged = {"X-Telegram-Bot-Api-Secret-Token": "".join(rng.choices(string.ascii_letters, k=rng.randint(1, 40)))}
        bodies.append((dumps(fuzz.telegram_update(rng, 950_000 + n, 881_000)), forged | {"Content-Type": "x/y"}))
    for n in range(10):
        update = fuzz.telegram_update(rng, 960_000 + n, 882_000 + n)
        update.setdefault("message", {"chat": {"id": 1}})["text"] = "退" * rng.choice([5000, 70_000, 300_000])
        bodies.append((dumps(update), headers))
    for body, sent_headers in bodies:
        await front.post("/telegram/webhook", body, sent_headers, body[:200].decode(errors="replace"))


async def fuzz_slack(front: Front, slack: FakeSlack, rng: random.Random) -> None:
    """Correctly signed random JSON, mutated event envelopes and random bytes at ``/slack/events``."""
    for _ in range(120):
        body = dumps(fuzz.random_json(rng))
        front.note((await slack.post("event_callback", body, "application/json")).status, repr(body[:200]))
    for n in range(180):
        envelope = fuzz.slack_envelope(rng, team=slack.team_id, user=f"U{7000 + n % 30}", n=n)
        body = dumps(fuzz.mutate(rng, envelope, mutations=rng.randint(1, 4)))
        front.note((await slack.post("event_callback", body, "application/json")).status, repr(body[:200]))
    for _ in range(50):
        body = rng.randbytes(rng.randint(0, 3000))
        kind = rng.choice(["application/json", "application/x-www-form-urlencoded"])
        front.note((await slack.post("event_callback", body, kind)).status, repr(body[:100]))
    front.sent += 350


async def fuzz_web(front: Front, rng: random.Random, *, sessions: int = 8, frames: int = 30) -> None:
    """Random text, random JSON, mutated valid frames and binary frames over several web chat sockets (a socket the
    server closes is opened again, a bounded number of times)."""

    async def one(seed: int) -> None:
        local = random.Random(seed)
        sent = 0
        for _ in range(frames):
            if sent >= frames:
                return
            with contextlib.suppress(aiohttp.ClientError, ConnectionError, RuntimeError):
                async with front.http.ws_connect(front.base + "/ws", heartbeat=None) as ws:
                    hello = json.loads((await ws.receive(timeout=30)).data)
                    assert hello["type"] == "hello"
                    while sent < frames and not ws.closed:
                        sent += 1
                        front.sent += 1
                        roll = local.random()
                        if roll < 0.15:
                            await ws.send_bytes(local.randbytes(local.randint(0, 2000)))
                        elif roll < 0.35:
                            text = fuzz.random_text(local, longest=200).encode("utf-8", "surrogatepass")
                            await ws.send_frame(text, aiohttp.WSMsgType.TEXT)  # not always valid UTF-8
                        elif roll < 0.55:
                            await ws.send_str(json.dumps(fuzz.random_json(local)))
                        else:
                            frame = fuzz.mutate(local, fuzz.web_frame(local, sent), mutations=local.randint(0, 3))
                            await ws.send_str(json.dumps(frame))
                        await asyncio.sleep(0.12)  # under the flood guard, so the frames are parsed, not refused

    await asyncio.gather(*(one(rng.randint(0, 2**32)) for _ in range(sessions)))


async def answered_on_the_web(front: Front) -> dict[str, Any]:
    async with front.http.ws_connect(front.base + "/ws", heartbeat=None) as ws:
        await ws.receive(timeout=30)
        await ws.send_str(json.dumps({"type": "message", "text": "How long does shipping take?", "id": "after"}))
        while True:
            frame = json.loads((await ws.receive(timeout=120)).data)
            if frame["type"] == "reply":
                return frame


async def test_a_thousand_malformed_inputs_crash_nothing_and_every_valid_sender_is_told(
    fake_telegram: FakeTelegram, fake_slack: FakeSlack, demo_components: object, demo_settings: Settings, tmp_path: Path
) -> None:
    rng = random.Random(SEED)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    fake_slack.events_url = f"{base}/slack/events"
    kefu = KefuProcess(
        demo_settings,
        tmp_path / "store.sqlite3",
        tmp_path / "kefu.log",
        KEFU_HTTP__PORT=str(port),
        KEFU_CHANNELS='["web", "telegram", "slack"]',
        KEFU_TELEGRAM__TOKEN=fake_telegram.token,
        KEFU_TELEGRAM__API_BASE=fake_telegram.base_url,
        KEFU_TELEGRAM__MODE="webhook",
        KEFU_TELEGRAM__WEBHOOK_URL=f"{base}/telegram/webhook",
        KEFU_TELEGRAM__WEBHOOK_SECRET=SECRET,
        KEFU_SLACK__BOT_TOKEN=fake_slack.bot_token,
        KEFU_SLACK__SIGNING_SECRET=fake_slack.signing_secret,
        KEFU_SLACK__API_BASE=fake_slack.base_url,
    )
    kefu.start()
    try:
        async with aiohttp.ClientSession() as http:
            ready = await probe_until(http, base + "/readyz", kefu, status=200, timeout=300)  # every channel started
            assert fake_telegram.webhook_url == f"{base}/telegram/webhook", (ready, kefu.output()[-3000:])
            front = Front(http, base)
            senders = {chat: fake_telegram.user(chat, language_code="en") for chat in range(870_001, 870_021)}
            for n, user in enumerate(senders.values()):
                if n % 2:
                    user.sends_voice(rng.randbytes(rng.randint(1, 5000)))
                else:
                    user.sends_photo(rng.randbytes(rng.randint(1, 5000)))
            await asyncio.gather(fuzz_telegram(front, rng), fuzz_slack(front, fake_slack, rng), fuzz_web(front, rng))
            inputs = front.sent + len(senders)
            print(f"fuzz: {inputs} malformed inputs; statuses {dict(sorted(front.statuses.items()))}")
            assert inputs >= 1000
            assert kefu.alive(), kefu.output()[-4000:]
            assert not front.server_errors, front.server_errors[:10]
            async with http.get(base + "/healthz") as response:
                assert response.status == 200

            fake_telegram.user(870_100, language_code="en").says("How long does shipping take?")
            await fake_slack.user("U0AFTER1").says("How long does shipping take?")
            reply = await answered_on_the_web(front)
            assert "ship" in reply["text"].lower()
            answer, *_ = await fake_telegram.wait_for_messages(870_100, 1, timeout=120)
            assert "ship" in answer.text.lower()
            slack_answer, *_ = await fake_slack.wait_for_messages("D0AFTER1", 1, timeout=120)
            assert "ship" in slack_answer.text.lower()

            apology = say("internal_error", "en")
            for chat in senders:
                told = (await fake_telegram.wait_for_messages(chat, 1, timeout=120))[0]
                assert told.text and told.text != apology, (chat, told.text)
        assert kefu.terminate() == 0, kefu.output()[-3000:]
        assert "Traceback" not in kefu.output(), kefu.output()[-6000:]
    finally:
        if kefu.alive():
            kefu.kill()
