"""The photo describer from ``Settings.vision``, and find by photo over the catalogue's own photos."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from bot.app.device import resolve_device
from bot.app.knowledge import KbLocation
from bot.config import Settings
from bot.errors import ConfigError
from bot.protocols import Describer

if TYPE_CHECKING:
    from vision.describer import PhotoDescriber
    from vision.labels import Labeller
    from vision.similar import PhotoIndex

log = logging.getLogger(__name__)

PHOTO_INDEX = "photos"
"""The folder inside a knowledge-base index that holds its catalogue photos' index (find by photo)."""


def build_describer(settings: Settings, location: KbLocation | None = None) -> Describer | None:
    """The configured photo describer (its models load on the first photo); None when vision is off or its
    packages are missing (photos then get the "not enabled" answer), with a log line saying why. With the
    knowledge base's ``location``, the catalogue's photos (if any) are searched for look-alikes."""
    if settings.vision.backend == "off":
        return None
    try:
        import vision  # noqa: F401 - only to say plainly why photos are off
    except ImportError as error:
        log.warning("photos are off: the vision engine cannot be imported (%s)", error)
        return None
    try:
        describer = load_describer(settings)
    except ImportError as error:
        log.warning("photos are off: %s", error)
        return None
    except ValueError as error:
        raise ConfigError(f"vision: {error}") from None
    if location is not None and describer.labeller is not None:
        try:
            describer.catalogue = open_photo_index(location, describer.labeller)
        except (OSError, ValueError) as error:
            log.warning("find by photo is off: the catalogue's photos could not be indexed: %s", error)
    return describer


def load_describer(settings: Settings, *, backend: str | None = None, model: str | None = None) -> PhotoDescriber:
    """``vision.load_describer`` with ``Settings.vision`` (``backend``/``model`` override it); raises ``ImportError``
    when the backend's packages are missing and ``ValueError`` for a bad option."""
    import vision

    options = settings.vision
    return vision.load_describer(
        backend=backend or (options.backend if options.backend != "off" else "classifier"),
        model=model or options.model,
        device=resolve_device(settings, options.device),
        labels=options.labels,
        ocr=options.ocr,
        limits=vision.ImageLimits(
            max_bytes=options.max_bytes, max_pixels=options.max_pixels, max_side=options.max_side
        ),
        base_url=options.base_url,
        api_key=options.api_key.get_secret_value() if options.api_key else None,
        timeout_s=options.timeout_s,
    )


def catalogue_photos(sources: Sequence[Path]) -> list[tuple[str, Path]]:
    """``(sku, image file)`` for each photo a product record names: ``"images": ["shoe.jpg", …]`` (``;`` between
    names in CSV), relative to the catalogue file."""
    from kb.errors import KbError
    from kb.records import parse_records, record_kind

    pairs = []
    for path in sources:
        if path.suffix.lower() not in (".json", ".yaml", ".yml", ".csv"):
            continue
        try:
            records = parse_records(path, path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, KbError):
            continue  # the text index reports a bad source
        if record_kind(records) != "product":
            continue
        for record in records:
            images = record.get("images") or []
            names = [part.strip() for part in images.split(";")] if isinstance(images, str) else list(images)
            pairs += [(str(record["sku"]), path.parent / str(name)) for name in names if str(name).strip()]
    return pairs


def open_photo_index(location: KbLocation, labeller: Labeller) -> PhotoIndex | None:
    """The index of the catalogue's photos in ``location.index/photos``: rebuilt when the photos changed, None when
    the catalogue names none. A missing photo is skipped with a log line; an unreadable one raises ``ValueError``."""
    from vision.similar import PhotoIndex

    folder = location.index / PHOTO_INDEX
    if not location.sources:
        return PhotoIndex.load(folder) if (folder / "photos.faiss").is_file() else None
    pairs = []
    for sku, path in catalogue_photos(location.sources):
        if path.is_file():
            pairs.append((sku, path))
        else:
            log.warning("catalogue photo %s of %s is missing; it is left out of find by photo", path, sku)
    if not pairs:
        return None
    stamp = hashlib.sha256(
        "\n".join(
            f"{sku}\t{path.resolve()}\t{path.stat().st_size}\t{path.stat().st_mtime_ns}" for sku, path in pairs
        ).encode()
    ).hexdigest()
    if (folder / "fingerprint").is_file() and (folder / "fingerprint").read_text(encoding="utf-8") == stamp:
        return PhotoIndex.load(folder)
    index = PhotoIndex.build(labeller, [(sku, path.read_bytes()) for sku, path in pairs])
    index.save(folder)
    (folder / "fingerprint").write_text(stamp, encoding="utf-8")
    log.info("indexed %d catalogue photos of %d products for find by photo", len(index), len(set(index.ids)))
    return index
