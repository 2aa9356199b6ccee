"""Seeded malformed inputs for the fuzz suite: random JSON, mutations of valid Telegram updates, Slack event envelopes
and web chat frames, random bytes. Pure functions of a ``random.Random``, so a failing seed replays exactly."""

from __future__ import annotations

import copy
import random
import string
from typing import Any

ODD_TEXT = ("", " ", "\x00", "\ud800", "🙂" * 50, "<script>", "' OR 1=1 --", "%s%n", "\u202e", "a" * 5000, "退款")


def random_text(rng: random.Random, *, longest: int = 40) -> str:
    if rng.random() < 0.3:
        return rng.choice(ODD_TEXT)
    alphabet = string.printable + "中文测试éßΩ\u200b\U0001f600"
    return "".join(rng.choice(alphabet) for _ in range(rng.randint(0, longest)))


def random_json(rng: random.Random, depth: int = 0) -> Any:
    """Any JSON value: scalars of every type and edge, lists and objects up to a few levels."""
    roll = rng.random()
    if depth > 3 or roll < 0.45:
        return rng.choice(
            [
                None,
                True,
                False,
                0,
                -1,
                2**63,
                -(2**70),
                1.5,
                1e308,
                rng.randint(-(10**6), 10**6),
                random_text(rng),
                random_text(rng),
            ]
        )
    if roll < 0.7:
        return [random_json(rng, depth + 1) for _ in range(rng.randint(0, 4))]
    keys = ["message", "update_id", "chat", "id", "text", "voice", "photo", "type", "event", "user", "data", "file_id"]
    return {
        rng.choice([*keys, random_text(rng, longest=8)]): random_json(rng, depth + 1) for _ in range(rng.randint(0, 5))
    }


def nested(depth: int) -> Any:
    value: Any = "deep"
    for _ in range(depth):
        value = [value]
    return value


def mutate(rng: random.Random, value: Any, *, mutations: int = 3) -> Any:
    """``value`` with a few random changes: a key deleted, a value replaced by random JSON, a type changed, a string
    made huge or odd, a value nested very deep."""
    result = copy.deepcopy(value)
    for _ in range(mutations):
        path = _random_path(rng, result)
        if not path:
            continue
        *parents, last = path
        holder = result
        for step in parents:
            holder = holder[step]
        current = holder[last]
        operation = rng.randrange(7)
        if operation == 0 and isinstance(holder, dict):
            del holder[last]
        elif operation == 1:
            holder[last] = random_json(rng)
        elif operation == 2:
            holder[last] = str(current) if not isinstance(current, str) else rng.choice([0, -5, 3.5, [], {}])
        elif operation == 3:
            holder[last] = rng.choice(ODD_TEXT)
        elif operation == 4:
            holder[last] = nested(rng.choice([50, 300, 900]))  # json.dumps itself stops near 1000
        elif operation == 5:
            holder[last] = None
        else:
            holder[last] = rng.choice([2**64, -1, 0, "", "x" * 70_000])
    return result


def _random_path(rng: random.Random, value: Any) -> list[Any]:
    path: list[Any] = []
    while True:
        if isinstance(value, dict) and value:
            key = rng.choice(list(value))
        elif isinstance(value, list) and value:
            key = rng.randrange(len(value))
        else:
            return path
        path.append(key)
        value = value[key]
        if rng.random() < 0.4:
            return path


def telegram_update(rng: random.Random, update_id: int, chat_id: int) -> dict[str, Any]:
    """A well-formed update of a random kind (text, voice, photo, document, a button, an edit)."""
    person = {"id": chat_id, "is_bot": False, "first_name": "Fuzz", "language_code": "en"}
    message: dict[str, Any] = {
        "message_id": rng.randint(1, 10**6),
        "date": 1_765_000_000,
        "chat": {"id": chat_id, "type": "private", "first_name": "Fuzz"},
        "from": person,
    }
    kind = rng.choice(["text", "voice", "photo", "document", "callback", "edit"])
    file = {"file_id": f"F{rng.randint(1, 10**9)}", "file_unique_id": f"U{rng.randint(1, 10**9)}", "file_size": 100}
    if kind == "voice":
        message["voice"] = file | {"duration": 2, "mime_type": "audio/ogg"}
    elif kind == "photo":
        message["photo"] = [file | {"width": 90, "height": 90}]
        message["caption"] = random_text(rng)
    elif kind == "document":
        message["document"] = file | {"file_name": "x.jpg", "mime_type": "image/jpeg"}
    else:
        message["text"] = random_text(rng)
    if kind == "callback":
        query = {"id": str(rng.randint(1, 10**9)), "from": person, "chat_instance": "1", "data": random_text(rng)}
        return {"update_id": update_id, "callback_query": query | {"message": message}}
    return {"update_id": update_id, ("edited_message" if kind == "edit" else "message"): message}


def slack_envelope(rng: random.Random, *, team: str, user: str, n: int) -> dict[str, Any]:
    """A well-formed ``event_callback`` carrying a DM, a mention or a file share."""
    ts = f"{1_765_000_000 + n}.{n:06d}"
    event: dict[str, Any] = {
        "type": rng.choice(["message", "app_mention"]),
        "user": user,
        "text": random_text(rng),
        "ts": ts,
        "channel": "D" + user[1:],
        "channel_type": "im",
        "event_ts": ts,
        "team": team,
    }
    if rng.random() < 0.3:
        event["subtype"] = "file_share"
        event["files"] = [
            {"id": f"F{n}", "name": "x.ogg", "mimetype": "audio/ogg", "url_private": "http://127.0.0.1:9/x"}
        ]
    return {
        "token": "unused",
        "team_id": team,
        "api_app_id": "A0KEFU",
        "event": event,
        "type": "event_callback",
        "event_id": f"Ev{n:010d}",
        "event_time": 1_765_000_000 + n,
    }


def web_frame(rng: random.Random, n: int) -> dict[str, Any]:
    """A well-formed web chat frame: a message, a button, a voice note or a photo (random bytes as base64)."""
    kind = rng.choice(["message", "button", "voice", "photo"])
    if kind == "message":
        return {"type": "message", "text": random_text(rng), "id": f"f{n}"}
    if kind == "button":
        return {"type": "button", "payload": random_text(rng), "id": f"f{n}"}
    import base64

    data = base64.b64encode(rng.randbytes(rng.randint(0, 3000))).decode()
    mime = "audio/ogg" if kind == "voice" else "image/jpeg"
    return {"type": kind, "data": data, "mime": mime, "id": f"f{n}"}
