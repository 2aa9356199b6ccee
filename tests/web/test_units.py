"""The web chat's pieces on their own: text cleaning and frame decoding (fuzzed), the flood guard, the session hub."""

from __future__ import annotations

import base64
import json
import tracemalloc
import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.web.clients import ClientLimits, SocketCounter, client_address
from adapters.web.flood import FloodGuard, FloodLimit, Verdict
from adapters.web.frames import ChatLimits, FrameError, Inbound, clean_text, decode_frame
from adapters.web.sessions import SessionHub

LIMITS = ChatLimits(max_text_chars=50, max_upload_bytes=64, voice=True, photo=True)


@given(st.text())
def test_clean_text_leaves_no_control_characters(text: str) -> None:
    cleaned = clean_text(text)
    assert all(ch in "\n\t" or unicodedata.category(ch) not in ("Cc", "Cs") for ch in cleaned)
    assert cleaned == cleaned.strip()
    cleaned.encode("utf-8")


@settings(max_examples=200)
@given(st.one_of(st.binary(max_size=300), st.text(max_size=300)))
def test_any_payload_decodes_or_is_refused_clearly(data: bytes | str) -> None:
    try:
        inbound = decode_frame(data, limits=LIMITS)
    except FrameError as error:
        assert str(error)
    else:
        assert isinstance(inbound, Inbound)


frames = st.fixed_dictionaries(
    {"type": st.sampled_from(["message", "voice", "photo", "button", "other"])},
    optional={
        "text": st.one_of(st.text(max_size=80), st.integers(), st.none()),
        "data": st.one_of(st.text(alphabet="QUJDRA=+/!\n ", max_size=120), st.integers()),
        "mime": st.sampled_from(["audio/webm", "image/png", "text/plain", "", None, 3]),
        "payload": st.one_of(st.text(max_size=20), st.lists(st.integers())),
        "id": st.one_of(st.text(max_size=5), st.floats()),
        "name": st.one_of(st.text(max_size=10), st.booleans()),
    },
)


@settings(max_examples=200)
@given(frames)
def test_any_json_frame_decodes_within_limits_or_is_refused(frame: dict) -> None:
    try:
        inbound = decode_frame(json.dumps(frame), limits=LIMITS)
    except FrameError as error:
        assert str(error)
        return
    assert len(inbound.text) <= LIMITS.max_text_chars
    assert inbound.text or inbound.payload or inbound.attachment
    if inbound.attachment is not None:
        assert 0 < (inbound.attachment.size or 0) <= LIMITS.max_upload_bytes


def test_flood_guard_refills_at_its_rate_and_closes_past_the_hard_cap() -> None:
    now = [0.0]
    guard = FloodGuard(FloodLimit(rate_per_s=2.0, burst=2, hard_cap=3), clock=lambda: now[0])
    assert [guard.admit() for _ in range(4)] == [Verdict.ACCEPT, Verdict.ACCEPT, Verdict.REFUSE, Verdict.REFUSE]
    now[0] += 0.5
    assert guard.admit() is Verdict.ACCEPT
    assert [guard.admit() for _ in range(3)] == [Verdict.REFUSE, Verdict.REFUSE, Verdict.CLOSE]


def test_flood_guard_forgives_refusals_over_time() -> None:
    now = [0.0]
    guard = FloodGuard(FloodLimit(rate_per_s=1.0, burst=1, hard_cap=2), clock=lambda: now[0])
    assert [guard.admit() for _ in range(3)] == [Verdict.ACCEPT, Verdict.REFUSE, Verdict.REFUSE]
    now[0] += 10.0
    assert [guard.admit() for _ in range(3)] == [Verdict.ACCEPT, Verdict.REFUSE, Verdict.REFUSE]
    assert guard.admit() is Verdict.CLOSE


