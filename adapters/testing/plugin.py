"""pytest plugin (entry point ``pytest11``): fixtures for testing bots against loopback fake platforms."""

from __future__ import annotations
