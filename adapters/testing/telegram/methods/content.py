"""More message kinds: contacts, venues, dice and polls."""

from __future__ import annotations

import random
from typing import TYPE_CHECKING, Any

from adapters.testing.telegram import payloads as p
from adapters.testing.telegram.methods.registry import method

if TYPE_CHECKING:
    from adapters.testing.telegram.server import FakeTelegram

_DICE = {"🎲": 6, "🎯": 6, "🎳": 6, "🏀": 5, "⚽": 5, "🎰": 64}


@method("sendContact")
async def send_contact(fake: FakeTelegram, params: dict[str, Any], files: dict[str, p.Upload]) -> dict[str, Any]:
    phone, first_name = str(params.get("phone_number") or ""), str(params.get("first_name") or "")
    if not phone or not first_name:
        raise p.BadRequest("phone number and first name must be non-empty")
    contact = {"phone_number": phone, "first_name": first_name} | {
        k: params[k] for k in ("last_name", "vcard") if params.get(k)
    }
    return fake.record(params, "", {"contact": contact})


@method("sendVenue")
async def send_venue(fake: FakeTelegram, params: dict[str, Any], files: dict[str, p.Upload]) -> dict[str, Any]:
    try:
        location = {"latitude": float(params["latitude"]), "longitude": float(params["longitude"])}
    except (KeyError, TypeError, ValueError) as exc:
        raise p.BadRequest("wrong latitude or longitude specified") from exc
    title, address = str(params.get("title") or ""), str(params.get("address") or "")
    if not title or not address:
        raise p.BadRequest("venue title and address must be non-empty")
    venue = {"location": location, "title": title, "address": address}
    return fake.record(params, "", {"venue": venue, "location": location})


@method("sendDice")
async def send_dice(fake: FakeTelegram, params: dict[str, Any], files: dict[str, p.Upload]) -> dict[str, Any]:
    emoji = str(params.get("emoji") or "🎲")
    if emoji not in _DICE:
        raise p.BadRequest("emoji must be one of " + ", ".join(_DICE))
    return fake.record(params, "", {"dice": {"emoji": emoji, "value": random.randint(1, _DICE[emoji])}})


@method("sendPoll")
async def send_poll(fake: FakeTelegram, params: dict[str, Any], files: dict[str, p.Upload]) -> dict[str, Any]:
    question, options = str(params.get("question") or ""), params.get("options")
    if not 1 <= len(question) <= 300:
        raise p.BadRequest("poll question length must be 1-300")
    if not isinstance(options, list) or not 2 <= len(options) <= 12:
        raise p.BadRequest("poll must have 2-12 options")
    texts = [str(o.get("text", "")) if isinstance(o, dict) else str(o) for o in options]
    poll = {
        "id": f"poll{len(fake.sent) + len(fake.calls)}",
        "question": question,
        "options": [{"persistent_id": str(i), "text": t, "voter_count": 0} for i, t in enumerate(texts)],
        "total_voter_count": 0,
        "allows_revoting": p.flag(params, "allows_revoting"),
        "members_only": False,
        "is_closed": False,
        "is_anonymous": params.get("is_anonymous", True) not in (False, "false"),
        "type": str(params.get("type") or "regular"),
        "allows_multiple_answers": p.flag(params, "allows_multiple_answers"),
    }
    return fake.record(params, question, {"poll": poll})