async def test_hub_forgets_idle_sessions_but_keeps_undelivered_replies() -> None:
    now = [0.0]
    hub = SessionHub(max_pending=5, max_sessions=100, idle_ttl_s=60.0, clock=lambda: now[0])
    await hub.deliver("idle-session", {"type": "typing"}, keep=False)
    await hub.deliver("waiting-session", {"type": "reply", "text": "x"}, keep=True)
    assert len(hub) == 2
    now[0] += 61.0
    await hub.deliver("new-session", {"type": "typing"}, keep=False)
    assert len(hub) == 2 and hub.undelivered("waiting-session") == 1


async def test_hub_makes_room_past_max_sessions_oldest_first(caplog) -> None:
    hub = SessionHub(max_pending=5, max_sessions=2)
    for name in ("first", "second", "third"):
        await hub.deliver(name, {"type": "reply", "text": name}, keep=True)
    assert len(hub) == 2
    assert (hub.undelivered("first"), hub.undelivered("second"), hub.undelivered("third")) == (0, 1, 1)
    assert "forgot session first with 1 undelivered replies" in caplog.text


@pytest.mark.parametrize("text", ["\u200b\u200b", "\ufeff", "\u2060", "\u200d", "\u200c \u180e\n\u2061"])
def test_text_with_only_invisible_format_characters_is_empty(text: str) -> None:
    assert clean_text(text) == ""


@pytest.mark.parametrize(
    "text", ["👨\u200d👩\u200d👧", "می\u200cخواهم", "\ufeffhello", "🏴\U000e0067\U000e0062\U000e007f"]
)
def test_format_characters_beside_visible_text_are_kept(text: str) -> None:
    assert clean_text(text) == text


def test_a_number_past_the_digit_limit_is_a_frame_error() -> None:
    with pytest.raises(FrameError, match="number too long"):
        decode_frame('{"type": "message", "text": "hi", "id": ' + "9" * 5000 + "}", limits=LIMITS)


BIG = ChatLimits(max_text_chars=10, max_upload_bytes=100_000, voice=True, photo=True)
"""Text frames up to about 16 KiB: bigger ones take the upload path."""


def upload(size: int) -> tuple[bytes, str]:
    clip = bytes(range(256)) * (size // 256)
    return clip, base64.b64encode(clip).decode()


@pytest.mark.parametrize(
    "layout",
    [
        '{{"type": "voice", "mime": "audio/ogg", "data": "{data}"}}',
        '{{"data" : "{data}", "id": "c1", "mime": "audio/ogg", "type": "voice"}}',
        '{{"mime": "audio/ogg", "data":"{escaped}", "type": "voice", "text": "caption"}}',
    ],
)
def test_a_large_upload_is_read_without_parsing_its_data(layout: str) -> None:
    clip, data = upload(60_000)
    raw = layout.format(data=data, escaped=data.replace("/", "\\/")).encode()
    assert len(raw) > BIG.max_text_frame_bytes
    inbound = decode_frame(raw, limits=BIG)
    attachment = inbound.attachment
    assert attachment is not None and (attachment.kind, attachment.size) == ("voice", len(clip))


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (json.dumps({"type": "message", "text": "x" * 20_000}), "too long to read"),
        (json.dumps({"type": "message", "text": "hi", "data": "A" * 20_000}), "too long to read"),
        (json.dumps({"type": "voice", "mime": "audio/ogg", "text": "x" * 20_000, "data": "QUJD"}), "too long to read"),
        (json.dumps({"type": "voice", "mime": "audio/ogg", "x": {"data": "A" * 20_000}}), "must be JSON objects"),
        (json.dumps({"type": "voice", "mime": "audio/ogg", "data": "QUJD" * 5000 + "==AA"}), "not valid base64"),
        (json.dumps({"type": "voice", "mime": "audio/ogg", "data": "QUJD" * 5000 + "\\n"}), "not valid base64"),
        ('{"type": "voice", "mime": "audio/ogg", "data": "' + "QUJD" * 5000, "must be JSON objects"),
    ],
)
def test_a_large_frame_that_is_not_a_clean_upload_is_refused(raw: str, expected: str) -> None:
    assert len(raw) > BIG.max_text_frame_bytes
    with pytest.raises(FrameError, match=expected):
        decode_frame(raw.encode(), limits=BIG)


