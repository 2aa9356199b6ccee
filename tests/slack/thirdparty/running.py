"""Serve a slack-bolt app to the fake Slack as its ``main()`` would: over HTTP (the Events API) or Socket Mode,
for the tests of the apps in this folder (written like the slack-bolt example apps they imitate)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp

from adapters.testing.slack import FakeSlack


@asynccontextmanager
async def serving(fake: FakeSlack, app: AsyncApp, *, transport: str = "http") -> AsyncIterator[None]:
    """Run ``app`` against ``fake``: ``http`` serves ``app.web_app()`` and points ``events_url`` at it;
    ``socket`` connects an ``AsyncSocketModeHandler`` (the fake then sends every request over the socket)."""
    if transport == "http":
        fake.events_url = await fake.serve(app.web_app())
        yield
        return
    handler = AsyncSocketModeHandler(app, fake.app_token)
    await handler.connect_async()
    try:
        await fake.wait_until(lambda: fake.socket_connections > 0)
        yield
    finally:
        await handler.close_async()
