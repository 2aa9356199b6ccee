"""Find by photo on real photographs: scikit-image's and scikit-learn's sample photos are a small catalogue, augmented
copies (cropped, turned, re-lit, recompressed by a messaging app, all at once) are shoppers' photos. Prints the
recall table docs/vision.md quotes; asserts floors well under what was measured."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image

from vision import Labeller, PhotoDescriber
from vision.similar import PhotoIndex
from vision.testing import AUGMENTATIONS, augment

pytestmark = pytest.mark.slow

SKIMAGE_PHOTOS = (
    "astronaut.png", "brick.png", "camera.png", "chelsea.png", "coffee.png", "coins.png", "grass.png", "gravel.png",
    "hubble_deep_field.jpg", "ihc.png", "moon.png", "motorcycle_left.png", "page.png", "retina.jpg", "rocket.jpg",
    "text.png", "cell.png", "clock_motion.png", "microaneurysms.png", "color.png",
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