@settings(max_examples=100)
@given(frames, st.integers(min_value=13_000, max_value=20_000), st.binary(max_size=8))
def test_large_and_small_frames_decode_alike(frame: dict, size: int, tail: bytes) -> None:
    """The same frame with a large ``data`` gives the same answer through the upload path as through full JSON."""
    clip = (bytes(range(256)) * 80)[:size] + tail
    frame = {**frame, "data": base64.b64encode(clip).decode()}
    raw = json.dumps(frame).encode()
    roomy = ChatLimits(max_text_chars=10_000, max_upload_bytes=100_000, voice=True, photo=True)
    assert len(raw) > BIG.max_text_frame_bytes and len(raw) < roomy.max_text_frame_bytes
    outcomes = []
    for limits in (BIG, roomy):
        try:
            inbound = decode_frame(raw, limits=limits)
        except FrameError as error:
            outcomes.append(("refused", "too long" in str(error)))
        else:
            outcomes.append((inbound.text, inbound.attachment.size if inbound.attachment else None))
    if outcomes[0] == ("refused", True):  # a text frame this large is refused only by the tight limits
        assert frame["type"] not in ("voice", "photo")
    else:
        assert outcomes[0] == outcomes[1]


def test_client_address_is_the_ipv4_address_or_the_ipv6_slash_64() -> None:
    assert client_address("203.0.113.7") == "203.0.113.7"
    assert client_address("::ffff:203.0.113.7") == "203.0.113.7"
    assert client_address("2001:db8:1:2:aaaa::1") == client_address("2001:db8:1:2:bbbb::9") == "2001:db8:1:2::/64"
    assert client_address(None) == "unknown"


def test_socket_counter_forgets_addresses_and_sessions_with_no_socket() -> None:
    counter = SocketCounter(ClientLimits(max_sockets=3, max_sockets_per_address=2, max_sockets_per_session=1))
    assert counter.open("a", "s1") is None and counter.open("a", "s2") is None
    assert "tabs" in (counter.open("b", "s1") or "")
    assert "network" in (counter.open("a", "s3") or "")
    assert counter.open("b", "s3") is None
    assert "full" in (counter.open("c", "s4") or "")
    for address, session in (("a", "s1"), ("a", "s2"), ("b", "s3")):
        counter.close(address, session)
    assert len(counter) == 0 and not counter._by_address and not counter._by_session


async def test_hub_makes_a_new_session_without_walking_the_others() -> None:
    hub = SessionHub(max_sessions=20_000)
    for number in range(10_000):
        await hub.deliver(f"session-{number}", {"type": "typing"}, keep=False)
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        await hub.deliver("one-more", {"type": "typing"}, keep=False)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert len(hub) == 10_001 and peak < 50_000  # a copy of the 10 000 sessions alone is over 500 kB


async def test_hub_keeps_idle_sessions_with_waiting_replies_and_forgets_them_first_when_full(caplog) -> None:
    now = [0.0]
    hub = SessionHub(max_pending=5, max_sessions=3, idle_ttl_s=60.0, clock=lambda: now[0])
    await hub.deliver("waiting", {"type": "reply", "text": "x"}, keep=True)
    await hub.deliver("delivered", {"type": "typing"}, keep=False)
    now[0] = 100.0
    await hub.deliver("recent", {"type": "typing"}, keep=False)
    assert len(hub) == 2 and hub.undelivered("waiting") == 1  # "delivered" went idle and was forgotten
    await hub.deliver("recent-2", {"type": "typing"}, keep=False)
    await hub.deliver("recent-3", {"type": "typing"}, keep=False)
    assert len(hub) == 3 and hub.undelivered("waiting") == 0
    assert "forgot session waiting with 1 undelivered replies" in caplog.text
