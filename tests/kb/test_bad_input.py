"""Bad sources: each a typed error with a user-safe message that names the file."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from kb.errors import (
    BadSourceFormat,
    EmptySource,
    KbError,
    SourceNotFound,
    SourceTooLarge,
    UnknownEncoding,
    UnreadableSource,
)
from kb.sources import collect, load_source


def _check(error: pytest.ExceptionInfo[KbError], path: Path) -> None:
    assert str(path) in str(error.value)
    assert error.value.user_message == str(error.value)
    assert error.value.path == path


@pytest.mark.parametrize("content", [b"", b"   \n\n"])
def test_empty_file(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "faq.json"
    path.write_bytes(content)
    with pytest.raises(EmptySource) as error:
        load_source(path)
    _check(error, path)


def test_json_with_no_records_and_csv_with_header_only(tmp_path: Path) -> None:
    path = tmp_path / "faq.json"
    path.write_text("[]", encoding="utf-8")
    with pytest.raises(EmptySource, match="no records"):
        load_source(path)
    csv_path = tmp_path / "faq.csv"
    csv_path.write_text("question,answer\n", encoding="utf-8")
    with pytest.raises(EmptySource, match="no rows"):
        load_source(csv_path)


def test_a_directory_where_a_file_is_expected_is_unreadable(tmp_path: Path) -> None:
    path = tmp_path / "faq.json"
    path.mkdir()
    with pytest.raises(UnreadableSource) as error:
        load_source(path)
    _check(error, path)


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their mode")
def test_file_without_read_permission(tmp_path: Path) -> None:
    path = tmp_path / "faq.md"
    path.write_text("## Hours\n\nNine to six.", encoding="utf-8")
    path.chmod(0)
    with pytest.raises(UnreadableSource) as error:
        load_source(path)
    _check(error, path)


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nowhere.md"
    with pytest.raises(SourceNotFound) as error:
        load_source(path)
    _check(error, path)
    with pytest.raises(SourceNotFound):
        collect([path])


def test_200_mb_file_is_refused_before_reading(tmp_path: Path) -> None:
    path = tmp_path / "huge.md"
    with path.open("wb") as handle:
        handle.truncate(200 * 1024 * 1024)  # sparse: 200 MB by size, no disk used, and never read
    with pytest.raises(SourceTooLarge) as error:
        load_source(path)
    _check(error, path)
    assert "209.7 MB" in str(error.value)


def test_size_cap_is_configurable(tmp_path: Path) -> None:
    path = tmp_path / "faq.md"
    path.write_text("## Hours\n\n" + "Nine to six. " * 100, encoding="utf-8")
    with pytest.raises(SourceTooLarge):
        load_source(path, max_bytes=100)
    assert load_source(path, max_bytes=10_000)


@pytest.mark.parametrize(
    ("content", "match"),
    [
        ('question,answer\n"Hours?,Nine to six\n', "not valid CSV"),
        ("question,answer\nHours?,Nine,six\n", "row 2 has 3 fields"),
    ],
)
def test_broken_csv(tmp_path: Path, content: str, match: str) -> None:
    path = tmp_path / "faq.csv"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(BadSourceFormat, match=match) as error:
        load_source(path)
    _check(error, path)


def test_broken_json_and_yaml(tmp_path: Path) -> None:
    path = tmp_path / "faq.json"
    path.write_text('[{"question": "Hours?", "answer": ', encoding="utf-8")
    with pytest.raises(BadSourceFormat, match="not valid JSON") as error:
        load_source(path)
    _check(error, path)
    yaml_path = tmp_path / "faq.yaml"
    yaml_path.write_text("- question: [unclosed\n", encoding="utf-8")
    with pytest.raises(BadSourceFormat, match="not valid YAML"):
        load_source(yaml_path)


def test_broken_json_in_a_folder_is_reported_not_skipped(tmp_path: Path) -> None:
    (tmp_path / "faq.json").write_text("[{", encoding="utf-8")
    with pytest.raises(BadSourceFormat, match=r"faq\.json"):
        collect([tmp_path])


@pytest.mark.parametrize(
    "data",
    [
        "## Café\n\nCrème brûlée à la carte.".encode("latin-1"),
        bytes(range(128, 256)) * 4,
        b"\x00\x01\x02binary\x00data",
    ],
    ids=["latin-1", "byte-soup", "binary"],
)
def test_unknown_encoding(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "menu.md"
    path.write_bytes(data)
    with pytest.raises(UnknownEncoding) as error:
        load_source(path)
    _check(error, path)


@pytest.mark.parametrize("encoding", ["gb18030", "utf-16", "utf-8-sig"])
def test_known_encodings_are_read(tmp_path: Path, encoding: str) -> None:
    path = tmp_path / "policy.md"
    path.write_bytes("## 退货\n\n三十天内可以退货，需保留吊牌。".encode(encoding))
    (chunk,) = load_source(path)
    assert chunk.title == "退货" and "吊牌" in chunk.text and chunk.language == "zh"
