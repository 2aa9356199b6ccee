"""Find by photo on real photographs: scikit-image's and scikit-learn's sample photos are a small catalogue, augmented
copies (cropped, turned, re-lit, recompressed by a messaging app, all at once) are shoppers' photos. Prints the
recall table docs/vision.md quotes; asserts floors well under what was measured."""

from __future__ import annotations

import asyncio
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from bot.app import Components, build_pipeline, load_components
from bot.config import Settings
from bot.messages import Attachment, ConversationRef, Message, Reply
from vision import Labeller, PhotoDescriber
from vision.similar import PhotoIndex
from vision.testing import AUGMENTATIONS, augment

pytestmark = pytest.mark.slow

SKIMAGE_PHOTOS = (
    "astronaut.png",
    "brick.png",
    "camera.png",
    "chelsea.png",
    "coffee.png",
    "coins.png",
    "grass.png",
    "gravel.png",
    "hubble_deep_field.jpg",
    "ihc.png",
    "moon.png",
    "motorcycle_left.png",
    "page.png",
    "retina.jpg",
    "rocket.jpg",
    "text.png",
    "cell.png",
    "clock_motion.png",
    "microaneurysms.png",
    "color.png",
)
SKLEARN_PHOTOS = ("china.jpg", "flower.jpg")
COPIES = 3
FLOORS = {"crop": 0.8, "rotate": 0.8, "relight": 0.8, "recompress": 0.9, "all": 0.6}


def catalogue() -> dict[str, bytes]:
    skimage = pytest.importorskip("skimage")
    sklearn = pytest.importorskip("sklearn")
    folders = [(Path(skimage.__file__).parent / "data", SKIMAGE_PHOTOS)]
    folders.append((Path(sklearn.__file__).parent / "datasets" / "images", SKLEARN_PHOTOS))
    return {name.split(".")[0]: (folder / name).read_bytes() for folder, names in folders for name in names}


@pytest.fixture(scope="module")
def labeller(describer: PhotoDescriber) -> Labeller:
    assert describer.labeller is not None
    return describer.labeller


def test_a_shoppers_photo_of_a_catalogue_item_finds_it(labeller: Labeller, tmp_path: Path) -> None:
    items = catalogue()
    index = PhotoIndex.build(labeller, list(items.items()))
    index.save(tmp_path / "photos")
    index = PhotoIndex.load(tmp_path / "photos")
    assert len(index) == len(items)
    rows = []
    for kind in AUGMENTATIONS:
        queries, truth = [], []
        for n, (product, data) in enumerate(items.items()):
            image = Image.open(io.BytesIO(data))
            for copy in range(COPIES):
                queries.append(augment(image, kind, seed=1000 * copy + n))
                truth.append(product)
        found = index.search(labeller, queries, k=5)
        at1 = sum(hits[0][0] == want for hits, want in zip(found, truth, strict=True)) / len(truth)
        at5 = sum(want in [p for p, _ in hits] for hits, want in zip(found, truth, strict=True)) / len(truth)
        rows.append((kind, len(truth), at1, at5))
    print(f"\n| augmentation | queries | recall@1 | recall@5 |  ({len(items)} catalogue photos)")
    for kind, count, at1, at5 in rows:
        print(f"| {kind} | {count} | {at1:.3f} | {at5:.3f} |")
    for kind, _, at1, at5 in rows:
        assert at5 >= FLOORS[kind] and at1 >= FLOORS[kind] - 0.2, (kind, at1, at5)


def test_several_photos_of_one_product_count_once(labeller: Labeller) -> None:
    items = catalogue()
    coffee = Image.open(io.BytesIO(items["coffee"]))
    index = PhotoIndex.build(
        labeller, [("mug", items["coffee"]), ("mug", augment(coffee, "crop", seed=1)), ("cat", items["chelsea"])]
    )
    [hits] = index.search(labeller, [augment(coffee, "relight", seed=2)], k=5)
    assert [product for product, _ in hits] == ["mug", "cat"]
    assert hits[0][1] > hits[1][1]


@pytest.fixture(scope="module")
def photo_catalogue(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A catalogue of four products, each with a product photo (sample photographs stand in for products)."""
    folder = tmp_path_factory.mktemp("shop")
    items = catalogue()
    products = []
    for n, (photo, name) in enumerate(
        [
            ("coffee", "Crema Espresso Cup"),
            ("chelsea", "Tabby Cat Poster"),
            ("rocket", "Launch Day Print"),
            ("motorcycle_left", "Moto Model Kit"),
        ]
    ):
        (folder / f"{photo}.png").write_bytes(items[photo])
        products.append(
            {
                "sku": f"PB-HM-{n:03d}",
                "category": "home",
                "price": 80.0 + n,
                "currency": "CNY",
                "stock": 5 + n,
                "colours": ["white"],
                "images": [f"{photo}.png"],
                "en": {"name": name, "description": f"{name}, printed in house."},
            }
        )
    (folder / "products.json").write_text(json.dumps(products), encoding="utf-8")
    return folder


def test_kb_build_indexes_the_catalogue_photos_and_a_shoppers_photo_gets_the_product(
    photo_catalogue: Path, tmp_path: Path, demo_settings: Settings
) -> None:
    out = tmp_path / "index"
    env = {**os.environ, "KEFU_DATA_DIR": str(demo_settings.data_dir)}
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "from bot.cli import main; main()",
            "kb",
            "build",
            str(photo_catalogue),
            "--out",
            str(out),
            "--json",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["photos"] == 4
    assert (out / "photos" / "photos.faiss").is_file()

    settings = demo_settings.model_copy(update={"kb": demo_settings.kb.model_copy(update={"path": out})})
    components = load_components(settings, speech=False)
    cup = augment(Image.open(io.BytesIO(catalogue()["coffee"])), "all", seed=5)
    reply = asyncio.run(_turn(settings, components, cup))
    assert "Crema Espresso Cup" in reply.text and "PB-HM-000" in reply.text and "80 CNY" in reply.text
    assert "matched PB-HM-000 by photo" in (reply.reason or "")
    stranger = asyncio.run(_turn(settings, components, catalogue()["astronaut"]))
    assert "couldn't match this photo" in stranger.text and not stranger.sources


async def _turn(settings: Settings, components: Components, photo: bytes) -> Reply:
    pipeline = build_pipeline(settings, components)
    attachment = Attachment.from_bytes("photo", photo, mime_type="image/jpeg")
    try:
        return await pipeline.handle(Message(ConversationRef("test", "find"), user_id="u", attachments=(attachment,)))
    finally:
        await pipeline.engines.aclose()
