"""Slack channel on slack-bolt (imported lazily: ``import adapters.slack`` does not import slack-bolt)."""

from __future__ import annotations

from adapters.feedback import Feedback
from adapters.slack.actions import Press
from adapters.slack.adapter import DEFAULT_API_BASE, EVENTS_PATH, SlackAdapter
from adapters.slack.conversations import Place
from adapters.slack.webapi import DeliveryFailed

__all__ = ["DEFAULT_API_BASE", "EVENTS_PATH", "DeliveryFailed", "Feedback", "Place", "Press", "SlackAdapter"]
