"""The fake Slack itself, through the real slack_sdk client: Slack's answers and checks, signing, files."""

from __future__ import annotations

import time

import aiohttp
import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.signature import SignatureVerifier
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.files import download, token_may_go_to
from adapters.slack.webapi import DeliveryFailed, WebApi
from adapters.testing.slack import FakeSlack, signed_headers
from bot.errors import BadInput, DeliveryDeferred, InputTooLarge


def client(fake: FakeSlack, token: str | None = None) -> AsyncWebClient:
    return AsyncWebClient(token=token or fake.bot_token, base_url=fake.base_url)


def test_signatures_are_the_ones_slack_sdk_verifies() -> None:
    body = b'{"type":"event_callback"}'
    verifier = SignatureVerifier("secret")
    headers = signed_headers("secret", body)
    assert verifier.is_valid(body, headers["X-Slack-Request-Timestamp"], headers["X-Slack-Signature"])
    stale = signed_headers("secret", body, timestamp=time.time() - 301)
    assert not verifier.is_valid(body, stale["X-Slack-Request-Timestamp"], stale["X-Slack-Signature"])
    forged = signed_headers("other", body)
    assert not verifier.is_valid(body, forged["X-Slack-Request-Timestamp"], forged["X-Slack-Signature"])


async def test_tokens_are_checked(fake_slack: FakeSlack) -> None:
    assert (await client(fake_slack).auth_test())["user_id"] == fake_slack.bot_user_id
    with pytest.raises(SlackApiError) as refused:
        await client(fake_slack, "xoxb-wrong").auth_test()
    assert refused.value.response["error"] == "invalid_auth"
    with pytest.raises(SlackApiError, match="invalid_auth"):
        await client(fake_slack).apps_connections_open(app_token="xapp-wrong")
    opened = await client(fake_slack).apps_connections_open(app_token=fake_slack.app_token)
    assert opened["url"].startswith("ws://127.0.0.1:")


@pytest.mark.filterwarnings("ignore:The top-level `text` argument is missing")
async def test_messages_threads_updates_and_views(fake_slack: FakeSlack) -> None:
    web = client(fake_slack)
    root = await web.chat_postMessage(channel="C1", text="root")
    reply = await web.chat_postMessage(channel="C1", text="in thread", thread_ts=root["ts"])
    await web.chat_update(channel="C1", ts=reply["ts"], text="edited")
    thread = await web.conversations_replies(channel="C1", ts=root["ts"])
    assert [m["text"] for m in thread["messages"]] == ["root", "edited"]
    assert fake_slack.messages[1].edits == 1 and fake_slack.messages[1].thread_ts == root["ts"]
    await web.chat_postEphemeral(channel="C1", user="U9", text="only you")
    assert fake_slack.messages[-1].ephemeral_to == "U9"
    view = await web.views_open(
        trigger_id=fake_slack.new_trigger_id("U1"),
        view={"type": "modal", "title": {"type": "plain_text", "text": "Edit"}},
    )
    assert view["view"]["id"] and fake_slack.views[0]["type"] == "modal"
    for call, error in [
        (web.chat_update(channel="C1", ts="1.2", text="x"), "message_not_found"),
        (web.chat_postMessage(channel="C1"), "no_text"),
        (web.chat_postMessage(channel="C1", text="x" * 40_001), "msg_too_long"),
        (
            web.chat_postMessage(
                channel="C1", text="x", blocks=[{"type": "section", "text": {"type": "mrkdwn", "text": "x" * 3001}}]
            ),
            "invalid_blocks",
        ),
        (web.files_info(file="F404"), "file_not_found"),
    ]:
        with pytest.raises(SlackApiError) as refused:
            await call
        assert refused.value.response["error"] == error


async def test_private_files_need_the_bot_token(fake_slack: FakeSlack) -> None:
    info = fake_slack.add_file(b"RIFF" + b"a" * 100, name="clip.wav", mimetype="audio/wav")
    async with aiohttp.ClientSession() as session:
        async with session.get(info["url_private"]) as response:
            assert response.status == 200 and response.content_type == "text/html", "Slack's sign-in page"
        with pytest.raises(BadInput, match="sign-in page"):
            await download(
                session, info["url_private"], token="xoxb-wrong", api_base=fake_slack.base_url, max_bytes=1000
            )
        data = await download(
            session,
            info["url_private_download"],
            token=fake_slack.bot_token,
            api_base=fake_slack.base_url,
            max_bytes=1000,
        )
    assert data == b"RIFF" + b"a" * 100


