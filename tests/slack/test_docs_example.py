"""The "Testing your own Slack app" example of docs/slack.md, verbatim, run as a test (and checked against the doc)."""
# ruff: noqa: I001  (the example keeps the compact import block the doc shows)

from pathlib import Path

# --- example start ---
from slack_bolt.async_app import AsyncApp

async def test_app_echoes_in_the_thread(fake_slack):  # the fixture comes with kefu's pytest plugin
    app = AsyncApp(client=fake_slack.web_client(), signing_secret=fake_slack.signing_secret)
    @app.event("app_mention")
    async def echo(event, say):
        await say(f"You said: {event['text']}", thread_ts=event["ts"])

    fake_slack.events_url = await fake_slack.serve(app.web_app())
    hello = await fake_slack.user("U1001").mentions("C0GENERAL", "hello")
    [reply] = await fake_slack.wait_for_messages("C0GENERAL", 1, thread_ts=hello.ts)
    assert reply.text == f"You said: <@{fake_slack.bot_user_id}> hello"
# --- example end ---


def test_the_doc_shows_exactly_this_example() -> None:
    source = Path(__file__).read_text(encoding="utf-8")
    example = source.split("# --- example start ---\n")[1].split("# --- example end ---")[0]
    doc = (Path(__file__).parents[2] / "docs" / "slack.md").read_text(encoding="utf-8")
    assert f"```python\n{example}```" in doc
    assert len(example.strip().splitlines()) <= 15
