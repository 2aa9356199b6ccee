"""Personal data in free text: e-mail addresses, phone numbers and card numbers, masked before they are kept.

    mask_pii("call me on +86 138 0013 8000")   # "call me on [phone …8000]"
    install_log_filter()                       # every log record is masked from now on

Masking keeps a short tail (the last four digits, the e-mail domain) so that an operator can still tell
two numbers apart, but never enough to use one. Detection runs on the text's NFKC form, so full-width
digits (１３８…) are found too, while the text around a match is kept exactly as written. Phone numbers
are found by libphonenumber (``phonenumbers``: mainland China by default, any country after a ``+``, in
any grouping: spaces, dashes, dots, brackets); card numbers are 13-19 digits of a payment network (first
digit 2-6) that pass the Luhn check. Order numbers, prices, dates and other ids are left alone.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Iterator

import phonenumbers

DEFAULT_REGION = "CN"
"""Where a number written without ``+`` and a country code is assumed to be."""
_EMAIL = re.compile(r"(?<![A-Za-z0-9._%+-])([A-Za-z0-9._%+-])[A-Za-z0-9._%+-]*@([A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+)")
_CARD = re.compile(r"(?<![A-Za-z0-9+.-])\d{4}([ .-]?)\d{4,6}(?:\1\d{3,5}){1,3}(?![A-Za-z0-9-]|\.\d)")
"""Four digits, then groups of 4-6 and 3-5 digits all joined by the same separator (or none): 4-4-4-4,
4-6-5 (Amex), 4-4-4-4-3 (19 digits); never runs of digits that merely sit side by side."""
_MIN_DIGITS = 7
"""No phone or card number has fewer digits: a text with fewer is returned at once."""

Span = tuple[int, int, str]


def _luhn(digits: str) -> bool:
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char) * (2 if position % 2 else 1)
        total += value - 9 if value > 9 else value
    return total % 10 == 0


def _digits(text: str) -> str:
    return "".join(ch for ch in text if ch.isdigit())


def _normalised(text: str) -> tuple[str, list[int]]:
    """``text`` in NFKC form (character by character) and, for each of its characters, the index in ``text``
    of the character it came from (plus one past the end)."""
    parts: list[str] = []
    origin: list[int] = []
    for index, char in enumerate(text):
        form = char if char.isascii() else unicodedata.normalize("NFKC", char)
        parts.append(form)
        origin.extend([index] * len(form))
    origin.append(len(text))
    return "".join(parts), origin


def _email(match: re.Match[str]) -> str:
    return f"{match.group(1)}***@{match.group(2)}"


def _emails(text: str) -> Iterator[Span]:
    for match in _EMAIL.finditer(text):
        yield match.start(), match.end(), _email(match)


def _cards(text: str) -> Iterator[Span]:
    for match in _CARD.finditer(text):
        digits = _digits(match.group(0))
        if 13 <= len(digits) <= 19 and digits[0] in "23456" and _luhn(digits):
            yield match.start(), match.end(), f"[card …{digits[-4:]}]"


def _phones(text: str) -> Iterator[Span]:
    for match in phonenumbers.PhoneNumberMatcher(text, DEFAULT_REGION):
        if "/" in match.raw_string:  # ranges such as a size chart's "100-104/82-86", never a written phone
            continue
        if _negative(text, match.start):  # an error code such as FFmpeg's "[Errno -1094995529]"
            continue
        yield match.start, match.end, f"[phone …{_digits(match.raw_string)[-4:]}]"


def _negative(text: str, start: int) -> bool:
    """Whether the number at ``start`` carries a minus sign of its own (a minus after a space or a non-digit)."""
    return start > 0 and text[start - 1] in "-\u2212" and (start == 1 or not text[start - 2].isdigit())


def mask_pii(text: str) -> str:
    """``text`` with e-mail addresses, card numbers and phone numbers masked; everything else as written."""
    if not text:
        return text
    normal, origin = _normalised(text)
    finders = (_emails,) if sum(ch.isdigit() for ch in normal) < _MIN_DIGITS else (_emails, _cards, _phones)
    spans: list[Span] = []
    for find in finders:
        for start, end, masked in find(normal):
            if not any(start < other_end and other_start < end for other_start, other_end, _ in spans):
                spans.append((start, end, masked))
    for start, end, masked in sorted(spans, reverse=True):
        text = text[: origin[start]] + masked + text[origin[end - 1] + 1 :]
    return text


def mask_email(address: str) -> str:
    """An e-mail address as ``l***@example.com`` (for showing which address an order uses)."""
    return _EMAIL.sub(_email, address)


class PiiFilter(logging.Filter):
    """A logging filter that masks personal data in each record's message and arguments before it is written."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a malformed record is logged as is, never dropped
            return True
        masked = mask_pii(message)
        if masked != message:
            record.msg, record.args = masked, None
        return True


def install_log_filter(logger: logging.Logger | None = None) -> PiiFilter:
    """Attach one ``PiiFilter`` to every handler of ``logger`` (the root logger by default); idempotent.

    Handler filters see the records of every child logger, which logger filters do not; handlers added later
    are covered by the filter on the logger itself for records logged directly on it.
    """
    target = logger or logging.getLogger()
    existing = next((f for f in target.filters if isinstance(f, PiiFilter)), None)
    pii = existing or PiiFilter()
    if existing is None:
        target.addFilter(pii)
    for handler in target.handlers:
        if not any(isinstance(f, PiiFilter) for f in handler.filters):
            handler.addFilter(pii)
    return pii