async def test_downloads_are_capped(fake_slack: FakeSlack) -> None:
    big = bytes(32 * 1024 * 1024)
    quiet = fake_slack.add_file(big, name="long.webm", mimetype="audio/webm", announce_size=False)
    announced = fake_slack.add_file(big, name="long2.webm", mimetype="audio/webm")
    async with aiohttp.ClientSession() as session:
        with pytest.raises(InputTooLarge, match="stopped reading"):
            await download(
                session,
                quiet["url_private"],
                token=fake_slack.bot_token,
                api_base=fake_slack.base_url,
                max_bytes=100_000,
            )
        with pytest.raises(InputTooLarge):
            await download(
                session,
                announced["url_private"],
                token=fake_slack.bot_token,
                api_base=fake_slack.base_url,
                max_bytes=100_000,
                size=announced["size"],
            )
    assert fake_slack.served[announced["id"]] == 0, "refused before downloading"
    assert fake_slack.served[quiet["id"]] < len(big)


def test_the_token_goes_only_to_slack_or_the_api_base() -> None:
    base = "http://127.0.0.1:8000/api/"
    assert token_may_go_to("https://files.slack.com/files-pri/T1-F1/a.png", api_base="https://slack.com/api/")
    assert token_may_go_to("http://127.0.0.1:8000/files-pri/T1-F1/a.png", api_base=base)
    assert not token_may_go_to("http://files.slack.com/files-pri/T1-F1/a.png", api_base=base), "plain http"
    assert not token_may_go_to("https://evil.example/slack.com/a.png", api_base=base)
    assert not token_may_go_to("https://files.slack.com.evil.example/a.png", api_base=base)
    assert not token_may_go_to("http://127.0.0.1:9999/a.png", api_base=base), "another port"


async def test_response_urls_take_five_answers(fake_slack: FakeSlack) -> None:
    url = fake_slack.new_response_url("C1", "U1")
    async with aiohttp.ClientSession() as session:
        statuses = []
        for n in range(6):
            async with session.post(url, json={"text": f"answer {n}"}) as response:
                statuses.append(response.status)
    assert statuses == [200] * 5 + [404]
    assert all(m.ephemeral_to == "U1" and m.via == "response_url" for m in fake_slack.messages)


async def test_web_api_retries_what_slack_asks_to_retry(fake_slack: FakeSlack) -> None:
    web = WebApi(client(fake_slack), backoff_s=0.01, max_wait_s=5)
    fake_slack.fail_next("chat.postMessage", status=500, times=2)
    await web.call("chat.postMessage", {"channel": "C1", "text": "after two 500s"})
    assert [c.status for c in fake_slack.calls_to("chat.postMessage")] == [500, 500, 200] and web.retries == 2
    fake_slack.fail_next("chat.postMessage", status=200, error="channel_not_found")
    with pytest.raises(DeliveryFailed, match="channel_not_found"):
        await web.call("chat.postMessage", {"channel": "C404", "text": "x"})
    assert web.retries == 2, "an ok:false answer is not retried"


async def test_a_long_retry_after_is_handed_back_to_the_runtime(fake_slack: FakeSlack) -> None:
    web = WebApi(client(fake_slack), max_wait_s=5)
    fake_slack.fail_next("chat.postMessage", status=429, retry_after=60)
    with pytest.raises(DeliveryDeferred, match="rate limited"):
        await web.call("chat.postMessage", {"channel": "C1", "text": "x"})
    with pytest.raises(DeliveryDeferred):
        await web.call("chat.postMessage", {"channel": "C1", "text": "still held"})
    assert len(fake_slack.calls_to("chat.postMessage")) == 1, "held without calling Slack again"
    await web.call("chat.postEphemeral", {"channel": "C1", "user": "U1", "text": "another method is not held"})
