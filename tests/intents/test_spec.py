"""The intents file: what parses, and a clear, typed error for each kind of bad file."""

from __future__ import annotations

import pytest

from bot.errors import ConfigError
from bot.intents import IntentsFileError, load_intents, parse_intents

GOOD = """
version: 1
languages: [en, zh]
intents:
  greeting:
    threshold: 0.4
    examples: [hello, hi there, 你好]
  goodbye:
    examples: [bye, see you, 再见]
  other:
    examples: [what's the weather, tell me a joke]
"""


def test_good_file_parses_with_thresholds_languages_and_oos(tmp_path) -> None:
    path = tmp_path / "intents.yaml"
    path.write_text(GOOD, encoding="utf-8")
    spec = load_intents(path)
    texts, labels = spec.examples()
    assert [i.name for i in spec.intents] == ["greeting", "goodbye", "other"]
    assert texts[:3] == ["hello", "hi there", "你好"] and labels.count("goodbye") == 3
    assert spec.thresholds == {"greeting": 0.4}
    assert spec.languages == ("en", "zh") and spec.out_of_scope == "other"
    assert len(spec.fingerprint) == 64 and spec.source == str(path)
    assert parse_intents(GOOD + " ").fingerprint != spec.fingerprint


def test_demo_store_file_is_valid(demo_spec) -> None:
    names = {i.name for i in demo_spec.intents}
    assert {
        "greeting",
        "order_status",
        "return_refund",
        "human_agent",
        "other",
    } <= names
    assert demo_spec.out_of_scope == "other"
    assert len(demo_spec.examples()[0]) >= 400


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "intents:\n  a: {examples: [hello]}\n  b: {examples: [bye, ciao]}\n",
            "'a' has 1 distinct example",
        ),
        (
            "intents:\n  a: [hello, hi]\n  b: [bye, Hello]\n",
            "'Hello' is listed under both 'a' and 'b'",
        ),
        (
            "languages: [en, xx]\nintents:\n  a: [hello, hi]\n  b: [bye, ciao]\n",
            "unknown language 'xx'",
        ),
        (
            "languages: en\nintents:\n  a: [hello, hi]\n  b: [bye, 再见]\n",
            "'再见' of intent 'b' is in cjk script",
        ),
        ("intents:\n  a: [hello, hi]\n", "at least 2 intents"),
        ("intents: [hello]\n", "non-empty mapping"),
        (
            "intents:\n  a: {examples: [x, y], threshold: 2}\n  b: [bye, ciao]\n",
            "threshold must be a number from 0 to 1",
        ),
        (
            "intents:\n  a: {examples: [x, y], when: 1}\n  b: [bye, ciao]\n",
            "unknown key(s) ['when']",
        ),
        ("version: 2\nintents: {}\n", "version 2 is not supported"),
        ("intents: [unclosed\n", "not valid UTF-8 YAML"),
        (
            "out_of_scope: nope\nintents:\n  a: [hello, hi]\n  b: [bye, ciao]\n",
            "'nope', which is not one of",
        ),
    ],
)
def test_bad_files_raise_a_clear_typed_error(text: str, expected: str) -> None:
    with pytest.raises(IntentsFileError) as caught:
        parse_intents(text, source="shop.yaml")
    assert expected in str(caught.value)
    assert str(caught.value).startswith("shop.yaml: ")
    assert isinstance(caught.value, ConfigError) and caught.value.user_message == str(caught.value)


def test_missing_file_names_the_path(tmp_path) -> None:
    with pytest.raises(IntentsFileError, match=r"missing\.yaml: cannot read the file"):
        load_intents(tmp_path / "missing.yaml")


def test_invalid_utf8_is_reported(tmp_path) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes("intents:\n  a: [caf\xe9, b]\n".encode("latin-1"))
    with pytest.raises(IntentsFileError, match="not valid UTF-8"):
        load_intents(path)
