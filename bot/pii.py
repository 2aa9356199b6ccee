"""Personal data in free text: e-mail addresses, phone numbers and card-like numbers, masked before they are kept.

    mask_pii("call me on +86 138 0013 8000")   # "call me on [phone …8000]"
    install_log_filter()                       # every log record is masked from now on

Masking keeps a short tail (the last four digits, the e-mail domain) so that an operator can still tell
two numbers apart, but never enough to use one. Order numbers (six digits) and prices are left alone.
"""

from __future__ import annotations

import logging
import re

_EMAIL = re.compile(r"(?<![A-Za-z0-9._%+-])([A-Za-z0-9._%+-])[A-Za-z0-9._%+-]*@([A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+)")
_INTERNATIONAL = re.compile(r"(?<![A-Za-z0-9+])\+\d{1,3}[ .-]?(?:\(?\d{1,4}\)?[ .-]?){2,5}\d{2,4}(?![A-Za-z0-9])")
"""+86 138 0013 8000, +1 (415) 555-0134: masked before card numbers, which the digit count could also match."""
_CARD = re.compile(r"(?<![A-Za-z0-9+-])(?:\d[ -]?){12,18}\d(?![A-Za-z0-9-])")
_PHONE = re.compile(
    r"(?<![A-Za-z0-9+])(?:"
    r"1[3-9]\d[ -]?\d{4}[ -]?\d{4}"  # mainland mobile: 13800138000, 138-0013-8000
    r"|\(?\d{3}\)?[ .-]\d{3}[ .-]\d{4}"  # North American: (415) 555-0134, 415-555-0134
    r"|0\d{2,3}-\d{7,8}"  # mainland landline: 010-12345678
    r")(?![A-Za-z0-9])"
)


def _digits(text: str) -> str:
    return "".join(ch for ch in text if ch.isdigit())


def _card(match: re.Match[str]) -> str:
    return f"[card …{_digits(match.group(0))[-4:]}]"


def _phone(match: re.Match[str]) -> str:
    digits = _digits(match.group(0))
    if len(digits) < 7:
        return match.group(0)
    return f"[phone …{digits[-4:]}]"


def _email(match: re.Match[str]) -> str:
    return f"{match.group(1)}***@{match.group(2)}"


def mask_pii(text: str) -> str:
    """``text`` with e-mail addresses, card-like numbers (13-19 digits) and phone numbers masked."""
    if not text:
        return text
    text = _EMAIL.sub(_email, text)
    text = _INTERNATIONAL.sub(_phone, text)
    text = _CARD.sub(_card, text)
    return _PHONE.sub(_phone, text)


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
