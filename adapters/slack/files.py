"""Downloads of files shared in Slack (audio clips, images): ``url_private`` with the bot token, size-capped.

The token is sent only to Slack's own hosts (``*.slack.com``, ``*.slack-edge.com``) or to the host of the
configured API base (a test fake, an enterprise proxy), never to a URL an event merely names.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import aiohttp

from bot.errors import BadInput, InputTooLarge

DEFAULT_MAX_DOWNLOAD_BYTES = 20 * 1024 * 1024
"""The default of ``[speech] max_bytes`` and ``[vision] max_bytes``."""
_SLACK_HOSTS = ("slack.com", "slack-edge.com")


def token_may_go_to(url: str, *, api_base: str) -> bool:
    """True for an https URL on Slack's hosts, or any URL on the API base's own host and port."""
    target, base = urlsplit(url), urlsplit(api_base)
    if target.netloc and target.netloc == base.netloc and target.scheme == base.scheme:
        return True
    host = target.hostname or ""
    return target.scheme == "https" and any(host == h or host.endswith("." + h) for h in _SLACK_HOSTS)


async def download(
    session: aiohttp.ClientSession,
    url: str,
    *,
    token: str,
    api_base: str,
    max_bytes: int,
    size: int | None = None,
    timeout_s: float = 60.0,
) -> bytes:
    """The file at ``url``; refused before downloading when ``size`` is over ``max_bytes``, else as soon as the
    bytes read pass it (at most ``max_bytes`` plus one chunk is held)."""
    if size is not None and size > max_bytes:
        raise InputTooLarge(f"the file is {size} bytes, over the {max_bytes}-byte download limit")
    if not token_may_go_to(url, api_base=api_base):
        raise BadInput("this file is not hosted by Slack, so it was not downloaded")
    headers = {"Authorization": f"Bearer {token}"}
    async with session.get(url, headers=headers, timeout=aiohttp.ClientTimeout(total=timeout_s)) as response:
        if response.status != 200:
            raise BadInput(f"Slack answered {response.status} for the file; please share it again")
        if response.content_type == "text/html":
            raise BadInput("Slack sent a sign-in page instead of the file (does the app have the files:read scope?)")
        data = bytearray()
        async for chunk in response.content.iter_chunked(64 * 1024):
            data += chunk
            if len(data) > max_bytes:
                raise InputTooLarge(f"the file is over the {max_bytes}-byte download limit (stopped reading)")
    return bytes(data)
