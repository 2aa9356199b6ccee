"""Personal data masking: phones found by libphonenumber in any grouping or width, cards by the Luhn check."""

from __future__ import annotations

import logging
import unicodedata
from collections.abc import Callable

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

from bot.pii import mask_pii

FULL_WIDTH = str.maketrans("0123456789+-. ()", "０１２３４５６７８９＋－．\u3000（）")


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("card 4111.1111.1111.1111 ok", "card [card …1111] ok"),
        ("call 138.0013.8000.", "call [phone …8000]."),
        ("电话：１３８００１３８０００，谢谢", "电话：[phone …8000]，谢谢"),
        ("卡号 ４１１１ １１１１ １１１１ １１１１。", "卡号 [card …1111]。"),
        ("amex 3782 822463 10005", "amex [card …0005]"),
        ("+44 20 7946 0958 or +1 (415) 555-0134", "[phone …0958] or [phone …0134]"),
        ("010-12345678, 0755-86013388", "[phone …5678], [phone …3388]"),
        ("telegram: ignoring duplicate update 1754632107005", "telegram: ignoring duplicate update 1754632107005"),
        ("order #100234 of 2026-11-24 13:05, ¥4999.00, ts 1733568000.123", None),
        ("XL 96-100/78-82, XXL 100-104/82-86 (chest/waist cm)", None),
        ("not a readable audio file ([Errno -1094995529] Invalid data found)", None),
        ("tel 010-12345678 (not -1094995529)", "tel [phone …5678] (not -1094995529)"),
    ],
)
def test_mask_pii(text: str, masked: str | None) -> None:
    assert mask_pii(text) == (masked or text)


def _luhn_complete(body: str) -> str:
    """``body`` plus the check digit that makes it pass the Luhn check."""
    for check in "0123456789":
        digits = body + check
        total = sum(
            int(c) * (2 if i % 2 else 1) - (9 if int(c) * (2 if i % 2 else 1) > 9 else 0)
            for i, c in enumerate(reversed(digits))
        )
        if total % 10 == 0:
            return digits
    raise AssertionError("unreachable")


def _grouped(digits: str, sizes: list[int], separator: str) -> str:
    groups, at = [], 0
    for size in sizes:
        groups.append(digits[at : at + size])
        at += size
    return separator.join(groups)


separators = st.sampled_from(["", " ", "-", "."])
words = st.sampled_from(["", "my card ", "卡号", "pay with ", "号码是 "])
ends = st.sampled_from(["", " thanks", "，谢谢", ".", " ok?"])


@given(
    st.sampled_from("23456"), st.text("0123456789", min_size=14, max_size=14), separators, words, ends, st.booleans()
)
def test_any_card_number_is_masked_down_to_its_last_four(
    first: str, body: str, separator: str, before: str, after: str, full_width: bool
) -> None:
    number = _luhn_complete(first + body)
    written = _grouped(number, [4, 4, 4, 4], separator)
    text = before + (written.translate(FULL_WIDTH) if full_width else written) + after
    assert mask_pii(text) == f"{before}[card …{number[-4:]}]{after}"


MOBILE_PREFIXES = ["130", "133", "135", "138", "139", "150", "158", "166", "177", "180", "186", "189", "199"]


@given(
    st.sampled_from(MOBILE_PREFIXES),
    st.text("0123456789", min_size=8, max_size=8),
    separators,
    words,
    ends,
    st.sampled_from(["", "+86 ", "+86-"]),
    st.booleans(),
)
def test_any_mainland_mobile_number_is_masked_in_any_grouping_or_width(
    prefix: str, rest: str, separator: str, before: str, after: str, country: str, full_width: bool
) -> None:
    number = prefix + rest
    written = country + _grouped(number, [3, 4, 4], separator)
    text = before + (written.translate(FULL_WIDTH) if full_width else written) + after
    assert mask_pii(text) == f"{before}[phone …{number[-4:]}]{after}"


@given(st.integers(min_value=10**12, max_value=10**19 - 1))
def test_numbers_that_fail_the_luhn_check_are_never_taken_for_cards(number: int) -> None:
    digits = str(number)
    assume(_luhn_complete(digits[:-1]) != digits)
    assert "[card" not in mask_pii(f"update {digits} handled")


@given(st.text())
def test_text_with_no_digits_or_at_sign_is_left_exactly_as_written(text: str) -> None:
    assume("@" not in text and not any(ch.isdigit() for ch in unicodedata.normalize("NFKC", text)))
    assert mask_pii(text) == text


class _Order(BaseModel):
    order_id: int


def test_a_logged_validation_error_has_its_phone_masked(
    kefu_logging: Callable[[str], object], capsys: pytest.CaptureFixture[str]
) -> None:
    kefu_logging("INFO")
    with pytest.raises(ValidationError) as caught:
        _Order(order_id="138.0013.8000")  # type: ignore[arg-type]
    logging.getLogger("bot.actions").warning("order lookup refused: %s", caught.value)
    logged = capsys.readouterr().err
    assert "input_value='[phone …8000]'" in logged and "0013" not in logged
    assert len(logged.splitlines()) == 1
