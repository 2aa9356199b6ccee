"""A loopback fake Slack for tests: the real slack-bolt / slack_sdk clients (or any other) talk to it.

    async with FakeSlack() as fake:                       # or the ``fake_slack`` pytest fixture
        fake.events_url = app_url + "/slack/events"       # where Slack's requests go, signed
        await fake.user("U1001").mentions("C0GENERAL", "hello")
        [answer] = await fake.wait_for_messages("C0GENERAL", 1)
        fake.fail_next("chat.postMessage", status=429, retry_after=1)

It serves ``/api/<method>`` on 127.0.0.1 (give ``fake.base_url`` to ``AsyncWebClient(base_url=...)``) and
needs neither slack_sdk nor slack-bolt itself.
"""

from __future__ import annotations

from adapters.testing.slack.events import signature, signed_headers
from adapters.testing.slack.records import ApiCall, Delivery, SentMessage
from adapters.testing.slack.server import FakeSlack
from adapters.testing.slack.users import FakeSlackUser

__all__ = ["ApiCall", "Delivery", "FakeSlack", "FakeSlackUser", "SentMessage", "signature", "signed_headers"]
